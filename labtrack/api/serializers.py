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
    batch = serializers.CharField(source="run.batch.code", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    review_state = serializers.CharField(source="run.review_state", read_only=True)

    class Meta:
        model = Quantity
        fields = ["run", "batch", "name", "value", "value_json", "stderr", "unit", "component_label",
                  "assignment", "review_state"]


class RunSerializer(serializers.ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quantities = QuantitySerializer(many=True, read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = AnalysisRun
        fields = ["id", "batch", "measurement", "routine", "routine_version", "parameters", "input_files",
                  "status", "stage", "progress_percent", "attempts", "queued_at", "started_at", "finished_at",
                  "error", "result", "requested_by", "supersedes", "review_state", "reviewer", "reviewed_at",
                  "review_reason", "reviewed_result_sha256", "quantities"]
