"""read_text_table (bounded chunks) gives exactly what parse_text_table(read_text(path))
gives: the same numbers, header, column names, delimiter and first data line, and the
same InputError, on plain big tables and on every file the exact parser must judge."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from analysis.io import text_table_stream
from analysis.io.text_table import parse_text_table, read_text
from analysis.io.text_table_stream import read_text_table
from analysis.result import InputError


def _rows(n: int, delimiter: str = ",", start: float = 400.0) -> list[str]:
    x = start + np.arange(n) * 0.05
    y = 1000.0 * np.exp(-0.5 * ((x - 515.0) / 8.0) ** 2) + 5.0
    return [f"{a:.5f}{delimiter}{b:.3f}" for a, b in zip(x, y)]


def _outcome(fn, path):
    try:
        t = fn(path)
    except InputError as exc:
        return ("error", str(exc))
    return ("table", t.data.shape, t.data.tobytes(), t.header, t.column_names, t.delimiter, t.first_data_line)


HEADER = ["# Fluorolog export", "Sample: NC12.8-P", "Wavelength (nm),Intensity (counts)"]


def _cases() -> dict[str, bytes]:
    big = _rows(5000)
    ws = _rows(5000, " ")
    cases = {
        "plain comma": "\n".join(HEADER + big) + "\n",
        "no final newline": "\n".join(HEADER + big),
        "crlf": "\r\n".join(HEADER + big) + "\r\n",
        "cr only": "\r".join(HEADER + big) + "\r",
        "form feed and unicode line breaks": "\n".join(HEADER) + "\x0c" + "\u2028".join(big) + "\n",
        "whitespace": "\n".join(["wavelength  intensity"] + ws) + "\n",
        "tab": "\n".join(["wl\tI"] + _rows(5000, "\t")) + "\n",
        "semicolon": "\n".join(["wl;I"] + _rows(5000, ";")) + "\n",
        "trailing comment and blanks": "\n".join(HEADER + big + ["", "# end", "  ", ""]) + "\n",
        "text footer": "\n".join(HEADER + big + ["End of data"]) + "\n",
        "blank line then more data": "\n".join(HEADER + big[:2500] + [""] + big[2500:]) + "\n",
        "comment inside the data": "\n".join(HEADER + big[:2500] + ["# lamp change"] + big[2500:]) + "\n",
        "bad row deep inside": "\n".join(HEADER + big[:4000] + ["512.1,oops"] + big[4000:]) + "\n",
        "ragged row deep inside": "\n".join(HEADER + big[:4000] + ["512.1,3,4"] + big[4000:]) + "\n",
        "decimal commas": "\n".join(["wl;I"] + [r.replace(",", ";").replace(".", ",") for r in big]) + "\n",
        "trailing delimiter": "\n".join(HEADER + [r + "," for r in big]) + "\n",
        "numbers after a footer": "\n".join(HEADER + big + ["End", "1,2"]) + "\n",
        "small file": "\n".join(HEADER + big[:50]) + "\n",
        "short file, two rows": "x,y\n500,1\n501,2\n",
        "no table": "just some words\nand more words\n",
        "nan in the data": "\n".join(HEADER + big[:3000] + ["512.1,nan"] + big[3000:]) + "\n",
    }
    out = {name: text.encode("utf-8") for name, text in cases.items()}
    out["utf-8 BOM"] = b"\xef\xbb\xbf" + cases["plain comma"].encode()
    out["latin-1 header"] = "\n".join(["Wellenlänge (nm),Intensität"] + big).encode("latin-1")
    # A Latin-1 byte after the first read chunk: the whole file is then Latin-1.
    out["latin-1 at the end"] = ("\n".join(HEADER + big + ["# Messung: 5 µs"]) + "\n").encode("latin-1")
    return out


@pytest.fixture(params=[None, 7], ids=["default-chunks", "tiny-chunks"])
def chunking(request, monkeypatch):
    if request.param:
        # tiny reads split "\r\n", multi-byte characters and lines across chunks
        monkeypatch.setattr(text_table_stream, "READ_BYTES", request.param)
        monkeypatch.setattr(text_table_stream, "CHUNK_LINES", 1000)


@pytest.mark.parametrize("name", sorted(_cases()))
def test_the_streaming_reader_gives_what_the_whole_text_parser_gives(tmp_path, name, chunking):
    path = tmp_path / "table.csv"
    path.write_bytes(_cases()[name])
    expected = _outcome(lambda p: parse_text_table(read_text(p), path=p), str(path))
    assert _outcome(read_text_table, str(path)) == expected


def test_a_binary_file_is_refused_as_before(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"500,1\n\x00\x01\x02")
    with pytest.raises(InputError, match="binary file"):
        read_text_table(str(path))


def test_a_big_table_is_held_as_numbers_not_as_lines(tmp_path):
    path = tmp_path / "big.csv"
    rows = 1_000_000
    path.write_text("\n".join(HEADER + _rows(rows)) + "\n")  # ~20 MiB, a million lines
    numbers = rows * 2 * 8
    tracemalloc.start()
    try:
        table = read_text_table(str(path))
        _, streamed = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.data.shape == (rows, 2)
    tracemalloc.start()
    try:
        parse_text_table(read_text(str(path)), path=str(path))
        _, whole = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the numbers (+5 % slack) and one chunk of lines, against every line as a str
    one_chunk = 16 * 1024 * 1024
    assert streamed < 1.1 * numbers + one_chunk and streamed < whole / 3, (streamed, numbers, whole)
