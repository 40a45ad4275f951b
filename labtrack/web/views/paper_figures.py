"""The paper's size plots from live data, for any selection of batches: 133Cs T1 per
layer against particle diameter (Figure 3d) and XPS element/Pb ratios against diameter
(Figure 5a); each as SVG, PNG or CSV. Results of record only (insights.quantity_points)."""
from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render

from labtrack.core.naturalsort import natural_key
from labtrack.insights.selectors import Point, quantity_choices, quantity_points
from labtrack.web.views.common import page

FIGURES = {
    "t1-vs-diameter": ("133Cs T1 per layer against diameter (Figure 3d)", "T1 (s)", True),
    "xps-vs-diameter": ("XPS ratios to Pb against diameter (Figure 5a)", "ratio to Pb", False),
}
TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _series(user, key: str, batches: set[str]) -> dict[str, list[Point]]:
    """{series label: points}: per component assignment of t1_s, or per *_pb ratio name."""
    if key == "t1-vs-diameter":
        wanted = sorted({(c.name, c.assignment) for c in quantity_choices(user=user) if c.name == "t1_s" and c.assignment})
    else:
        wanted = sorted({(c.name, "") for c in quantity_choices(user=user) if c.name.endswith("_pb")})
    out = {}
    for name, assignment in wanted:
        points = [p for p in quantity_points(user=user, name=name, assignment=assignment, x="diameter_nm")
                  if not batches or p.batch in batches]
        if points:
            out[assignment or name[:-3].capitalize() + "/Pb"] = sorted(points, key=lambda p: p.x)
    return out


def _batches(request) -> set[str]:
    return {code.strip() for code in request.GET.get("batches", "").split(",") if code.strip()}


@page
def paper_figures(request):
    chosen = _batches(request)
    return render(request, "web/paper_figures.html", {"figures": FIGURES, "query": request.GET.urlencode(),
                                                      "batches": ",".join(sorted(chosen, key=natural_key))})


@page
def paper_figure(request, key: str, fmt: str):
    if key not in FIGURES or fmt not in (*TYPES, "csv"):
        raise Http404("Unknown figure or format (svg, png, csv).")
    series = _series(request.user, key, _batches(request))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["series", "batch", "sample", "diameter_nm", "value", "stderr", "unit", "run"])
        for label, points in series.items():
            for p in points:
                writer.writerow([label, p.batch, p.sample, p.x, p.value, "" if p.stderr is None else p.stderr, p.unit, p.run_id])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
        return response
    response = HttpResponse(_figure(key, series, fmt), content_type=TYPES[fmt])
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{key}.{fmt}"'
    return response


def _figure(key: str, series: dict[str, list[Point]], fmt: str) -> bytes:
    from matplotlib.figure import Figure

    title, ylabel, log_y = FIGURES[key]
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    for label, points in series.items():
        ax.errorbar([p.x for p in points], [p.value for p in points], yerr=[p.stderr or 0 for p in points],
                    marker="o", capsize=3, label=label)
    if series and log_y:
        ax.set_yscale("log")  # T1 spans 0.01 s (ligand-adjacent) to tens of s (core)
    ax.set_xlabel("particle diameter (nm)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if series:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no accepted values for these batches", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    return buf.getvalue()
