"""Reading a lab's spreadsheet (CSV or XLSX) into a header and rows, within bounds: the
file's size, its rows and columns are limited, an XLSX is read with openpyxl's read_only
(streaming) mode after its zip directory was checked, and a CSV is decoded once."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError

from labtrack.exchange import zipsafe
from labtrack.measurements.uploads import size_text

XLSX_MAX_UNPACKED_BYTES = 200 * 1024 * 1024


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)


def _limit_rows(count: int) -> None:
    limit = settings.LABTRACK_IMPORT_MAX_ROWS
    if count > limit:
        raise ValidationError(f"The sheet has more than {limit} rows; split it into files of at most {limit} "
                              "rows. Nothing was imported.")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _build(rows_iter, first_row_number: int) -> Sheet:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    max_columns = settings.LABTRACK_IMPORT_MAX_COLUMNS
    for number, cells in enumerate(rows_iter, start=first_row_number):
        cells = list(cells)
        while cells and _blank(cells[-1]):
            cells.pop()
        if headers is None:
            if not cells:
                continue  # blank lines above the header
            if len(cells) > max_columns:
                raise ValidationError(f"The sheet has {len(cells)} columns, more than the {max_columns} LabTrack reads.")
            headers = ["" if c is None else str(c).strip() for c in cells]
            continue
        if not cells:
            continue
        if len(cells) > len(headers):
            extra = cells[len(headers):]
            if any(not _blank(c) for c in extra):
                raise ValidationError(f"Row {number} has values right of the last titled column; give every "
                                      "column a title in the first row.")
            cells = cells[:len(headers)]
        rows.append((number, cells + [None] * (len(headers) - len(cells))))
        _limit_rows(len(rows))
    if headers is None:
        raise ValidationError("The sheet is empty: the first row should name the columns.")
    if not rows:
        raise ValidationError("The sheet has column titles but no rows to import.")
    return Sheet(headers, rows)


def _read_csv(content: bytes) -> Sheet:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            raise ValidationError("The CSV file is neither UTF-8 nor Windows text; save it as “CSV UTF-8”.") from None
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return _build(reader, 1)
    except csv.Error as exc:
        raise ValidationError(f"The CSV file cannot be read: {exc}.") from None


def _read_xlsx(content: bytes) -> Sheet:
    archive = zipsafe.open_checked(io.BytesIO(content), what="The workbook", max_entries=2000,
                                   max_unpacked_bytes=XLSX_MAX_UNPACKED_BYTES, max_ratio=1000)
    archive.close()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ValidationError(f"The workbook cannot be read ({exc.__class__.__name__}); save it again as .xlsx.") from None
    try:
        sheet = workbook.worksheets[0]
        return _build(sheet.iter_rows(values_only=True), 1)
    finally:
        workbook.close()


def read_sheet(name: str, content: bytes) -> Sheet:
    """The first sheet of a .xlsx, or a .csv, as header and rows; ValidationError with a
    sentence a chemist understands for anything else."""
    limit = settings.LABTRACK_IMPORT_MAX_BYTES
    if len(content) > limit:
        raise ValidationError(f"{name} is {size_text(len(content))}, more than the {size_text(limit)} limit for a "
                              "spreadsheet; split it. Nothing was imported.")
    if not content:
        raise ValidationError(f"{name} is empty.")
    lower = name.lower()
    if lower.endswith(".xlsx") or lower.endswith(".xlsm"):
        return _read_xlsx(content)
    if lower.endswith(".csv") or lower.endswith(".txt") or lower.endswith(".tsv"):
        return _read_csv(content)
    if lower.endswith(".xls") or lower.endswith(".ods"):
        raise ValidationError(f"{name}: LabTrack reads .xlsx and .csv; save the sheet in one of those formats.")
    if content[:2] == b"PK":
        return _read_xlsx(content)
    return _read_csv(content)
