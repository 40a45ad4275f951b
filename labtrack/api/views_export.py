"""/api/v1/quantities/export/: the results of record (with the quantities filters) as
CSV (streamed) or XLSX, long or wide, built by labtrack.analyses.exports."""
from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer

from labtrack.analyses.exports import SHAPES, table_rows, xlsx_file
from labtrack.core import csv_safe

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class _JsonErrorsOnly(BaseContentNegotiation):
    """The export chooses its body by `format`; DRF's own ?format= override and the Accept
    header must not pick a renderer (only error bodies are rendered, as JSON)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class _Echo:
    def write(self, value):
        return value


class QuantityExportMixin:
    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="csv (default, streamed) or xlsx"),
            OpenApiParameter("shape", str, enum=list(SHAPES), description=(
                "long (default): one row per quantity; wide: one row per measurement, a value and a stderr "
                "column per quantity")),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8"),
            (200, FORMATS["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="Excel workbook"),
        })
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer], content_negotiation_class=_JsonErrorsOnly,
            pagination_class=None)
    def export(self, request):
        """The results of record matching the filters, as a spreadsheet. Text cells that a
        spreadsheet would run as a formula are prefixed with an apostrophe."""
        fmt = request.query_params.get("format", "csv") or "csv"
        shape = request.query_params.get("shape", "long") or "long"
        errors = {}
        if fmt not in FORMATS:
            errors["format"] = [f"Choose one of: {', '.join(FORMATS)}."]
        if shape not in SHAPES:
            errors["shape"] = [f"Choose one of: {', '.join(SHAPES)}."]
        if errors:
            raise ValidationError(errors)
        quantities = self.filter_queryset(self.get_queryset())
        rows = table_rows(quantities, shape)
        filename = f"results-of-record-{shape}.{fmt}"
        if fmt == "csv":
            writer = csv_safe.writer(_Echo())
            response = StreamingHttpResponse((writer.writerow(r) for r in rows), content_type=FORMATS["csv"])
        else:
            response = FileResponse(xlsx_file(rows), content_type=FORMATS["xlsx"])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

