"""Readers: instrument files -> typed objects from `analysis.data`.

Each reader module registers itself with `@reader(...)`: a format name, a `sniff(path)`
that recognises the file from its name and content, and a `read(path, **options)`.
`detect_format` asks each sniffer in registration order; a wrong guess is a bug.
"""
from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

from analysis.data import InstrumentData
from analysis.result import InputError

# Reader modules, most specific first (content sniffers before extension-only ones).
READER_MODULES = (
    "analysis.io.topspin",
    "analysis.io.vamas",
    "analysis.io.xrd",
    "analysis.io.saxs",
    "analysis.io.tem",
    "analysis.io.pl",
)

# Upload and reader cap: nothing larger is read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class Reader:
    format: str
    kind: str
    sniff: Callable[[str], bool]
    read: Callable[..., InstrumentData]
    options: tuple[str, ...] = ()
    # A line-oriented table: its first lines alone are a readable file of the same format,
    # so a big one can be checked from a bounded prefix (see `inspect`).
    text_table: bool = False


@dataclass
class Inspection:
    format: str
    kind: str
    metadata: dict[str, Any]
    read_in_full: bool  # False: only a bounded prefix (or only the sniff) was read


_READERS: list[Reader] = []
_loaded = False


def reader(format: str, *, kind: str, sniff: Callable[[str], bool], options: tuple[str, ...] = (),
           text_table: bool = False):
    """Register `read(path, **options)` for `format`."""

    def wrap(read: Callable[..., InstrumentData]) -> Callable[..., InstrumentData]:
        _READERS.append(Reader(format, kind, sniff, read, options, text_table))
        return read

    return wrap


def readers() -> list[Reader]:
    global _loaded
    if not _loaded:
        for module in READER_MODULES:
            importlib.import_module(module)
        _loaded = True
    return list(_READERS)


def detect_format(path: str) -> Reader:
    """The reader for `path`, or InputError naming what was tried."""
    if not os.path.exists(path):
        raise InputError("no such file or folder", path)
    if os.path.isfile(path):
        size = os.path.getsize(path)
        if size == 0:
            raise InputError("the file is empty", path)
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"the file is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB", path
            )
    for r in readers():
        try:
            if r.sniff(path):
                return r
        except (OSError, ValueError):
            continue
    raise InputError(
        "format not recognised (expected a Bruker TopSpin folder or zip, VAMAS, XRD .xy/.xye/"
        ".csv/.brml/.raw, SAXS .dat/.txt/.csv/.pdh, TIFF/DM3/DM4/PNG image, or PL .csv/.txt)",
        path,
    )


def read(path: str, **options: Any) -> InstrumentData:
    """Detect the format of `path` and read it. Options a reader does not take are ignored
    (routines forward all their reader options)."""
    r = detect_format(path)
    accepted = {k: v for k, v in options.items() if k in r.options and v is not None}
    data = r.read(path, **accepted)
    data.format = data.format or r.format
    data.source = data.source or path
    return data


# What an upload check may read: a 100 MiB table parsed whole would cost the web process
# gigabytes; the worker reads it in full, under its own memory ceiling.
INSPECT_FULL_READ_BYTES = 8 * 1024 * 1024


def inspect(path: str, *, full_read_bytes: int = INSPECT_FULL_READ_BYTES) -> Inspection:
    """Format, kind and acquisition metadata of `path`, reading at most about
    `full_read_bytes` of it. A smaller file (or a folder) is read in full, so a malformed
    one is refused now; a bigger text table is read from its first lines; a bigger binary
    file is only recognised (the analysis reads it and reports what is wrong)."""
    if not os.path.isfile(path) or os.path.getsize(path) <= full_read_bytes:
        data = read(path)
        return Inspection(data.format, data.kind, dict(data.metadata), read_in_full=True)
    r = detect_format(path)
    if not r.text_table:
        return Inspection(r.format, r.kind, {}, read_in_full=False)
    with tempfile.TemporaryDirectory(prefix="labtrack-inspect-") as folder:
        prefix_path = os.path.join(folder, os.path.basename(path))
        _copy_whole_lines(path, prefix_path, full_read_bytes)
        data = r.read(prefix_path)
        checked_bytes = os.path.getsize(prefix_path)
    # Header text (column titles, instrument, date) holds for the whole file; numbers such
    # as n_points or the axis range would describe only the prefix, so they are left out.
    header = {k: v for k, v in data.metadata.items()
              if isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v))}
    header["checked_first_bytes"] = checked_bytes
    return Inspection(data.format or r.format, data.kind, header, read_in_full=False)


def _copy_whole_lines(source: str, target: str, limit_bytes: int) -> None:
    """The first `limit_bytes` of `source`, cut after its last complete line."""
    with open(source, "rb") as src:
        head = src.read(limit_bytes)
    cut = head.rfind(b"\n")
    with open(target, "wb") as out:
        out.write(head[: cut + 1] if cut >= 0 else head)
    shutil.copystat(source, target)
