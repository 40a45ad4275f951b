"""The trends figure as a download (SVG/PNG): value ± error against x for thousands of
points in well under a second (issue 16) — per series and review state one marker line
and one error-bar path (NaN-separated segments), never an artist or legend entry per batch.
The page itself draws the same points in the browser (trends.js, from trends/data.json).

Series as in insights.trend_data: with a few batches each batch is a colour, each of its
samples joined in x order (an ageing series), listed in natural order (NC6.4 before
NC10.4); with more, colours stand for the routine (pending in orange when there is only
one) and the legend counts accepted and pending points. Accepted fits are filled
circles, fits pending review open circles drawn ABOVE the accepted ones: an open ring
hides only its outline, a filled marker everything under it, so drawn the other way the
thousands of pending fits at day 1 vanished under the accepted ones. Nothing is offset or
jittered: x is the sample's real age.

Every label here is user text (batch codes, the quantity asked for in the URL): drawn
with mathtext off, so `$\\foo$` is shown as typed instead of parsed (and failing).
"""
from __future__ import annotations

import io

import numpy as np

from labtrack.insights.trend_data import TrendArrays, axis_labels, collector_paused, series_label

PENDING_COLOUR = "#e6550d"
RASTERIZE_ABOVE_POINTS = 1500  # beyond this an SVG of vector markers is megabytes; embed them as pixels
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939")


def sample_lines(samples: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The lines to draw through one batch's points (sorted by x; `samples` the sample of
    each): one per sample as it ages. A batch's aliquots stored in air and under N2 are
    separate series of the same colour, never joined to each other."""
    lines = []
    for sample in dict.fromkeys(samples.tolist()):
        same = samples == sample
        if same.sum() > 1:
            lines.append((x[same], y[same]))
    return lines


def _error_paths(ax, x, y, yerr, xerr, colour, zorder, few: bool) -> None:
    if few:
        ax.errorbar(x, y, yerr=yerr if yerr.any() else None, xerr=xerr if xerr.any() else None, fmt="none",
                    ecolor=colour, elinewidth=0.7, capsize=2, alpha=0.7, zorder=zorder)
        return
    # One path per direction: matplotlib's errorbar builds a Path per bar.
    for lo, hi, errs, vertical in ((y - yerr, y + yerr, yerr, True), (x - xerr, x + xerr, xerr, False)):
        if errs.any():
            ends = np.column_stack([lo, hi, np.full_like(lo, np.nan)]).ravel()
            at = np.repeat(x if vertical else y, 3)
            ax.plot(at if vertical else ends, ends if vertical else at, "-", color=colour, linewidth=0.5,
                    alpha=0.5, zorder=zorder)


def trend_figure(arrays: TrendArrays, query: dict, fmt: str = "svg") -> bytes:
    """The figure as SVG or PNG bytes. Drawn with the collector paused (matplotlib builds
    thousands of short-lived objects per figure); its reference cycles go at the next
    collection."""
    buf = io.BytesIO()
    with collector_paused():
        trend_matplotlib_figure(arrays, query).savefig(buf, format=fmt, dpi=110 if fmt == "png" else 100)
    return buf.getvalue()


def trend_matplotlib_figure(arrays: TrendArrays, query: dict):
    """The matplotlib Figure, not yet rendered."""
    from matplotlib.figure import Figure  # only when a figure is drawn

    fig = Figure(figsize=(8.6, 4.6), dpi=100)
    fig.subplots_adjust(left=0.09, right=0.74, bottom=0.13, top=0.95)
    ax = fig.add_subplot()
    n = len(arrays)
    rasterized = n > RASTERIZE_ABOVE_POINTS
    # Thousands of points: every data artist below the axes' grid (zorder < 1.5) is drawn
    # into ONE embedded image (one PNG encode, not one per artist); the order among them
    # is kept: error bars, lines, filled then open markers.
    z = {"bars": 1.0, "lines": 1.1, "filled": 1.2, "open": 1.3} if rasterized else \
        {"bars": 2.0, "lines": 2.0, "filled": 3.0, "open": 4.0}
    if rasterized:
        ax.set_rasterization_zorder(1.4)
    size = 5 if n < 500 else 2.5
    handles = []
    for g in range(len(arrays.groups)):
        colour = COLOURS[g % len(COLOURS)]
        idx = np.flatnonzero(arrays.group == g)
        idx = idx[np.argsort(arrays.x[idx], kind="stable")]  # in x order (an ageing series)
        x, y = arrays.x[idx], arrays.y[idx]
        yerr, xerr = np.nan_to_num(arrays.yerr[idx]), np.nan_to_num(arrays.xerr[idx])
        accepted = arrays.accepted[idx]
        _error_paths(ax, x, y, yerr, xerr, colour, z["bars"], few=len(idx) < 200)
        if arrays.per_batch and len(idx) > 1:
            for line_x, line_y in sample_lines(arrays.sample[idx], x, y):
                ax.plot(line_x, line_y, "-", color=colour, linewidth=0.8, alpha=0.6, zorder=z["lines"])
        for mask, filled in ((accepted, True), (~accepted, False)):
            if not mask.any():
                continue
            # One series of thousands: pending in a second colour too, or open circles of
            # 2.5 pt are lost among the filled ones.
            marker_colour = colour if filled or arrays.per_batch or len(arrays.groups) > 1 else PENDING_COLOUR
            # Line2D markers: one path, drawn and autoscaled far faster than a scatter.
            (line,) = ax.plot(x[mask], y[mask], linestyle="none", marker="o", markersize=size, markeredgewidth=0.8,
                              color=marker_colour, markerfacecolor=marker_colour if filled else "none",
                              label=series_label(arrays, g, filled, int(mask.sum())),
                              zorder=z["filled"] if filled else z["open"])
            handles.append(line)
    x_label, y_label = axis_labels(query, arrays.unit)
    ax.set_xlabel(x_label, parse_math=False)
    ax.set_ylabel(y_label, parse_math=False)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    if handles:
        # A fixed place outside the axes: "best" placement tests every point (seconds).
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                           frameon=False, title="filled: accepted · open: pending" if arrays.per_batch else None,
                           title_fontsize=7)
        for text in legend.get_texts():
            text.set_parse_math(False)
    else:
        ax.text(0.5, 0.5, "no values to plot", ha="center", va="center", transform=ax.transAxes)
    return fig
