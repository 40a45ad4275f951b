"""The numpy fast path of the text-table parser gives what the exact parser gives."""
import numpy as np
import pytest

from analysis.io import text_table
from analysis.io.text_table import parse_text_table
from analysis.result import InputError


def _table_text(n: int, delimiter: str = ",", header: str = "wavelength_nm,intensity") -> str:
    x = np.linspace(300, 900, n)
    y = np.sin(x / 50) + 2
    return header + "\n" + "\n".join(f"{a:.4f}{delimiter}{b:.6f}" for a, b in zip(x, y)) + "\n"


@pytest.mark.parametrize("delimiter", [",", "\t", " ", ";"])
def test_fast_and_exact_parsers_agree(delimiter, monkeypatch):
    text = _table_text(5000, delimiter, header=delimiter.join(["wavelength_nm", "intensity"]))
    fast = parse_text_table(text)
    monkeypatch.setattr(text_table, "_fast_block", lambda *args: None)
    exact = parse_text_table(text)
    np.testing.assert_array_equal(fast.data, exact.data)
    assert fast.column_names == exact.column_names == ["wavelength_nm", "intensity"]
    assert fast.delimiter == exact.delimiter


def test_a_bad_row_in_a_long_table_is_still_named_by_line():
    lines = _table_text(5000).splitlines()
    lines[3000] = "301.0,oops"
    with pytest.raises(InputError, match="line 3001 is not numbers"):
        parse_text_table("\n".join(lines))


def test_decimal_commas_in_a_long_semicolon_table_still_read():
    text = "x;y\n" + "\n".join(f"{i},5;{i * 2},25" for i in range(3000))
    table = parse_text_table(text)
    assert table.data[1].tolist() == [1.5, 2.25]
