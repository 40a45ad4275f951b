"""The compare view's numbers on the wire: float arrays rounded to what a plot needs and
written as JSON (or CSV) text in C, not one Python float at a time.

Seven 8k-point spectra with their fits and components are ~190,000 numbers; the standard
library's encoder spends ~0.45 µs on each (over 80 ms a page on this machine). pandas'
ujson encoder (pandas is already a requirement, for .eln exchange and the scripting
example) writes a numpy array with fixed decimals about ten times faster. Each array is
written once, however often the response names it (every component shares its fit's x).
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from django.core.serializers.json import DjangoJSONEncoder

from labtrack.core import csv_safe

X_SIGNIFICANT = 6   # 420.000 ppm; 2θ to 1e-4 °: finer than any pattern's step
Y_SIGNIFICANT = 5   # 1e-5 of the trace's tallest point: far below a pixel at any zoom a chart offers
_MAX_DECIMALS = 15  # ujson's limit; smaller scales fall back to significant figures per value


@dataclass(frozen=True, eq=False)
class PlotArray:
    """Values to send, and how: `decimals` fixed places (linear axes, rounded relative to
    the trace's scale), or None for `significant` figures of each value (log axes, where a
    value 10⁻⁴ of the maximum still matters)."""

    values: np.ndarray
    decimals: int | None
    significant: int

    def __len__(self) -> int:
        return len(self.values)

    def tolist(self) -> list:
        return json.loads(array_json(self))


def plot_array(values: np.ndarray, *, significant: int, log: bool = False,
               scale: float | None = None) -> PlotArray:
    """`values` to be sent at `significant` figures of `scale` (default: their own largest
    magnitude), or of each value when the axis is logarithmic."""
    a = np.asarray(values, dtype=float)
    if log:
        return PlotArray(a, None, significant)
    if scale is None:
        finite = a[np.isfinite(a)]
        scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    decimals = max(0, significant - 1 - int(np.floor(np.log10(scale))))
    if decimals > _MAX_DECIMALS:
        return PlotArray(a, None, significant)
    return PlotArray(a, decimals, significant)


@cache
def _ujson_dumps():
    from pandas.io.json import ujson_dumps  # imported on first use: the web pages need pandas only here

    return ujson_dumps


def array_json(arr: PlotArray) -> str:
    """The JSON list of `arr` (NaN and ±inf as null)."""
    if arr.decimals is not None:
        rounded = np.round(arr.values, arr.decimals)
        rounded[rounded == 0] = 0.0          # no "-0.0" from tiny negatives
        return _ujson_dumps()(rounded, double_precision=arr.decimals)
    fmt = f".{arr.significant}g"
    return "[" + ",".join(format(v, fmt) if np.isfinite(v) else "null" for v in arr.values.tolist()) + "]"


def dumps(data: Any) -> bytes:
    """`data` as JSON, every PlotArray in it written by `array_json` (once per array)."""
    token = secrets.token_hex(8)   # placeholders no user text can imitate
    texts: list[str] = []
    seen: dict[int, int] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, PlotArray):
            index = seen.get(id(node))
            if index is None:
                index = seen[id(node)] = len(texts)
                texts.append(array_json(node))
            return f"{token}:{index}"
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [swap(v) for v in node]
        return node

    skeleton = json.dumps(swap(data), cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    parts = skeleton.split(f'"{token}:')
    out = [parts[0]]
    for part in parts[1:]:
        index, _, rest = part.partition('"')
        out.append(texts[int(index)])
        out.append(rest)
    return "".join(out).encode()


def _csv_numbers(arr: PlotArray) -> list[str]:
    text = array_json(arr)[1:-1]
    return [("" if v == "null" else v) for v in text.split(",")] if text else []


class _Line:
    def write(self, value: str) -> str:
        return value


def csv_chunks(header: list[str], series: list[tuple[list[Any], PlotArray, PlotArray]]) -> Iterator[str]:
    """CSV text: `header`, then for each (leading cells, x, y) one row per point. The
    leading cells (batch, sample, …) pass the spreadsheet-formula guard once a series."""
    line = csv_safe.writer(_Line())
    yield line.writerow(header)
    for cells, x, y in series:
        lead = line.writerow(cells).rstrip("\r\n")
        yield "".join(f"{lead},{xv},{yv}\r\n" for xv, yv in zip(_csv_numbers(x), _csv_numbers(y)))
