"""The trends figure's and chart's points as columns (issue 16): x, value, error, review
state, series, batch, sample and run of every plotted value, as numpy arrays and string
tables, read from the one points query (selectors.point_rows) without a Python object per
point. The server figure (SVG/PNG downloads) and the page's chart (JSON for uPlot) both
draw from these, grouped the same way.

Series: with a few batches (≤ MAX_BATCH_SERIES batch/routine pairs) each batch is a
series; with more, the routine is (SAXS and TEM diameters apart), or one series when only
one routine reports the number. Within a series accepted and pending fits are told apart.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from labtrack.analyses import compare_encoding as encoding
from labtrack.core.naturalsort import natural_key
from labtrack.insights.labels import quantity_label
from labtrack.insights.selectors import X_AXES, batch_diameters, plain_rows, point_rows

MAX_BATCH_SERIES = 12

# point_rows' columns (selectors._COLUMNS), by name.
_BATCH, _SAMPLE, _VALUE, _STDERR, _UNIT, _RUN, _OF_RECORD, _ROUTINE, _TECHNIQUE, _AGE, _AGED, _BATCH_ID = range(12)


@dataclass
class TrendArrays:
    """Every plotted point, one array element each (in no particular order); `batch`,
    `sample` and `group` index the tables `batches`, `samples` and `groups`."""

    x: np.ndarray
    y: np.ndarray
    yerr: np.ndarray          # NaN: no error reported
    xerr: np.ndarray          # NaN: none (only the diameter axis has one)
    accepted: np.ndarray      # bool: result of record; else pending review
    run: np.ndarray
    batch: np.ndarray
    sample: np.ndarray
    group: np.ndarray
    batches: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    per_batch: bool = True    # a series per batch (few batches), else per routine
    unit: str = ""

    def __len__(self) -> int:
        return len(self.x)


def _index(values: list) -> tuple[np.ndarray, list[str]]:
    """(index of each value in the table, the table of distinct values in first-seen order)."""
    table = list(dict.fromkeys(values))
    if len(table) == 1:
        return np.zeros(len(values), dtype=np.int64), table
    lookup = {v: i for i, v in enumerate(table)}
    return np.fromiter(map(lookup.__getitem__, values), dtype=np.int64, count=len(values)), table


def _floats(values) -> np.ndarray:
    return np.array(values, dtype=float)  # None becomes NaN


def empty_arrays() -> TrendArrays:
    e = np.empty(0)
    return TrendArrays(x=e, y=e, yerr=e, xerr=e, accepted=e.astype(bool), run=e.astype(np.int64),
                       batch=e.astype(np.int64), sample=e.astype(np.int64), group=e.astype(np.int64))


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection inside: 20,000 row tuples that die a few milliseconds later
    made the collector run (and rescan them) dozens of times per request, ~25-40 ms of
    a figure or chart request at 10,000 batches (bench gc_pause_ms_per_request). They
    hold no reference cycles, so reference counting frees them all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def trend_arrays(*, user, name: str, assignment: str = "", x: str = "age_days", accepted_only: bool = True,
                 routine: str = "") -> TrendArrays:
    """The points of selectors.quantity_points (the same values, x and review state) as
    columns; points whose x is unknown are left out."""
    with collector_paused():
        return _arrays(user, plain_rows(point_rows(user=user, name=name, assignment=assignment, x=x,
                                                   accepted_only=accepted_only, routine=routine)), x)


def _arrays(user, rows: list[tuple], x: str) -> TrendArrays:
    if not rows:
        return empty_arrays()
    cols = list(zip(*rows))
    xerr = None
    if x == "age_days":
        xs = _floats(cols[_AGE])
    elif x == "diameter_nm":
        diameters = batch_diameters(user)
        known = [diameters.get(b, (None, None)) for b in cols[_BATCH_ID]]
        xs, xerr = _floats([d[0] for d in known]), _floats([d[1] for d in known])
    else:
        xs = _floats(cols[len(cols) - 1])
    keep = np.flatnonzero(np.isfinite(xs))
    if not len(keep):
        return empty_arrays()

    def kept(column) -> list:
        return [column[i] for i in keep] if len(keep) < len(column) else list(column)

    batch_codes, sample_codes = kept(cols[_BATCH]), [s or "" for s in kept(cols[_SAMPLE])]
    routines, techniques = kept(cols[_ROUTINE]), [t or "" for t in kept(cols[_TECHNIQUE])]
    batch, batches = _index(batch_codes)
    sample, samples = _index(sample_codes)
    several_routines = len(set(routines)) > 1
    per_batch = len(set(zip(batch_codes, routines))) <= MAX_BATCH_SERIES
    if per_batch:
        # SAXS and TEM diameters of one batch are different series, never joined.
        keys = [f"{b} ({t.upper()})" for b, t in zip(batch_codes, techniques)] if several_routines else batch_codes
    else:
        keys = [f"{t.upper()} {r}" for t, r in zip(techniques, routines)] if several_routines else [""] * len(keep)
    group, groups = _index(keys)
    order = sorted(range(len(groups)), key=lambda i: natural_key(groups[i]))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups))
    return TrendArrays(
        x=xs[keep], y=_floats(kept(cols[_VALUE])), yerr=_floats(kept(cols[_STDERR])),
        xerr=xerr[keep] if xerr is not None else np.full(len(keep), np.nan),
        accepted=np.array(kept(cols[_OF_RECORD]), dtype=bool), run=np.array(kept(cols[_RUN]), dtype=np.int64),
        batch=batch, sample=sample, group=rank[group], batches=batches, samples=samples,
        groups=[groups[i] for i in order], per_batch=per_batch, unit=cols[_UNIT][keep[0]] or "")


def axis_labels(query: dict, unit: str) -> tuple[str, str]:
    """(x label, y label) with units; the quantity as the picker names it, or as typed
    when it is not a plain name."""
    label, x_unit = X_AXES[query["x"]]
    name = query["name"] + (f" [{query['assignment']}]" if query["assignment"] else "")
    if query["name"] and not set(name) & set("$\\"):
        name = quantity_label(query["routine"], query["name"], query["assignment"])
    return f"{label} ({x_unit})", f"{name} ({unit})" if unit else name


def series_label(arrays: TrendArrays, group: int, accepted: bool, count: int) -> str:
    key = arrays.groups[group]
    if arrays.per_batch:
        return key if accepted else f"{key}, pending review"
    return f"{key} {'accepted' if accepted else 'pending review'} ({count})".strip()


# Rounded to what a plot can show: 6 significant figures of the axis' largest value (an
# age to 1e-3 d over 400 days; a fraction to 1e-3 % of 100 %), errors on the value's scale.
X_SIGNIFICANT, Y_SIGNIFICANT = 6, 5


def _ints(values: np.ndarray) -> encoding.PlotArray:
    return encoding.PlotArray(values, 0, 0)  # written by the encoder's C path, not one Python int at a time


_TABLES = ("groups", "batches", "samples")


def chart_json(arrays: TrendArrays, query: dict) -> bytes:
    """chart_data as JSON bytes. The string tables (10,000 batch and 20,000 sample codes
    at 10,000 batches) are written by ujson in one call each: walked value by value by
    the encoder they cost ~10 ms."""
    from pandas.io.json import ujson_dumps  # pandas' C encoder, as compare_encoding uses

    data = chart_data(arrays, query)
    tables = [(key, data.pop(key)) for key in _TABLES]
    head = encoding.dumps(data)
    tail = ",".join(f'"{key}":{ujson_dumps(values, ensure_ascii=False)}' for key, values in tables)
    return head[:-1] + b"," + tail.encode() + b"}"


def chart_data(arrays: TrendArrays, query: dict) -> dict:
    """The chart's JSON document (encoding.dumps): one series per group and review state,
    accepted before pending (drawn in that order: open pending rings over the filled
    accepted markers, so neither hides the other), each as compact arrays."""
    x_label, y_label = axis_labels(query, arrays.unit)

    def scale(values: np.ndarray) -> float | None:
        finite = np.abs(values[np.isfinite(values)])
        return float(finite.max()) if finite.size else None

    x_scale, y_scale = scale(arrays.x), scale(arrays.y)
    series = []
    for accepted in (True, False):
        for g in range(len(arrays.groups)):
            idx = np.flatnonzero((arrays.group == g) & (arrays.accepted == accepted))
            if not len(idx):
                continue
            yerr, xerr = arrays.yerr[idx], arrays.xerr[idx]
            series.append({
                "label": series_label(arrays, g, accepted, len(idx)), "group": g,
                "state": "accepted" if accepted else "pending",
                "x": encoding.plot_array(arrays.x[idx], significant=X_SIGNIFICANT, scale=x_scale),
                "y": encoding.plot_array(arrays.y[idx], significant=Y_SIGNIFICANT, scale=y_scale),
                "yerr": encoding.plot_array(yerr, significant=Y_SIGNIFICANT, scale=y_scale)
                if np.isfinite(yerr).any() else None,
                "xerr": encoding.plot_array(xerr, significant=X_SIGNIFICANT, scale=x_scale)
                if np.isfinite(xerr).any() else None,
                "batch": _ints(arrays.batch[idx]), "sample": _ints(arrays.sample[idx]), "run": _ints(arrays.run[idx])})
    return {"x_label": x_label, "y_label": y_label, "unit": arrays.unit, "n_points": len(arrays),
            "n_accepted": int(arrays.accepted.sum()), "per_batch": arrays.per_batch,
            "groups": arrays.groups, "batches": arrays.batches, "samples": arrays.samples,
            "join_samples": arrays.per_batch, "series": series}
