"""REST API under /api/v1/: thin viewsets over services (writes) and selectors (reads).

Every queryset is limited to the user's projects (`visible_projects`, the same helper the
pages use), so an object of another project is a 404 in detail and absent from lists,
filters and exports. Errors are shaped by labtrack.api.errors.
"""
from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from labtrack.analyses import review
from labtrack.analyses import services as run_services
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.analyses.selectors import quantities_of_record
from labtrack.api import filtersets
from labtrack.api import serializers as s
from labtrack.api.errors import PayloadTooLarge
from labtrack.api.schema import error_response
from labtrack.api.views_export import QuantityExportMixin
from labtrack.measurements.models import Measurement, RawFile
from labtrack.measurements.uploads import upload_refusal
from labtrack.samples.models import Batch, Sample, code_is
from labtrack.samples.permissions import visible_projects
from labtrack.samples.services import batch_create, batch_update, sample_create, sample_update


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Syntheses. Create and change go through labtrack.samples.services (duplicate codes,
    negative amounts, protocol parameters are 400s; after a result was accepted a change
    needs a `reason`)."""

    queryset = Batch.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.BatchSerializer
    filterset_class = filtersets.BatchFilterSet
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (Batch.objects.filter(project__in=visible_projects(self.request.user))
                .select_related("project").order_by("-synthesised_at", "code_sort_key"))

    def get_object(self):
        # Codes are unique whatever their case (the index is on lower(code)).
        batch = self.get_queryset().filter(code_is(self.kwargs["code"])).first()
        if batch is None:
            from rest_framework.exceptions import NotFound

            raise NotFound(f"No batch {self.kwargs['code']} in your projects.")
        return batch

    def get_serializer_class(self):
        return s.BatchUpdateSerializer if self.action == "partial_update" else s.BatchSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = data.pop("project")
        batch = batch_create(user=request.user, project=project, code=data.pop("code"), **data)
        return Response(s.BatchSerializer(batch, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        batch = self.get_object()
        serializer = self.get_serializer(batch, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        batch = batch_update(user=request.user, batch=batch, reason=data.pop("reason", ""), **data)
        return Response(s.BatchSerializer(batch, context=self.get_serializer_context()).data)

    def update(self, request, *args, **kwargs):  # PUT is not offered (http_method_names)
        return self.partial_update(request, *args, **kwargs)


class SampleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Aliquots of batches, with lineage (`parent`) and the age clock (`ageing_started_at`)."""

    queryset = Sample.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.SampleSerializer
    filterset_class = filtersets.SampleFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (Sample.objects.filter(batch__project__in=visible_projects(self.request.user))
                .select_related("batch", "parent").order_by("batch__code_sort_key", "prepared_at", "code_sort_key"))

    def get_serializer_class(self):
        return s.SampleUpdateSerializer if self.action == "partial_update" else s.SampleSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sample = sample_create(user=request.user, batch=data.pop("batch"), code=data.pop("code"),
                               form=data.pop("form"), **data)
        return Response(s.SampleSerializer(sample, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        sample = self.get_object()
        serializer = self.get_serializer(sample, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sample = sample_update(user=request.user, sample=sample, reason=data.pop("reason", ""), **data)
        return Response(s.SampleSerializer(sample, context=self.get_serializer_context()).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


@extend_schema_view(
    create=extend_schema(request={"multipart/form-data": s.MeasurementUploadSerializer},
                         responses={201: s.MeasurementSerializer, 413: error_response(413)}),
    analyse=extend_schema(request=s.RunRequestSerializer, responses={201: s.RunSerializer}),
)
class MeasurementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Measurements of samples with their raw files. POST uploads files (or a zipped
    TopSpin folder) and queues the default analyses of each file."""

    queryset = Measurement.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.MeasurementSerializer
    filterset_class = filtersets.MeasurementFilterSet

    def get_queryset(self):
        return (Measurement.objects.filter(sample__batch__project__in=visible_projects(self.request.user))
                .select_related("sample__batch")
                .prefetch_related(Prefetch("raw_files", queryset=RawFile.objects.order_by("uploaded_at", "id")))
                .order_by("-measured_at", "-id"))

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None:
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def create(self, request, *args, **kwargs):
        """multipart: sample (code), technique, files (one or more), optional instrument (id), label, notes,
        measured_at (ISO 8601; else from the files) and age_confirmation_reason (a manager's, for a date
        before the sample's preparation or ageing start, which is otherwise a 400)."""
        data = request.data  # parses the body: the upload handler may refuse it
        if upload_refusal(request):
            raise PayloadTooLarge(upload_refusal(request))
        upload = s.MeasurementUploadSerializer(data=data)
        upload.is_valid(raise_exception=True)
        fields = upload.validated_data
        sample = (Sample.objects.filter(batch__project__in=visible_projects(request.user))
                  .filter(code_is(fields["sample"])).select_related("batch__project").first())
        if sample is None:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"sample": [f"No sample {fields['sample']} in your projects."]})
        measurement = measurement_upload(
            user=request.user, sample=sample, technique=fields["technique"],
            uploads=[Upload(f.name, f) for f in fields["files"]], instrument=fields.get("instrument"),
            measured_at=fields.get("measured_at"), label=fields.get("label", ""), notes=fields.get("notes", ""),
            age_confirmation_reason=fields.get("age_confirmation_reason", ""))
        measurement = self.get_queryset().get(pk=measurement.pk)
        return Response(self.get_serializer(measurement).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def analyse(self, request, pk=None):
        """Request any routine on this measurement: {"routine": ..., "parameters": {...}}."""
        measurement = self.get_object()
        body = s.RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_services.run_request(user=request.user, measurement=measurement,
                                       routine=body.validated_data["routine"],
                                       parameters=body.validated_data["parameters"])
        return Response(s.RunSerializer(run).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    review=extend_schema(request=s.ReviewSerializer, responses={200: s.RunSerializer}),
    refit=extend_schema(request=s.RefitSerializer, responses={201: s.RunSerializer}),
)
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Analysis runs: status and progress (poll `is_finished`), parameters, result and
    quantities; review (accept / reject / retract, labtrack.analyses.review) and re-fit."""

    queryset = AnalysisRun.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.RunSerializer
    filterset_class = filtersets.RunFilterSet

    def get_queryset(self):
        return (AnalysisRun.objects.visible_to(self.request.user).defer("figure_png", "figure_svg", "curves")
                .select_related("batch")
                .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
                .order_by("-queued_at", "-id"))

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """{"decision": "accept" | "reject" | "retract", "reason": "..."}; a superseded or
        already-reviewed run answers 409."""
        run = self.get_object()
        body = s.ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision, reason = body.validated_data["decision"], body.validated_data["reason"]
        if decision == "retract":
            run, _ = review.run_retract(run=run, user=request.user, reason=reason)
        else:
            run = review.run_review(run=run, reviewer=request.user, accept=decision == "accept", reason=reason)
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data)

    @action(detail=True, methods=["post"])
    def refit(self, request, pk=None):
        """A new run of the same routine and files with changed parameters (the old one is kept)."""
        run = self.get_object()
        body = s.RefitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new_run = run_services.run_refit(run=run, user=request.user, parameters=body.validated_data["parameters"])
        return Response(self.get_serializer(new_run).data, status=status.HTTP_201_CREATED)


class QuantityViewSet(QuantityExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Results of record across batches, with provenance, from
    `labtrack.analyses.selectors.quantities_of_record` (the same numbers as the batch page,
    trends and /results.csv): ?name=mean_diameter_nm&technique=saxs&age_max_days=30.
    `accepted=false` adds the unreviewed candidates (flagged by `of_record`)."""

    queryset = Quantity.objects.none()  # the model, for the schema; get_queryset() restricts
    lookup_value_regex = "[^/]+"  # any text reaches the view, which answers 404 in the API\'s shape
    serializer_class = s.QuantitySerializer
    filterset_class = filtersets.QuantityFilterSet

    def get_queryset(self):
        return quantities_of_record(user=self.request.user)
