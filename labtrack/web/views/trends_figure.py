"""The trends figure: value ± error against x for thousands of points in well under a
second (issue 16) — per colour group and review state one marker line and one error-bar
path (NaN-separated segments), never an artist or legend entry per batch.

With a few batches (≤ MAX_LEGEND_SERIES) each batch is a colour, each of its samples joined
in x order (an ageing series), listed in natural order (NC6.4 before NC10.4). With more, colours stand
for the routine (SAXS and TEM diameters apart; pending in orange when there is only one)
and the legend counts accepted and pending points. Accepted fits are filled circles, fits pending review open circles.

Every label here is user text (batch codes, the quantity asked for in the URL): drawn
with mathtext off, so `$\\foo$` is shown as typed instead of parsed (and failing).
"""
from __future__ import annotations

import io

import numpy as np

from labtrack.core.naturalsort import natural_key
from labtrack.insights.labels import quantity_label
from labtrack.insights.selectors import X_AXES, Point

MAX_LEGEND_SERIES = 12
PENDING_COLOUR = "#e6550d"
RASTERIZE_ABOVE_POINTS = 1500  # beyond this an SVG of vector markers is megabytes; embed them as pixels
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939")


def _groups(points: list[Point]) -> tuple[list[tuple[str, list[Point]]], bool]:
    several_routines = len({p.routine for p in points}) > 1
    if len({(p.batch, p.routine) for p in points}) <= MAX_LEGEND_SERIES:
        by_batch: dict[str, list[Point]] = {}
        for p in points:
            # SAXS and TEM diameters of one batch are different series, never joined.
            key = f"{p.batch} ({p.technique.upper()})" if several_routines else p.batch
            by_batch.setdefault(key, []).append(p)
        return sorted(by_batch.items(), key=lambda kv: natural_key(kv[0])), True
    by_routine: dict[str, list[Point]] = {}
    for p in points:
        by_routine.setdefault(f"{p.technique.upper()} {p.routine}" if several_routines else "", []).append(p)
    return sorted(by_routine.items(), key=lambda kv: natural_key(kv[0])), False


def sample_lines(series: list[Point], x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The lines to draw through one batch's points (sorted by x): one per sample as it
    ages. A batch's aliquots stored in air and under N2 are separate series of the same
    colour, never joined to each other."""
    samples = np.array([p.sample for p in series], dtype=object)
    lines = []
    for sample in dict.fromkeys(samples):
        same = samples == sample
        if same.sum() > 1:
            lines.append((x[same], y[same]))
    return lines


def trend_figure(points: list[Point], query: dict, fmt: str = "svg") -> bytes:
    """The figure as SVG or PNG bytes."""
    from matplotlib.figure import Figure  # only when a figure is drawn

    fig = Figure(figsize=(8.6, 4.6), dpi=100)
    fig.subplots_adjust(left=0.09, right=0.74, bottom=0.13, top=0.95)
    ax = fig.add_subplot()
    groups, per_batch = _groups(points)
    rasterized = len(points) > RASTERIZE_ABOVE_POINTS
    # Thousands of points: every data artist below the axes' grid (zorder < 1.5) is drawn
    # into ONE embedded image (one PNG encode, not one per artist); the order among them
    # is kept: error bars, lines, open then filled markers.
    z = {"bars": 1.0, "lines": 1.1, "open": 1.2, "filled": 1.3} if rasterized else \
        {"bars": 2.0, "lines": 2.0, "open": 3.0, "filled": 4.0}
    if rasterized:
        ax.set_rasterization_zorder(1.4)
    handles = []
    for i, (key, series) in enumerate(groups):
        colour = COLOURS[i % len(COLOURS)]
        x = np.fromiter((p.x for p in series), float, len(series))
        order = np.argsort(x, kind="stable")  # in x order (an ageing series), ties as given
        x = x[order]
        y = np.fromiter((p.value for p in series), float, len(series))[order]
        yerr = np.fromiter((p.stderr or 0.0 for p in series), float, len(series))[order]
        xerr = np.fromiter((p.x_stderr or 0.0 for p in series), float, len(series))[order]
        accepted = np.fromiter((p.accepted for p in series), bool, len(series))[order]
        if per_batch:  # a few batches: their sample lines need the points in the same order
            series = [series[j] for j in order]
        if len(series) < 200:
            ax.errorbar(x, y, yerr=yerr if yerr.any() else None, xerr=xerr if xerr.any() else None, fmt="none",
                        ecolor=colour, elinewidth=0.7, capsize=2, alpha=0.7, zorder=z["bars"])
        else:  # one path per direction: matplotlib's errorbar builds a Path per bar
            for lo, hi, errs, vertical in ((y - yerr, y + yerr, yerr, True), (x - xerr, x + xerr, xerr, False)):
                if errs.any():
                    ends = np.column_stack([lo, hi, np.full_like(lo, np.nan)]).ravel()
                    at = np.repeat(x if vertical else y, 3)
                    ax.plot(at if vertical else ends, ends if vertical else at, "-", color=colour, linewidth=0.5,
                            alpha=0.5, zorder=z["bars"])
        if per_batch and len(series) > 1:
            for line_x, line_y in sample_lines(series, x, y):
                ax.plot(line_x, line_y, "-", color=colour, linewidth=0.8, alpha=0.6, zorder=z["lines"])
        size = 5 if len(points) < 500 else 2.5
        for mask, filled, state in ((accepted, True, "accepted"), (~accepted, False, "pending review")):
            if not mask.any():
                continue
            if per_batch:
                label = key if filled else f"{key}, pending review"
            else:
                label = f"{key} {state} ({int(mask.sum())})".strip()
            # One series of thousands: pending in a second colour too, or open circles of
            # 2.5 pt are lost among the filled ones.
            marker_colour = colour if filled or per_batch or len(groups) > 1 else PENDING_COLOUR
            # Line2D markers: one path, drawn and autoscaled far faster than a scatter.
            (line,) = ax.plot(x[mask], y[mask], linestyle="none", marker="o", markersize=size, markeredgewidth=0.8,
                              color=marker_colour, markerfacecolor=marker_colour if filled else "none", label=label,
                              zorder=z["filled"] if filled else z["open"])
            handles.append(line)
    label, unit = X_AXES[query["x"]]
    ax.set_xlabel(f"{label} ({unit})", parse_math=False)
    y_unit = points[0].unit if points else ""
    name = query["name"] + (f" [{query['assignment']}]" if query["assignment"] else "")
    if query["name"] and not set(name) & set("$\\"):
        name = quantity_label(query["routine"], query["name"], query["assignment"])
    ax.set_ylabel(f"{name} ({y_unit})" if y_unit else name, parse_math=False)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    if handles:
        # A fixed place outside the axes: "best" placement tests every point (seconds).
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                           frameon=False, title="filled: accepted · open: pending" if per_batch else None,
                           title_fontsize=7)
        for text in legend.get_texts():
            text.set_parse_math(False)
    else:
        ax.text(0.5, 0.5, "no values to plot", ha="center", va="center", transform=ax.transAxes)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110 if fmt == "png" else 100)
    return buf.getvalue()
