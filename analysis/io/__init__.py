"""Readers: instrument files -> typed objects from `analysis.data`.

Each reader module registers itself with `@reader(...)`: a format name, a `sniff(path)`
that recognises the file from its name and content, and a `read(path, **options)`.
`detect_format` asks each sniffer in registration order; a wrong guess is a bug.
"""
from __future__ import annotations

import importlib
import os
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


_READERS: list[Reader] = []
_loaded = False


def reader(format: str, *, kind: str, sniff: Callable[[str], bool], options: tuple[str, ...] = ()):
    """Register `read(path, **options)` for `format`."""

    def wrap(read: Callable[..., InstrumentData]) -> Callable[..., InstrumentData]:
        _READERS.append(Reader(format, kind, sniff, read, options))
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
