"""API representations. Writes go through services; these only shape and validate data."""
from __future__ import annotations

from django.db import models
from django.urls import reverse
from rest_framework import serializers

from labtrack.ageing.models import PullPoint, Study, StudyQuantity
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.api.fields import LabDateTimeField
from labtrack.core.naturalsort import natural_key
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique
from labtrack.samples.memberships import memberships_for
from labtrack.samples.models import Batch, Project, Sample, SynthesisProtocol
from labtrack.samples.permissions import visible_projects


class ModelSerializer(serializers.ModelSerializer):
    """Model fields as usual, with datetimes checked as labtrack.api.fields says."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: LabDateTimeField}


class ProjectSerializer(ModelSerializer):
    role = serializers.SerializerMethodField(help_text="your role in the project")

    class Meta:
        model = Project
        fields = ["id", "name", "description", "created_at", "role"]

    def get_role(self, project: Project) -> str:
        user = self.context["request"].user
        return next((p["role"] for p in memberships_for(user) if p["id"] == project.pk), "")


class ProtocolSerializer(ModelSerializer):
    class Meta:
        model = SynthesisProtocol
        fields = ["id", "name", "version", "description", "parameter_schema", "created_at"]


class InstrumentSerializer(ModelSerializer):
    class Meta:
        model = Instrument
        fields = ["id", "name", "technique", "model", "location", "calibration"]


class BatchSerializer(ModelSerializer):
    project = serializers.StringRelatedField(help_text="project name")
    project_id = serializers.PrimaryKeyRelatedField(
        source="project", queryset=Project.objects.none(),
        help_text="project id (one of yours, where you may edit samples); fixed once the batch exists")

    class Meta:
        model = Batch
        fields = ["id", "code", "project", "project_id", "protocol", "synthesised_at", "opa_concentration_molar",
                  "reaction_duration_s", "temperature_c", "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml",
                  "ddab_solution_volume_ul", "quench_time_s", "washing_steps", "washing_notes", "drying",
                  "notes", "extra_parameters", "status"]
        read_only_fields = ["id", "project"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["project_id"].queryset = visible_projects(request.user)


class SampleSerializer(ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", queryset=Batch.objects.none(),
                                         help_text="batch code; fixed once the sample exists")
    parent = serializers.SlugRelatedField(slug_field="code", queryset=Sample.objects.none(), required=False,
                                          allow_null=True, help_text="code of the sample this one was made from")
    age_days = serializers.SerializerMethodField(help_text="age now, in days, from ageing start else preparation")

    class Meta:
        model = Sample
        fields = ["id", "code", "batch", "form", "prepared_at", "parent", "ageing_started_at", "storage_location",
                  "atmosphere", "storage_temperature_c", "light", "mass_mg", "notes", "age_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            projects = visible_projects(request.user)
            self.fields["batch"].queryset = Batch.objects.filter(project__in=projects)
            self.fields["parent"].queryset = Sample.objects.filter(batch__project__in=projects)

    def get_age_days(self, sample: Sample) -> float:
        return round(sample.age_days(), 3)


class EditReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, write_only=True, help_text=(
        "why it is changed; required once the batch has reviewed results"))


class BatchUpdateSerializer(BatchSerializer, EditReasonSerializer):
    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "reason"]
        read_only_fields = ["id", "project", "project_id"]


class SampleUpdateSerializer(SampleSerializer, EditReasonSerializer):
    class Meta(SampleSerializer.Meta):
        fields = [*SampleSerializer.Meta.fields, "reason"]
        read_only_fields = ["batch"]


class RawFileSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="the exact stored bytes")

    class Meta:
        model = RawFile
        fields = ["id", "measurement", "original_name", "sha256", "size_bytes", "detected_format", "data_kind",
                  "uploaded_at", "download_url"]

    def get_download_url(self, raw: RawFile) -> str:
        return reverse("api-raw-file-download", args=[raw.pk])


class MeasurementSerializer(ModelSerializer):
    sample = serializers.SlugRelatedField(slug_field="code", read_only=True)
    batch = serializers.CharField(source="sample.batch.code", read_only=True)
    raw_files = RawFileSerializer(many=True, read_only=True)
    sample_age_days = serializers.FloatField(read_only=True, help_text="the sample's age when measured")

    class Meta:
        model = Measurement
        fields = ["id", "sample", "batch", "technique", "instrument", "measured_at", "label", "metadata", "notes",
                  "sample_age_days", "raw_files"]


class MeasurementUploadSerializer(serializers.Serializer):
    """multipart/form-data: the raw files (or one zipped TopSpin folder) of one measurement."""

    sample = serializers.CharField(help_text="sample code (one of your projects)")
    technique = serializers.ChoiceField(choices=Technique.choices)
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=False), allow_empty=False,
                                  help_text="one or more raw files, or a zipped TopSpin experiment folder")
    instrument = serializers.PrimaryKeyRelatedField(queryset=Instrument.objects.all(), required=False,
                                                    allow_null=True, help_text="instrument id")
    measured_at = LabDateTimeField(required=False, allow_null=True, error_messages={
        "invalid": "Give an ISO 8601 date and time, e.g. 2026-05-04T10:00Z."}, help_text=(
        "ISO 8601, e.g. 2026-05-04T10:00Z; else read from the files, else now"))
    label = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True)
    age_confirmation_reason = serializers.CharField(required=False, allow_blank=True, help_text=(
        "a project manager's reason for a date before the sample's preparation or ageing start "
        "(otherwise such a date is a 400)"))


class NaturalComponentOrder(serializers.ListSerializer):
    """A run's quantities in natural component order (p2 before p10), as on its page."""

    def to_representation(self, data):
        items = data.all() if isinstance(data, models.manager.BaseManager) else data
        return super().to_representation(sorted(items, key=lambda q: (natural_key(q.component_label), q.pk)))


class RunQuantitySerializer(ModelSerializer):
    """A quantity inside its run (the run carries the provenance)."""

    class Meta:
        list_serializer_class = NaturalComponentOrder
        model = Quantity
        fields = ["name", "value", "value_json", "stderr", "unit", "component_label", "assignment"]


class RunSerializer(ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quantities = RunQuantitySerializer(many=True, read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    of_record = serializers.BooleanField(source="is_of_record", read_only=True,
                                         help_text="current, succeeded and accepted: its numbers count")
    is_finished = serializers.BooleanField(read_only=True, help_text="succeeded, failed or cancelled")

    class Meta:
        model = AnalysisRun
        fields = ["id", "batch", "measurement", "routine", "routine_version", "parameters", "input_files",
                  "status", "stage", "progress_percent", "is_finished", "attempts", "queued_at", "started_at",
                  "finished_at", "error", "result", "requested_by", "supersedes", "is_current", "of_record",
                  "review_state", "reviewer", "reviewed_at", "review_reason", "reviewed_result_sha256", "quantities"]
        read_only_fields = fields


class RunRequestSerializer(serializers.Serializer):
    routine = serializers.CharField(help_text="e.g. saxs.size_distribution (python -m analysis list)")
    parameters = serializers.DictField(required=False, default=dict, help_text="the routine's parameters")


class RefitSerializer(serializers.Serializer):
    parameters = serializers.DictField(required=False, default=dict,
                                       help_text="parameters to change; the others stay as in the run")


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject", "retract"])
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="required to reject or retract")


class QuantitySerializer(ModelSerializer):
    """A number with where it came from: run, routine, technique, batch, sample and the
    sample's age at measurement, and whether it is of record."""

    batch = serializers.CharField(source="run.batch.code", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    routine = serializers.CharField(source="run.routine", read_only=True)
    measurement = serializers.IntegerField(source="run.measurement_id", read_only=True, allow_null=True)
    technique = serializers.CharField(source="run.measurement.technique", read_only=True, default=None, allow_null=True)
    sample = serializers.CharField(source="run.measurement.sample.code", read_only=True, default=None, allow_null=True)
    measured_at = serializers.DateTimeField(source="run.measurement.measured_at", read_only=True, default=None,
                                            allow_null=True)
    sample_age_days = serializers.FloatField(source="run.measurement.sample_age_days", read_only=True, default=None,
                                             allow_null=True)
    review_state = serializers.CharField(source="run.review_state", read_only=True)
    of_record = serializers.BooleanField(source="run.is_of_record", read_only=True)

    class Meta:
        model = Quantity
        fields = ["run", "routine", "measurement", "technique", "batch", "sample", "measured_at", "sample_age_days",
                  "name", "value", "value_json", "stderr", "unit", "component_label", "assignment", "review_state",
                  "of_record"]


class PullPointSerializer(ModelSerializer):
    sample = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PullPoint
        fields = ["id", "sample", "label", "offset_days", "tolerance_days", "techniques", "due_at", "opens_at",
                  "closes_at", "missed_at"]


class StudyQuantitySerializer(ModelSerializer):
    class Meta:
        model = StudyQuantity
        fields = ["key", "label", "routine", "name", "assignment", "unit", "threshold_kind", "threshold_amount"]


class StudySerializer(ModelSerializer):
    project = serializers.StringRelatedField()
    project_id = serializers.IntegerField(read_only=True)
    samples = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    conditions = serializers.CharField(source="conditions_text", read_only=True)

    class Meta:
        model = Study
        fields = ["id", "name", "project", "project_id", "atmosphere", "temperature_c", "relative_humidity_percent",
                  "light", "conditions", "samples", "notes", "created_at"]


class StudyDetailSerializer(StudySerializer):
    pull_points = PullPointSerializer(many=True, read_only=True)
    quantities = StudyQuantitySerializer(many=True, read_only=True)

    class Meta(StudySerializer.Meta):
        fields = [*StudySerializer.Meta.fields, "pull_points", "quantities"]
