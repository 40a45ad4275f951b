"""Query filters of the API (django-filter). A value that does not fit its filter
(`instrument=abc`, a date that is no date, an unknown technique) is a 400 naming the
parameter, never a 500. Each viewset's queryset is already limited to the user's
projects; filters only narrow it."""
from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field

from labtrack.ageing.models import Study
from labtrack.api.fields import LabDateTimeFilter
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.selectors import quantities_of_record
from labtrack.core.records import ReviewState, RunStatus
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique
from labtrack.samples.models import Batch, BatchStatus, Project, Sample, SampleForm, SynthesisProtocol, code_is


def _code(field: str):
    """Filter method: case-insensitive code match on the code index (models.code_is) of
    the queryset's own code (`field` "") or of a related batch or sample."""

    def method(queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        if not field:
            return queryset.filter(code_is(value))
        related = queryset.model._meta.get_field(field).related_model
        return queryset.filter(**{f"{field}__in": related.objects.filter(code_is(value)).values("pk")})

    return method


MAX_ID = 2**63 - 1  # a PostgreSQL bigint


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An id: a whole number, else 400 ("Enter a whole number.")."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


MAX_AGE_DAYS = 100_000.0  # ~270 years: beyond any sample, and inside what a timedelta holds


@extend_schema_field({"type": "number", "minimum": -MAX_AGE_DAYS, "maximum": MAX_AGE_DAYS})
class DaysFilter(filters.NumberFilter):
    """A number of days (finite, within ±MAX_AGE_DAYS), else 400."""

    field_class = forms.FloatField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_AGE_DAYS)
        kwargs.setdefault("max_value", MAX_AGE_DAYS)
        super().__init__(*args, **kwargs)


class ProjectFilterSet(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains", help_text="part of the project name")

    class Meta:
        model = Project
        fields = ["name"]


class ProtocolFilterSet(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains", help_text="part of the protocol name")

    class Meta:
        model = SynthesisProtocol
        fields = ["name", "version"]


class InstrumentFilterSet(filters.FilterSet):
    technique = filters.ChoiceFilter(choices=Technique.choices)
    name = filters.CharFilter(lookup_expr="icontains", help_text="part of the instrument name")

    class Meta:
        model = Instrument
        fields = ["technique", "name"]


class BatchFilterSet(filters.FilterSet):
    code = filters.CharFilter(method=_code(""), help_text="batch code, any case, e.g. NC8.3")
    project = IdFilter(field_name="project_id", help_text="project id")
    protocol = IdFilter(field_name="protocol_id", help_text="protocol id")
    status = filters.ChoiceFilter(choices=BatchStatus.choices)
    synthesised_after = LabDateTimeFilter(field_name="synthesised_at", lookup_expr="gte")
    synthesised_before = LabDateTimeFilter(field_name="synthesised_at", lookup_expr="lte")

    class Meta:
        model = Batch
        fields = ["code", "project", "protocol", "status"]


class SampleFilterSet(filters.FilterSet):
    batch = filters.CharFilter(method=_code("batch"), help_text="batch code, any case")
    code = filters.CharFilter(method=_code(""), help_text="sample code, any case")
    form = filters.ChoiceFilter(choices=SampleForm.choices)
    project = IdFilter(field_name="batch__project_id", help_text="project id")
    aged = filters.BooleanFilter(field_name="ageing_started_at", lookup_expr="isnull", exclude=True,
                                 help_text="true: samples put to age; false: fresh ones")

    class Meta:
        model = Sample
        fields = ["batch", "code", "form", "project"]


class MeasurementFilterSet(filters.FilterSet):
    sample = filters.CharFilter(method=_code("sample"), help_text="sample code, any case")
    batch = filters.CharFilter(field_name="sample__batch__code", lookup_expr="iexact", help_text="batch code, any case")
    technique = filters.ChoiceFilter(choices=Technique.choices)
    instrument = filters.ModelChoiceFilter(queryset=Instrument.objects.all(), help_text="instrument id")
    measured_after = LabDateTimeFilter(field_name="measured_at", lookup_expr="gte")
    measured_before = LabDateTimeFilter(field_name="measured_at", lookup_expr="lte")

    class Meta:
        model = Measurement
        fields = ["sample", "batch", "technique", "instrument"]


class RawFileFilterSet(filters.FilterSet):
    measurement = IdFilter(field_name="measurement_id", help_text="measurement id")
    sha256 = filters.CharFilter(help_text="the file's SHA-256 (hex)")

    class Meta:
        model = RawFile
        fields = ["measurement", "sha256"]


class RunFilterSet(filters.FilterSet):
    routine = filters.CharFilter(help_text="e.g. saxs.size_distribution")
    status = filters.ChoiceFilter(choices=RunStatus.choices)
    review_state = filters.ChoiceFilter(choices=ReviewState.choices)
    batch = filters.CharFilter(field_name="batch__code", lookup_expr="iexact", help_text="batch code, any case")
    measurement = IdFilter(field_name="measurement_id", help_text="measurement id")
    current = filters.BooleanFilter(field_name="is_current", help_text="true: not superseded by an accepted re-fit")
    of_record = filters.BooleanFilter(method="filter_of_record",
                                      help_text="true: only runs whose numbers are of record (current, succeeded, accepted)")

    class Meta:
        model = AnalysisRun
        fields = ["routine", "status", "review_state", "batch", "measurement"]

    def filter_of_record(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.of_record() if value else queryset.exclude(pk__in=AnalysisRun.objects.of_record().values("pk"))


class StudyFilterSet(filters.FilterSet):
    project = IdFilter(field_name="project_id", help_text="project id")
    name = filters.CharFilter(lookup_expr="icontains", help_text="part of the study name")

    class Meta:
        model = Study
        fields = ["project", "name"]


@extend_schema_field({"type": "string", "enum": [ReviewState.PENDING.value, ReviewState.ACCEPTED.value]})
class CandidateReviewStateFilter(filters.ChoiceFilter):
    """pending or accepted: the review states a current unrejected number can have."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(ReviewState.PENDING, "Pending review"), (ReviewState.ACCEPTED, "Accepted")])
        super().__init__(*args, **kwargs)


class QuantityFilterSet(filters.FilterSet):
    """The filters of `labtrack.analyses.selectors.quantities_of_record`, validated here
    and applied by the selector (the one reader of results of record)."""

    accepted = filters.BooleanFilter(method="_selector", help_text=(
        "true (default): results of record only; false: every current unrejected candidate too "
        "(flagged by `of_record`)"))
    name = filters.CharFilter(method="_selector", help_text="quantity name, e.g. mean_diameter_nm")
    assignment = filters.CharFilter(method="_selector", help_text="component assignment, e.g. bulk or core")
    technique = filters.ChoiceFilter(choices=Technique.choices, method="_selector")
    routine = filters.CharFilter(method="_selector", help_text="e.g. nmr.deconvolve")
    batch = filters.CharFilter(method="_selector", help_text="batch code, any case")
    sample = filters.CharFilter(method="_selector", help_text="sample code, any case")
    project = IdFilter(method="_selector", help_text="project id")
    review_state = CandidateReviewStateFilter(method="_selector", help_text="with accepted=false: pending or accepted")
    age_min_days = DaysFilter(method="_selector", help_text="sample age at measurement, at least (days)")
    age_max_days = DaysFilter(method="_selector", help_text="sample age at measurement, at most (days)")
    measured_from = LabDateTimeFilter(method="_selector", help_text="measured on or after (ISO 8601)")
    measured_to = LabDateTimeFilter(method="_selector", help_text="measured on or before (ISO 8601)")

    class Meta:
        model = Quantity
        fields: list[str] = []

    def _selector(self, queryset, name, value):  # applied all at once in filter_queryset
        return queryset

    def selector_arguments(self) -> dict:
        data = {k: v for k, v in self.form.cleaned_data.items() if v is not None and v != ""}
        accepted = data.pop("accepted", True)
        if "project" in data:
            data["project"] = int(data["project"])
        return {"accepted_only": accepted, **data}

    def filter_queryset(self, queryset):
        return quantities_of_record(user=self.request.user, **self.selector_arguments())
