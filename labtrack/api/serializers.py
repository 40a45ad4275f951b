"""API representations. Writes go through services; these only shape data."""
from __future__ import annotations

from rest_framework import serializers

from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Sample


class BatchSerializer(serializers.ModelSerializer):
    project = serializers.StringRelatedField()

    class Meta:
        model = Batch
        fields = ["id", "code", "project", "protocol", "synthesised_at", "opa_concentration_molar",
                  "reaction_duration_s", "temperature_c", "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml",
                  "ddab_solution_volume_ul", "quench_time_s", "washing_steps", "washing_notes", "drying",
                  "notes", "extra_parameters", "status"]
        read_only_fields = ["id", "project"]


class SampleSerializer(serializers.ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Sample
        fields = ["id", "code", "batch", "form", "prepared_at", "parent", "ageing_started_at", "storage_location",
                  "atmosphere", "storage_temperature_c", "light", "mass_mg", "notes"]


class RawFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RawFile
        fields = ["id", "original_name", "sha256", "size_bytes", "detected_format", "data_kind", "uploaded_at"]


class MeasurementSerializer(serializers.ModelSerializer):
    sample = serializers.SlugRelatedField(slug_field="code", read_only=True)
    raw_files = RawFileSerializer(many=True, read_only=True)
    sample_age_days = serializers.FloatField(read_only=True)

    class Meta:
        model = Measurement
        fields = ["id", "sample", "technique", "instrument", "measured_at", "label", "metadata", "notes",
                  "sample_age_days", "raw_files"]


class QuantitySerializer(serializers.ModelSerializer):
    """A number with where it came from: run, routine, technique, batch, sample and the
    sample's age at measurement, and whether it is of record."""

    batch = serializers.CharField(source="run.batch.code", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    routine = serializers.CharField(source="run.routine", read_only=True)
    technique = serializers.CharField(source="run.measurement.technique", read_only=True, default=None)
    sample = serializers.CharField(source="run.measurement.sample.code", read_only=True, default=None)
    measured_at = serializers.DateTimeField(source="run.measurement.measured_at", read_only=True, default=None)
    sample_age_days = serializers.FloatField(source="run.measurement.sample_age_days", read_only=True, default=None)
    review_state = serializers.CharField(source="run.review_state", read_only=True)
    of_record = serializers.BooleanField(source="run.is_of_record", read_only=True)

    class Meta:
        model = Quantity
        fields = ["run", "routine", "technique", "batch", "sample", "measured_at", "sample_age_days", "name",
                  "value", "value_json", "stderr", "unit", "component_label", "assignment", "review_state",
                  "of_record"]


class RunQuantitySerializer(serializers.ModelSerializer):
    """A quantity inside its run (the run carries the provenance)."""

    class Meta:
        model = Quantity
        fields = ["name", "value", "value_json", "stderr", "unit", "component_label", "assignment"]


class RunSerializer(serializers.ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quantities = RunQuantitySerializer(many=True, read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    of_record = serializers.BooleanField(source="is_of_record", read_only=True)

    class Meta:
        model = AnalysisRun
        fields = ["id", "batch", "measurement", "routine", "routine_version", "parameters", "input_files",
                  "status", "stage", "progress_percent", "attempts", "queued_at", "started_at", "finished_at",
                  "error", "result", "requested_by", "supersedes", "is_current", "of_record", "review_state", "reviewer", "reviewed_at",
                  "review_reason", "reviewed_result_sha256", "quantities"]
