"""REST API under /api/v1/: thin viewsets over services (writes) and visibility filters."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ParseError
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from labtrack.analyses import review
from labtrack.analyses import services as run_services
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.analyses.selectors import quantities_of_record
from labtrack.api.serializers import (BatchSerializer, MeasurementSerializer, QuantitySerializer,
                                      RunSerializer, SampleSerializer)
from labtrack.core.errors import Conflict
from labtrack.measurements.models import Instrument, Measurement
from labtrack.measurements.uploads import upload_refusal
from labtrack.samples.models import Batch, Sample
from labtrack.samples.permissions import visible_projects
from labtrack.samples.services import batch_create


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class ConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The object changed under you."


def _service_call(fn, *args, **kwargs):
    """Run a service and turn its domain errors into API errors (never a 500): invalid
    input 400, not allowed 403, a state conflict (already reviewed, superseded) 409."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        raise ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc)) from None
    except Conflict as exc:
        raise ConflictError(str(exc)) from None


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = BatchSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Batch.objects.filter(project__in=visible_projects(self.request.user)).select_related("project")

    def create(self, request, *args, **kwargs):
        project = get_object_or_404(visible_projects(request.user), pk=request.data.get("project_id"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        batch = _service_call(batch_create, user=request.user, project=project, code=data.pop("code"), **data)
        return Response(self.get_serializer(batch).data, status=status.HTTP_201_CREATED)


class SampleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SampleSerializer

    def get_queryset(self):
        return Sample.objects.filter(batch__project__in=visible_projects(self.request.user)).select_related("batch", "parent")


class MeasurementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MeasurementSerializer

    def get_queryset(self):
        return (Measurement.objects.filter(sample__batch__project__in=visible_projects(self.request.user))
                .select_related("sample__batch").prefetch_related("raw_files"))

    def create(self, request, *args, **kwargs):
        """multipart: sample (code), technique, files (one or more), optional instrument (id), label, notes,
        measured_at (ISO 8601; else from the files) and age_confirmation_reason (a manager's, for a date
        before the sample's preparation or ageing start, which is otherwise a 400)."""
        data = request.data  # parses the body: the upload handler may refuse it
        if upload_refusal(request):
            raise PayloadTooLarge(upload_refusal(request))
        sample = get_object_or_404(Sample.objects.filter(batch__project__in=visible_projects(request.user)),
                                   code=data.get("sample"))
        files = request.FILES.getlist("files")
        if not files:
            raise ParseError("Attach at least one file in the 'files' field.")
        instrument = None
        if request.data.get("instrument"):
            instrument = get_object_or_404(Instrument, pk=request.data["instrument"])
        measured_at = None
        if request.data.get("measured_at"):
            measured_at = parse_datetime(str(request.data["measured_at"]))
            if measured_at is None:
                raise ApiValidationError({"measured_at": "Give an ISO 8601 date and time, e.g. 2026-05-04T10:00Z."})
            if measured_at.tzinfo is None:
                measured_at = timezone.make_aware(measured_at)
        measurement = _service_call(
            measurement_upload, user=request.user, sample=sample, technique=request.data.get("technique", ""),
            uploads=[Upload(f.name, f) for f in files], instrument=instrument, measured_at=measured_at,
            label=request.data.get("label", ""), notes=request.data.get("notes", ""),
            age_confirmation_reason=str(request.data.get("age_confirmation_reason", "")))
        return Response(self.get_serializer(measurement).data, status=status.HTTP_201_CREATED)


    @action(detail=True, methods=["post"])
    def analyse(self, request, pk=None):
        """Request any routine on this measurement: {"routine": ..., "parameters": {...}}."""
        measurement = self.get_object()
        params = request.data.get("parameters") or {}
        if not isinstance(params, dict):
            raise ApiValidationError({"parameters": "Give parameters as a JSON object."})
        run = _service_call(run_services.run_request, user=request.user, measurement=measurement,
                            routine=request.data.get("routine", ""), parameters=params)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer

    def get_queryset(self):
        runs = (AnalysisRun.objects.visible_to(self.request.user).defer("figure_png", "figure_svg", "curves")
                .select_related("batch").prefetch_related("quantities"))
        for field in ("routine", "status", "review_state"):
            if self.request.query_params.get(field):
                runs = runs.filter(**{field: self.request.query_params[field]})
        if self.request.query_params.get("current") in ("1", "true"):
            runs = runs.current()
        if self.request.query_params.get("of_record") in ("1", "true"):
            runs = runs.of_record()
        return runs

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """{"decision": "accept" | "reject" | "retract", "reason": "..."}; a superseded or
        already-reviewed run answers 409."""
        run = self.get_object()
        decision = request.data.get("decision")
        reason = str(request.data.get("reason", "") or "")
        if decision == "retract":
            run, _ = _service_call(review.run_retract, run=run, user=request.user, reason=reason)
        elif decision in ("accept", "reject"):
            run = _service_call(review.run_review, run=run, reviewer=request.user,
                                accept=decision == "accept", reason=reason)
        else:
            raise ApiValidationError({"decision": "Say 'accept', 'reject' or 'retract'."})
        return Response(self.get_serializer(run).data)

    @action(detail=True, methods=["post"])
    def refit(self, request, pk=None):
        run = self.get_object()
        params = request.data.get("parameters") or {}
        if not isinstance(params, dict):
            raise ApiValidationError({"parameters": "Give parameters as a JSON object."})
        new_run = _service_call(run_services.run_refit, run=run, user=request.user, parameters=params)
        return Response(self.get_serializer(new_run).data, status=status.HTTP_201_CREATED)


class QuantityViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Cross-batch queries of current numbers, with provenance:
    ?name=mean_diameter_nm&technique=saxs&sample=NC8.3-P&assignment=core&accepted=1
    (`accepted=1`: results of record only; otherwise unreviewed candidates too, flagged
    by `of_record`)."""

    serializer_class = QuantitySerializer

    def get_queryset(self):
        params = self.request.query_params
        filters = {key: params[key] for key in ("name", "assignment", "technique", "routine", "batch", "sample")
                   if params.get(key)}
        return quantities_of_record(user=self.request.user, accepted_only=params.get("accepted") in ("1", "true"),
                                    **filters)
