"""Column-oriented text files (.dat, .txt, .csv, .xy ...): header lines + a numeric block.

Shared by the text readers (SAXS, PL, and available to XRD). `parse_text_table` splits a
file into header/comment lines and a 2-D float array, detecting the delimiter (whitespace,
comma, semicolon or tab) and decimal commas in semicolon files. A row that is not numeric
*inside* the data block is an error, worded for a chemist; text before the block is header
and text after it is a footer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from analysis.result import InputError

COMMENT_PREFIXES = ("#", "%", "!", ";", "//", "*")
# Read at most this much for sniffing; readers read the whole file.
SNIFF_BYTES = 64 * 1024

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


@dataclass
class TextTable:
    """A parsed text table. `data` is (rows, columns) float64; `header` holds every line
    before the numeric block (comment markers stripped); `column_names` is the last header
    line split with the data's delimiter when it has as many fields as there are columns."""

    data: np.ndarray
    header: list[str] = field(default_factory=list)
    column_names: list[str] = field(default_factory=list)
    delimiter: str | None = None   # None = runs of whitespace
    first_data_line: int = 0       # 0-based line number of the first data row


def read_text(path: str, limit: int | None = None) -> str:
    """The file's text (UTF-8, falling back to Latin-1 for instrument exports with Å/µ).
    Raises InputError for a binary file."""
    with open(path, "rb") as fh:
        raw = fh.read(limit) if limit else fh.read()
    if b"\x00" in raw[:4096]:
        raise InputError("this is a binary file, not a text table", path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def detect_delimiter(lines: list[str]) -> str | None:
    """The delimiter used by data-looking `lines`: "\\t", ";", "," or None (whitespace).

    A comma counts as a delimiter only when splitting on it gives all-numeric fields, so
    a decimal comma in a whitespace file is not mistaken for one."""
    sample = [ln for ln in lines if ln.strip()][:20]
    if not sample:
        return None
    for delim in ("\t", ";", ","):
        if all(delim in ln for ln in sample):
            fields = [_split(ln, delim) for ln in sample]
            widths = {len(f) for f in fields}
            if len(widths) == 1 and widths.pop() >= 2 and all(_numeric_fields(f, delim) for f in fields):
                return delim
    return None


def parse_text_table(text: str, *, path: str | None = None, min_columns: int = 2,
                     max_lines: int | None = None, strict: bool = True) -> TextTable:
    """Split `text` into header lines and a numeric block.

    The numeric block starts at the first run of 3 consecutive numeric rows (so a single
    numeric-looking header line such as the PDH integer line is not taken as data) and
    ends at the first blank line or comment that follows it. A non-numeric row inside the
    block raises InputError naming the line; with strict=False (for sniffers, so that the
    reader gets to report the problem) the block just ends there. `max_lines` limits work
    when sniffing."""
    lines = text.splitlines()
    if max_lines is not None:
        lines = lines[:max_lines]
    start = _find_block_start(lines, min_columns)
    if start is None:
        raise InputError(
            f"no table of numbers with at least {min_columns} columns was found", path)
    delimiter = detect_delimiter(lines[start:start + 20])
    fast = _fast_block(lines, start, delimiter)
    if fast is not None:
        return _table(fast, lines, start, delimiter)
    rows: list[list[float]] = []
    width = None
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line or line.startswith(COMMENT_PREFIXES):
            if _rest_is_blank_or_comment(lines[i:]):
                break
            if not line:
                continue
            if not strict:
                break
            raise InputError(f"line {i + 1} inside the data is a comment: {line[:60]!r}", path)
        fields = _split(line, delimiter)
        values = _to_floats(fields, delimiter)
        if values is None:
            if not strict or _rest_is_non_numeric(lines[i:], delimiter):
                break  # a text footer (e.g. "End of data")
            raise InputError(
                f"line {i + 1} is not numbers: {line[:60]!r}", path)
        if width is None:
            width = len(values)
        if len(values) != width:
            if not strict:
                break
            raise InputError(
                f"line {i + 1} has {len(values)} columns but the data above has {width}", path)
        rows.append(values)
    return _table(np.asarray(rows, dtype=float), lines, start, delimiter)


def _table(data: np.ndarray, lines: list[str], start: int, delimiter: str | None) -> TextTable:
    width = data.shape[1] if data.ndim == 2 else None
    header = [_strip_comment(ln) for ln in lines[:start]]
    names: list[str] = []
    for ln in reversed(header):
        if ln.strip():
            names = _header_fields(ln, delimiter)
            if len(names) != width:
                names = []
            break
    return TextTable(data, header, names, delimiter, start)


def _fast_block(lines: list[str], start: int, delimiter: str | None) -> np.ndarray | None:
    """The numeric block parsed by numpy's C reader (a 1.5-million-row spectrum in about a
    second instead of a minute, and a fraction of the memory), or None when the block is
    not plain numbers (decimal commas, a bad row, ragged columns): the line-by-line parser
    then reads it and reports exactly which line is wrong."""
    end = start
    n = len(lines)
    while end < n:
        stripped = lines[end].strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            break
        end += 1
    if end - start < 1000:  # small files: the exact parser is fast enough
        return None
    if not _rest_is_blank_or_comment(lines[end:]):
        return None  # something after the block: let the exact parser judge it
    block = lines[start:end]
    if delimiter != "," and any("," in ln for ln in block[:20]):
        return None  # decimal commas
    if delimiter is not None and block[0].rstrip().endswith(delimiter):
        return None  # trailing delimiters: the exact parser drops the empty last field
    try:
        with np.errstate(all="ignore"):
            data = np.loadtxt(block, delimiter=delimiter, comments=None, ndmin=2, dtype=float)
    except ValueError:
        return None
    return data


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [f.strip() for f in line.strip().rstrip(delimiter).split(delimiter)]


def _numeric_fields(fields: list[str], delimiter: str | None) -> bool:
    return _to_floats(fields, delimiter) is not None


def _to_floats(fields: list[str], delimiter: str | None) -> list[float] | None:
    out = []
    for f in fields:
        if not _NUMBER.match(f) and f.lower() not in ("nan", "inf", "-inf", "+inf"):
            return None
        # A decimal comma only makes sense when the comma is not the delimiter.
        if "," in f:
            if delimiter == ",":
                return None
            f = f.replace(",", ".")
        out.append(float(f))
    return out


def _row_values(line: str) -> list[float] | None:
    s = line.strip()
    if not s or s.startswith(COMMENT_PREFIXES):
        return None
    for delim in (detect_delimiter([s]), None):
        values = _to_floats(_split(s, delim), delim)
        if values is not None:
            return values
    return None


def _find_block_start(lines: list[str], min_columns: int) -> int | None:
    # Three consecutive rows of equal width: PDH's numeric header lines (8, 5 and 5
    # fields) differ in width from the data rows that follow them.
    run, width = 0, None
    for i, line in enumerate(lines):
        values = _row_values(line)
        if values is not None and len(values) >= min_columns:
            run = run + 1 if len(values) == width else 1
            width = len(values)
            if run == 3:
                return i - 2
        else:
            run, width = 0, None
    # Short files: accept any numeric run that reaches the end.
    if 0 < run < 3:
        return len(lines) - run
    return None


def _rest_is_blank_or_comment(rest: list[str]) -> bool:
    return all(not ln.strip() or ln.strip().startswith(COMMENT_PREFIXES) for ln in rest)


def _rest_is_non_numeric(rest: list[str], delimiter: str | None) -> bool:
    return all(_to_floats(_split(ln.strip(), delimiter), delimiter) is None
               for ln in rest if ln.strip())


def _strip_comment(line: str) -> str:
    s = line.strip()
    for p in COMMENT_PREFIXES:
        if s.startswith(p):
            return s.lstrip(p).strip()
    return s


def _header_fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        # Column titles like "q(A-1)  I(q)  Err" are separated by 2+ spaces or tabs
        # more reliably than by single spaces ("I (a.u.)").
        parts = [p for p in re.split(r"\s{2,}|\t", line.strip()) if p]
        return parts if len(parts) > 1 else line.split()
    return [p.strip() for p in line.split(delimiter)]
