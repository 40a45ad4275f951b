"""Trends page: one quantity across batches or against sample age, as a figure and a table."""
from __future__ import annotations

import io

from django.http import HttpResponse
from django.shortcuts import render

from labtrack.insights.selectors import X_AXES, Point, quantity_choices, quantity_points
from labtrack.web.views.common import page


def _query(request) -> dict:
    # quantity=name|assignment|routine (routine optional: all routines reporting the name)
    name, assignment, routine = (request.GET.get("quantity", "").split("|") + ["", ""])[:3]
    x = request.GET.get("x", "age_days")
    return {"name": name, "assignment": assignment, "routine": routine, "x": x if x in X_AXES else "age_days",
            "accepted_only": request.GET.get("accepted", "1") == "1"}


@page
def trends(request):
    query = _query(request)
    points = quantity_points(user=request.user, **query) if query["name"] else []
    return render(request, "insights/trends.html", {
        "choices": quantity_choices(user=request.user), "x_axes": X_AXES, "query": query,
        "points": points, "figure_query": request.GET.urlencode(),
        # A negative age is never plotted without comment (issue 11).
        "negative_ages": [p for p in points if query["x"] == "age_days" and p.x < 0],
    })


@page
def trends_figure(request):
    query = _query(request)
    points = quantity_points(user=request.user, **query) if query["name"] else []
    response = HttpResponse(trend_svg(points, query), content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def trend_svg(points: list[Point], query: dict) -> bytes:
    """Value ± error against x, one colour and line per batch (an ageing series joins up).

    Every label here is user text (batch codes, the quantity asked for in the URL): it is
    drawn with mathtext off, so `$\\foo$` is shown as typed instead of being parsed, and
    failing, as a formula (which broke the figure for every batch in it).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    by_batch: dict[str, list[Point]] = {}
    several_routines = len({p.routine for p in points}) > 1
    for p in points:
        # SAXS and TEM diameters of one batch are different series, never joined.
        by_batch.setdefault(f"{p.batch} ({p.technique.upper()})" if several_routines else p.batch, []).append(p)
    for batch, series in by_batch.items():
        series.sort(key=lambda p: p.x)
        ax.errorbar([p.x for p in series], [p.value for p in series],
                    yerr=[p.stderr or 0 for p in series], marker="o", capsize=3, label=batch,
                    linestyle="-" if len(series) > 1 else "none")
    label, unit = X_AXES[query["x"]]
    ax.set_xlabel(f"{label} ({unit})", parse_math=False)
    y_unit = points[0].unit if points else ""
    name = query["name"] + (f" [{query['assignment']}]" if query["assignment"] else "")
    ax.set_ylabel(f"{name} ({y_unit})" if y_unit else name, parse_math=False)
    if by_batch:
        for text in ax.legend(fontsize=8, ncol=2).get_texts():
            text.set_parse_math(False)
    else:
        ax.text(0.5, 0.5, "no values to plot", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()
