"""Writes for instruments, measurements and their raw files. Staging and recognition of
uploads are in `ingest`, stored bytes in `blobs`; requesting analyses of a new
measurement is the analyses app's pipeline, which calls `measurement_create`."""
from __future__ import annotations

import tempfile
from datetime import timezone as dt_timezone
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labtrack.core.edits import locked_update
from labtrack.core.roles import Action
from labtrack.measurements.blobs import blob_store, blob_verify
from labtrack.measurements.ingest import StagedFile, Upload, check_technique, describe, stage_uploads
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique
from labtrack.samples.models import Sample
from labtrack.samples.permissions import require
from labtrack.samples.services import require_reason_if_reviewed

__all__ = ["Upload", "detect_uploads", "instrument_create", "measurement_create", "measurement_update",
           "raw_file_verify"]


def detect_uploads(*, uploads: list[Upload]) -> list[dict[str, Any]]:
    """What each file is, before anything is saved (the upload form's preview).
    Raises ValidationError naming each unreadable file."""
    with tempfile.TemporaryDirectory(prefix="labtrack-upload-") as folder:
        return describe(stage_uploads(uploads, folder))


def measurement_create(
    *,
    user,
    sample: Sample,
    technique: str,
    uploads: list[Upload],
    instrument: Instrument | None = None,
    measured_at=None,
    label: str = "",
    notes: str = "",
    reference: Measurement | None = None,
    on_created: Callable[[Measurement, list[RawFile]], None] | None = None,
) -> Measurement:
    """Attach a measurement with its raw files to `sample`. Every file is checked first;
    if any cannot be read, nothing is saved and the ValidationError maps each bad file's
    name to its problem. `on_created(measurement, raw_files)` runs inside the same
    transaction (the pipeline requests the analyses there: all or nothing)."""
    require(user, sample.batch.project, Action.EDIT_SAMPLES)
    technique = Technique(technique)
    if not uploads:
        raise ValidationError({"files": "Attach at least one raw file."})
    if reference is not None and reference.sample.batch.project_id != sample.batch.project_id:
        raise ValidationError({"reference": f"Reference measurement {reference.pk} belongs to another project."})
    if instrument is not None and instrument.technique != technique:
        raise ValidationError({"instrument": f"{instrument} is a {instrument.get_technique_display()} instrument."})
    with tempfile.TemporaryDirectory(prefix="labtrack-upload-") as folder:
        staged = stage_uploads(uploads, folder)
        check_technique(staged, technique)
        for s in staged:
            blob_store(s.temp_path, s.sha256)
        metadata = {s.name: s.info.metadata for s in staged}
        with transaction.atomic():
            measurement = Measurement.objects.create(
                sample=sample, technique=technique, instrument=instrument,
                measured_at=measured_at or _measured_at_from(staged) or timezone.now(),
                operator=user, label=label or _label_from(staged), notes=notes,
                metadata=metadata if len(staged) > 1 else staged[0].info.metadata,
                reference_measurement=reference,
            )
            raw_files = [
                RawFile.objects.create(
                    measurement=measurement, sha256=s.sha256, original_name=s.name,
                    size_bytes=s.size_bytes, detected_format=s.info.format, data_kind=s.info.kind,
                    uploaded_by=user,
                )
                for s in staged
            ]
            if on_created is not None:
                on_created(measurement, raw_files)
    return measurement


def _measured_at_from(staged: list[StagedFile]):
    for s in staged:
        value = s.info.metadata.get("date") or s.info.metadata.get("measured_at")
        if isinstance(value, str):
            parsed = parse_datetime(value)
            if parsed is not None:
                return parsed if parsed.tzinfo else timezone.make_aware(parsed, dt_timezone.utc)
    return None


def _label_from(staged: list[StagedFile]) -> str:
    meta = staged[0].info.metadata
    parts = [str(meta[k]) for k in ("nucleus", "experiment", "pulprog") if meta.get(k)]
    return ", ".join(parts[:2]) if parts else staged[0].info.format


def raw_file_verify(raw_file: RawFile) -> bool:
    """Recompute the stored blob's checksum: True when it still matches."""
    return blob_verify(raw_file.sha256)


def instrument_create(*, name: str, technique: str, **fields: Any) -> Instrument:
    instrument = Instrument(name=name, technique=Technique(technique), **fields)
    instrument.full_clean()
    instrument.save()
    return instrument


MEASUREMENT_EDIT_FIELDS = ("sample", "instrument", "measured_at", "label", "notes")


def measurement_update(*, user, measurement: Measurement, reason: str = "", **fields: Any) -> Measurement:
    """Change a measurement's sample, instrument, date, label or notes. The sample must be
    in the same project; the instrument must be of the measurement's technique. After a
    result of the batch was accepted, a reason is required and recorded."""
    batch = measurement.sample.batch
    require(user, batch.project, Action.EDIT_SAMPLES)
    unknown = set(fields) - set(MEASUREMENT_EDIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown measurement fields: {sorted(unknown)}")
    sample = fields.get("sample")
    if sample is not None and sample.batch.project_id != batch.project_id:
        raise ValidationError({"sample": f"Sample {sample} belongs to another project."})
    instrument = fields.get("instrument")
    if instrument is not None and instrument.technique != measurement.technique:
        raise ValidationError({"instrument": f"{instrument} is a {instrument.get_technique_display()} instrument."})
    if fields.get("measured_at", measurement.measured_at) is None:
        raise ValidationError({"measured_at": "Say when the measurement was made."})
    require_reason_if_reviewed(batch, reason, "the measurement")
    if sample is not None:
        require_reason_if_reviewed(sample.batch, reason, "the measurement")
    return locked_update(Measurement, measurement.pk, fields, reason)
