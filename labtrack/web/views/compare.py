"""Compare view: measurements of one technique overlaid or stacked (/compare/), its data as
JSON for the chart (/compare/data.json) and as CSV (/compare/data.csv)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render

from labtrack.ageing import selectors as ageing_selectors
from labtrack.analyses import compare as selectors
from labtrack.analyses import compare_encoding as encoding
from labtrack.measurements.models import Technique
from labtrack.web.views.common import REVALIDATE, error_text, not_modified, page


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


# The data of runs never change, but which run is shown (a newer fit, an acceptance) and
# who may see it do: the plan's ETag answers a revalidation (common.not_modified) without
# the arrays being read or written when nothing changed.


@page
def compare_data(request):
    try:
        req = _request(request)
        plan = selectors.compare_plan(user=request.user, req=req)
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)}, status=400)
    if (unchanged := not_modified(request, plan.etag)) is not None:
        return unchanged
    try:
        data = selectors.compare_data(user=request.user, req=req, plan=plan)
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)}, status=400)
    response = HttpResponse(encoding.dumps(data), content_type="application/json")
    response["ETag"], response["Cache-Control"] = plan.etag, REVALIDATE
    return response


@page
def compare_csv(request):
    try:
        data = selectors.compare_data(user=request.user, req=_request(request))
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)}, status=400)
    response = StreamingHttpResponse(selectors.compare_csv_chunks(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="compare-{data["technique"]}.csv"'
    return response
