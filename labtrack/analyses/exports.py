"""Results of record as tables for spreadsheets: long (one row per quantity) or wide (one
row per measurement, one column per quantity), as CSV rows or an XLSX file. Reads only
what `selectors.quantities_of_record` returns; every text cell passes through
`core.csv_safe.spreadsheet_safe` (no formula injection). Memory stays bounded: rows are
produced one at a time from a server-side iterator, and the XLSX is written in
openpyxl's write-only mode to a temporary file."""
from __future__ import annotations

import json
import tempfile
from typing import Any, Iterable, Iterator

from django.db.models import QuerySet

from labtrack.analyses.selectors import results_csv_rows
from labtrack.core.csv_safe import spreadsheet_safe

SHAPES = ("long", "wide")
CHUNK_ROWS = 2000
WIDE_KEYS = ["batch", "sample", "measurement", "technique", "measured_at", "sample_age_days"]


def long_rows(quantities: QuerySet) -> Iterator[list[Any]]:
    """Header, then one row per quantity (the /results.csv columns)."""
    return results_csv_rows(quantities)


def _column(routine: str, name: str, component: str, unit: str) -> str:
    where = f" [{component}]" if component else ""
    return f"{routine}: {name}{where}" + (f" ({unit})" if unit else "")


def wide_rows(quantities: QuerySet) -> Iterator[list[Any]]:
    """Header, then one row per measurement (a derived run without one: per batch) with a
    value and a stderr column per (routine, quantity, component, unit). Two queries: the
    columns, then the quantities in measurement order, grouped as they stream by."""
    columns = list(quantities.order_by().values_list("run__routine", "name", "component_label", "unit")
                   .distinct().order_by("run__routine", "name", "component_label", "unit"))
    index = {c: i for i, c in enumerate(columns)}
    header = list(WIDE_KEYS)
    for c in columns:
        label = _column(*c)
        header += [label, f"{label} stderr"]
    yield header
    ordered = quantities.order_by("run__batch__code_sort_key", "run__measurement_id", "run_id", "component_label", "id")
    key, row = None, None
    for q in ordered.iterator(chunk_size=CHUNK_ROWS):
        run, m = q.run, q.run.measurement
        this = (run.batch.code, run.measurement_id)
        if this != key:
            if row is not None:
                yield row
            key = this
            row = [run.batch.code, m.sample.code if m else "", run.measurement_id or "", m.technique if m else "",
                   m.measured_at.isoformat() if m else "", round(m.sample_age_days, 3) if m else ""]
            row += [""] * (2 * len(columns))
        at = len(WIDE_KEYS) + 2 * index[(run.routine, q.name, q.component_label, q.unit)]
        value = q.value if q.value is not None else (json.dumps(q.value_json) if q.value_json is not None else "")
        row[at] = value
        row[at + 1] = q.stderr if q.stderr is not None else ""
    if row is not None:
        yield row


def table_rows(quantities: QuerySet, shape: str) -> Iterator[list[Any]]:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}")
    return wide_rows(quantities) if shape == "wide" else long_rows(quantities)


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [spreadsheet_safe(cell) for cell in row]


def xlsx_file(rows: Iterable[list[Any]], title: str = "results of record"):
    """An open temporary file holding the workbook (rewound), written row by row."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([cell if not isinstance(cell, bool) else str(cell) for cell in safe_row(row)])
    out = tempfile.TemporaryFile(prefix="labtrack-export-", suffix=".xlsx")
    workbook.save(out)
    out.seek(0)
    return out
