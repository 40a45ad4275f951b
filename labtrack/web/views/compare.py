"""Compare view: measurements of one technique overlaid or stacked (/compare/), its data as
JSON for the chart (/compare/data.json) and as CSV (/compare/data.csv)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import render

from labtrack.ageing import selectors as ageing_selectors
from labtrack.analyses import compare as selectors
from labtrack.core import csv_safe
from labtrack.measurements.models import Technique
from labtrack.web.views.common import error_text, page


def _request(request) -> selectors.CompareRequest:
    req = selectors.compare_request_from(request.GET)
    if req.study_id is not None:
        study = ageing_selectors.study_get(user=request.user, pk=req.study_id)
        req.sample_ids = list(study.samples.values_list("pk", flat=True))
    return req


@page
def compare(request):
    """The page: controls and an empty chart that compare.js fills from data.json."""
    error, req = "", None
    try:
        req = _request(request)
    except ValidationError as exc:
        error = error_text(exc)
    query = request.GET.copy()
    return render(request, "web/compare.html", {
        "req": req, "error": error, "data_query": query.urlencode(),
        "techniques": Technique.choices, "normalisations": selectors.NORMALISATIONS,
    }, status=400 if error and request.GET else 200)


@page
def compare_data(request):
    try:
        data = selectors.compare_data(user=request.user, req=_request(request))
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)}, status=400)
    return JsonResponse(data)


class _Echo:
    def write(self, value):
        return value


@page
def compare_csv(request):
    try:
        data = selectors.compare_data(user=request.user, req=_request(request))
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)}, status=400)
    writer = csv_safe.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(r) for r in selectors.compare_csv_rows(data)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="compare-{data["technique"]}.csv"'
    return response
