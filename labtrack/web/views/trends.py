"""Trends page: one quantity across batches or against sample age, as a chart drawn in
the browser (trends.js with uPlot, from trends/data.json), a figure to download (SVG/PNG),
a table of the first TABLE_ROWS points and every plotted point as CSV."""
from __future__ import annotations

import hashlib

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from labtrack.core import csv_safe
from labtrack.insights.selectors import X_AXES, default_choice, quantity_choices, quantity_points, trend_summary
from labtrack.insights.trend_data import chart_json, empty_arrays, trend_arrays
from labtrack.web.views.common import REVALIDATE, not_modified, page
from labtrack.web.views.trends_figure import trend_figure

TABLE_ROWS = 200  # a table of 20,000 rows is 1 MB of HTML nobody reads; the CSV has them all
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _query(request, choices=None) -> dict:
    # quantity=name|assignment|routine (routine optional: all routines reporting the name)
    name, assignment, routine = (request.GET.get("quantity", "").split("|") + ["", ""])[:3]
    if not name and "quantity" not in request.GET and choices is not None:
        chosen = default_choice(choices)  # first open: show data, not a blank form
        if chosen is not None:
            name, assignment, routine = chosen.name, chosen.assignment, chosen.routine
    x = request.GET.get("x", "age_days")
    # Accepted and pending by default (told apart by marker): a lab that has not reviewed
    # yet still sees its numbers.
    return {"name": name, "assignment": assignment, "routine": routine, "x": x if x in X_AXES else "age_days",
            "accepted_only": request.GET.get("accepted", "0") == "1"}


def _params(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({"quantity": f"{query['name']}|{query['assignment']}|{query['routine']}", "x": query["x"],
                      "accepted": "1" if query["accepted_only"] else "0"})


def _export_query(query: dict) -> str:
    """The same numbers for the API's export (/api/v1/quantities/export/), without format/shape."""
    from urllib.parse import urlencode

    params = {"name": query["name"], "assignment": query["assignment"], "routine": query["routine"],
              "accepted": "true" if query["accepted_only"] else "false"}
    return urlencode({k: v for k, v in params.items() if v})


@page
def trends(request):
    choices = quantity_choices(user=request.user)
    query = _query(request, choices)
    summary = trend_summary(user=request.user, **query, limit=TABLE_ROWS) if query["name"] else None
    groups: dict[str, list] = {}
    for c in choices:
        groups.setdefault(c.technique_label, []).append(c)
    chosen = next((c for c in choices if (c.name, c.assignment, c.routine) == (query["name"], query["assignment"],
                                                                               query["routine"])), None)
    n_points = summary.n_points if summary else 0
    return render(request, "insights/trends.html", {
        "choice_groups": groups, "chosen": chosen, "x_axes": X_AXES, "query": query,
        "points": summary.points if summary else [], "n_points": n_points,
        "n_accepted": summary.n_accepted if summary else 0, "n_pending": summary.n_pending if summary else 0,
        "truncated": n_points > TABLE_ROWS, "table_rows": TABLE_ROWS, "figure_query": _params(query),
        "export_query": _export_query(query),
        # A negative age is never plotted without comment (issue 11).
        "negative_ages": summary.negative_ages if summary else [],
        "n_negative_ages": summary.n_negative_ages if summary else 0,
    })


def _arrays(request, query: dict):
    return trend_arrays(user=request.user, **query) if query["name"] else empty_arrays()


@page
def trends_figure(request, fmt: str = "svg"):
    query = _query(request)
    if fmt not in CONTENT_TYPES:
        fmt = "svg"
    response = HttpResponse(trend_figure(_arrays(request, query), query, fmt), content_type=CONTENT_TYPES[fmt])
    if fmt == "svg":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="trend-{query["name"] or "empty"}.{fmt}"'
    return response


@page
def trends_data(request):
    """Every plotted point for the page's chart: compact arrays rounded to plot precision
    (insights.trend_data.chart_data), written by the compare view's fast encoder."""
    query = _query(request)
    body = chart_json(_arrays(request, query), query)
    # The points depend on every run of record of the quantity, so the tag is the body's
    # hash: an unchanged chart is not sent again (760 KB for 20,000 points), though it is
    # still read.
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    if (unchanged := not_modified(request, etag)) is not None:
        return unchanged
    response = HttpResponse(body, content_type="application/json")
    response["ETag"], response["Cache-Control"] = etag, REVALIDATE
    return response


class _Echo:
    def write(self, value):
        return value


TRENDS_CSV_HEADER = ["batch", "sample", "aged", "technique", "routine", "run", "of_record", "x_axis", "x", "x_stderr",
                     "name", "assignment", "value", "stderr", "unit"]


@page
def trends_csv(request):
    """Every plotted point (not only the table's first rows), with its x."""
    query = _query(request)
    points = quantity_points(user=request.user, **query) if query["name"] else []
    writer = csv_safe.writer(_Echo())

    def rows():
        yield TRENDS_CSV_HEADER
        for p in points:
            yield [p.batch, p.sample, p.aged, p.technique, p.routine, p.run_id, p.accepted, query["x"], p.x,
                   p.x_stderr, query["name"], query["assignment"], p.value, p.stderr, p.unit]

    response = StreamingHttpResponse((writer.writerow(r) for r in rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trend-{query["name"] or "empty"}.csv"'
    return response
