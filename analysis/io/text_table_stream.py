"""A text table read from its file in bounded chunks (issue 14: a 100 MiB PL CSV).

`parse_text_table(read_text(path))` holds the file's bytes, its text and every line as a
Python string (about 80 bytes per line) before numpy sees a number: 725 MiB for a
100 MiB, 6.6-million-row CSV. `read_text_table` gives the same TextTable, with the same
errors, while holding only the numbers and one chunk of lines.

It streams exactly the files `parse_text_table` reads with numpy (its fast path): a block
of at least 1,000 plain numeric rows followed by nothing but blank or comment lines, no
decimal commas, no trailing delimiter, every row readable by numpy with the same width.
Everything else (small files, a footer or a second block after the data, decimal commas,
a bad row, a file without a table) is handed to `parse_text_table` on the whole text, so
its rules and messages apply unchanged; those files are either small or are the files
that parser reads line by line anyway.
"""
from __future__ import annotations

import codecs
import os
from typing import Iterator

import numpy as np

from analysis.io.text_table import (COMMENT_PREFIXES, TextTable, _row_values, _table, detect_delimiter,
                                    parse_text_table, read_text)
from analysis.result import InputError

READ_BYTES = 1024 * 1024   # bytes decoded at a time (~50,000 short lines)
CHUNK_LINES = 32_768       # data lines handed to numpy at a time
FAST_MIN_ROWS = 1000       # parse_text_table's own threshold for numpy


class _NotStreamable(Exception):
    """The file needs parse_text_table's line-by-line rules (or has no table)."""


def read_text_table(path: str, *, min_columns: int = 2) -> TextTable:
    """`parse_text_table(read_text(path), path=path, min_columns=min_columns)`, in bounded
    memory for a big plain table."""
    with open(path, "rb") as fh:
        if b"\x00" in fh.read(4096):
            raise InputError("this is a binary file, not a text table", path)
    for encoding in ("utf-8-sig", "latin-1"):  # read_text's order
        try:
            return _stream(path, encoding, min_columns)
        except UnicodeDecodeError:
            continue  # not UTF-8 somewhere: read_text would have decoded it all as Latin-1
        except _NotStreamable:
            break
    return parse_text_table(read_text(path), path=path, min_columns=min_columns)


def _lines(path: str, encoding: str) -> Iterator[str]:
    """The file's lines exactly as `text.splitlines()` gives them, a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    carry = ""
    with open(path, "rb") as fh:
        while True:
            raw = fh.read(READ_BYTES)
            text = carry + decoder.decode(raw, final=not raw)
            if not raw:
                yield from text.splitlines()
                return
            pieces = text.splitlines(keepends=True)
            # The last piece may continue in the next chunk (no break yet, or a "\r" whose
            # "\n" has not been read): keep it back.
            carry = pieces.pop() if pieces else ""
            for piece in pieces:  # each ends in exactly one break ("\r\n" counts as one)
                yield piece[:-2] if piece.endswith("\r\n") else piece[:-1]


def _stream(path: str, encoding: str, min_columns: int) -> TextTable:
    lines = _lines(path, encoding)
    head: list[str] = []  # every line up to the block start, then 20 more (delimiter detection)
    start = _block_start(lines, head, min_columns)
    for line in lines:
        head.append(line)
        if len(head) >= start + 20:
            break
    delimiter = detect_delimiter(head[start:start + 20])
    first = head[start:]
    block20 = []
    for ln in first[:20]:
        stripped = ln.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            break
        block20.append(ln)
    if delimiter != "," and any("," in ln for ln in block20):
        raise _NotStreamable  # decimal commas
    if delimiter is not None and first[0].rstrip().endswith(delimiter):
        raise _NotStreamable  # trailing delimiters
    data = _GrowingArray(os.path.getsize(path))
    pending: list[str] = []
    ended = False

    def flush() -> None:
        if pending:
            try:
                with np.errstate(all="ignore"):
                    chunk = np.loadtxt(pending, delimiter=delimiter, comments=None, ndmin=2, dtype=float)
            except ValueError:
                raise _NotStreamable from None
            data.append(chunk, text_chars=sum(map(len, pending)) + len(pending))
            pending.clear()

    def chain() -> Iterator[str]:
        yield from first
        yield from lines

    for line in chain():
        stripped = line.strip()
        if ended:
            if stripped and not stripped.startswith(COMMENT_PREFIXES):
                raise _NotStreamable  # something after the block: the exact rules judge it
            continue
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            ended = True
            continue
        pending.append(line)
        if len(pending) >= CHUNK_LINES:
            flush()
    flush()
    if data.rows < FAST_MIN_ROWS:
        raise _NotStreamable
    return _table(data.result(), head[:start], start, delimiter)


def _block_start(lines: Iterator[str], head: list[str], min_columns: int) -> int:
    """text_table._find_block_start, reading lines into `head` only as far as it looks."""
    run, width = 0, None
    for i, line in enumerate(lines):
        head.append(line)
        values = _row_values(line)
        if values is not None and len(values) >= min_columns:
            run = run + 1 if len(values) == width else 1
            width = len(values)
            if run == 3:
                return i - 2
        else:
            run, width = 0, None
    raise _NotStreamable  # a short file, or no table: the exact parser decides


class _GrowingArray:
    """Rows appended chunk by chunk into one float64 buffer sized from the file (its size
    over the first chunk's bytes per row), grown if that was short, so the numbers are
    never held twice (a list of chunks plus their concatenation, or a doubling)."""

    def __init__(self, file_bytes: int) -> None:
        self.file_bytes = file_bytes
        self.buffer: np.ndarray | None = None
        self.rows = 0

    def append(self, chunk: np.ndarray, *, text_chars: int) -> None:
        if self.buffer is None:
            bytes_per_row = max(text_chars / len(chunk), 1.0)
            expected = int(self.file_bytes / bytes_per_row * 1.05) + 1
            self.buffer = np.empty((max(len(chunk), expected), chunk.shape[1]))
        elif chunk.shape[1] != self.buffer.shape[1]:
            raise _NotStreamable  # ragged columns: the exact parser names the line
        if self.rows + len(chunk) > len(self.buffer):
            grown = np.empty((max(len(self.buffer) + len(self.buffer) // 4, self.rows + len(chunk)),
                              self.buffer.shape[1]))
            grown[:self.rows] = self.buffer[:self.rows]
            self.buffer = grown
        self.buffer[self.rows:self.rows + len(chunk)] = chunk
        self.rows += len(chunk)

    def result(self) -> np.ndarray:
        assert self.buffer is not None
        if self.rows < 0.8 * len(self.buffer):
            return self.buffer[:self.rows].copy()  # give the unused part back
        return self.buffer[:self.rows]
