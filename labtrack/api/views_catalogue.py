"""Read-only API resources: projects, protocols, instruments, raw files (with the exact
bytes), ageing studies. Each queryset is limited to the user's projects where the rows
belong to one; protocols and instruments are the lab's shared reference data."""
from __future__ import annotations


from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer

from labtrack.ageing.models import PullPoint, Study
from labtrack.api import filtersets
from labtrack.api import serializers as s
from labtrack.measurements.downloads import StoredBytesMissing, raw_file_response
from labtrack.measurements.models import Instrument, RawFile
from labtrack.samples.models import Project, SynthesisProtocol
from labtrack.samples.permissions import visible_projects
from labtrack.samples.selectors import protocols_visible


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Your projects, with your role in each."""

    queryset = Project.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.ProjectSerializer
    filterset_class = filtersets.ProjectFilterSet

    def get_queryset(self):
        return visible_projects(self.request.user).order_by("name")


class ProtocolViewSet(viewsets.ReadOnlyModelViewSet):
    """Synthesis protocols (shared by the lab; `parameter_schema` checks a batch's extra parameters)."""

    queryset = SynthesisProtocol.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.ProtocolSerializer
    filterset_class = filtersets.ProtocolFilterSet

    def get_queryset(self):
        return protocols_visible(user=self.request.user).order_by("name", "version")


class InstrumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Instruments and their calibration (shared by the lab)."""

    serializer_class = s.InstrumentSerializer
    filterset_class = filtersets.InstrumentFilterSet
    queryset = Instrument.objects.order_by("technique", "name")
    lookup_value_regex = "[^/]+"


class _PassThroughBinary(BaseRenderer):
    """Lets a client ask for application/octet-stream; the file body bypasses renderers."""

    media_type = "application/octet-stream"
    format = "bin"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class RawFileViewSet(viewsets.ReadOnlyModelViewSet):
    """Uploaded instrument files (stored once by SHA-256, never changed)."""

    queryset = RawFile.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.RawFileSerializer
    filterset_class = filtersets.RawFileFilterSet

    def get_queryset(self):
        return (RawFile.objects.filter(measurement__sample__batch__project__in=visible_projects(self.request.user))
                .order_by("uploaded_at", "id"))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="the file exactly as uploaded; X-Checksum-SHA256 carries its checksum")},
        filters=False)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, _PassThroughBinary])
    def download(self, request, pk=None):
        """The exact stored bytes under their original name."""
        raw = self.get_object()
        try:
            return raw_file_response(raw)
        except StoredBytesMissing as missing:
            raise NotFound(str(missing)) from None


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    """Ageing (stability) studies of your projects: conditions, samples, pull points and
    the stability-indicating quantities (the trends themselves are on /studies/<id>/)."""

    queryset = Study.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    filterset_class = filtersets.StudyFilterSet

    def get_serializer_class(self):
        return s.StudyDetailSerializer if self.action == "retrieve" else s.StudySerializer

    def get_queryset(self):
        qs = (Study.objects.filter(project__in=visible_projects(self.request.user)).select_related("project")
              .prefetch_related("samples").order_by("-created_at", "name"))
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("pull_points", queryset=PullPoint.objects.select_related("sample")),
                                     "quantities")
        return qs
