"""Writes for instruments, measurements and their raw files. Staging and recognition of
uploads are in `ingest`, stored bytes in `blobs`; requesting analyses of a new
measurement is the analyses app's pipeline, which calls `measurement_create`."""
from __future__ import annotations

import tempfile
from datetime import timezone as dt_timezone
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labtrack.core.edits import locked_update
from labtrack.core.roles import Action
from labtrack.measurements.blobs import blob_store, blob_verify
from labtrack.measurements.ingest import (StagedFile, Upload, check_technique, describe, mark_technique_mismatches,
                                         stage_uploads)
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique
from labtrack.samples.models import Batch, Sample
from labtrack.samples.permissions import can, require
from labtrack.samples.services import require_reason_if_reviewed

__all__ = ["Upload", "batch_measurement_counts_refresh", "detect_uploads", "instrument_create", "check_sample_age",
           "measurement_create", "measurement_update", "raw_file_verify"]


def detect_uploads(*, uploads: list[Upload], technique: str = "") -> list[dict[str, Any]]:
    """What each file is, before anything is saved (the upload form's preview); with the
    chosen `technique`, each file says whether Save would refuse it (`mismatch`).
    Raises ValidationError naming each unreadable file."""
    if technique and technique not in Technique.values:
        technique = ""
    with tempfile.TemporaryDirectory(prefix="labtrack-upload-") as folder:
        return mark_technique_mismatches(describe(stage_uploads(uploads, folder)), technique)


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
    age_confirmation_reason: str = "",
) -> Measurement:
    """Attach a measurement with its raw files to `sample`. Every file is checked first;
    if any cannot be read, nothing is saved and the ValidationError maps each bad file's
    name to its problem. `on_created(measurement, raw_files)` runs inside the same
    transaction (the pipeline requests the analyses there: all or nothing). A date before
    the sample's preparation or ageing start is refused unless a manager gives
    `age_confirmation_reason` (check_sample_age)."""
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
        measured_at = measured_at or _measured_at_from(staged) or timezone.now()
        notes = _confirm_age(user, sample, measured_at, age_confirmation_reason, notes)
        with transaction.atomic():
            # First, so the batch row is locked before its children, as elsewhere.
            _count_measurements({sample.batch_id: +1})
            measurement = Measurement(
                sample=sample, technique=technique, instrument=instrument, measured_at=measured_at,
                operator=user, label=label or _label_from(staged), notes=notes,
                metadata=metadata if len(staged) > 1 else staged[0].info.metadata,
                reference_measurement=reference,
            )
            measurement._change_reason = age_confirmation_reason.strip()
            measurement.save()
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


def _count_measurements(deltas: dict[int, int]) -> None:
    """Add each delta to its batch's measurement_count in the caller's transaction. An
    UPDATE … SET n = n + delta, so concurrent uploads to one batch add up instead of
    overwriting; batches in id order, so two opposite moves cannot deadlock."""
    for batch_id, delta in sorted(deltas.items()):
        if delta:
            Batch.objects.filter(pk=batch_id).update(measurement_count=F("measurement_count") + delta)


def batch_measurement_counts_refresh(batch_ids: list[int] | None = None) -> int:
    """Recount Batch.measurement_count from the measurements themselves (of `batch_ids`,
    or of every batch) for rows written around the services (a bulk seed, a restore).
    Returns how many batches were wrong."""
    real = Coalesce(Subquery(Measurement.objects.filter(sample__batch=OuterRef("pk")).order_by()
                             .values("sample__batch").annotate(n=Count("pk")).values("n")[:1],
                             output_field=IntegerField()), Value(0))
    batches = Batch.objects.all() if batch_ids is None else Batch.objects.filter(pk__in=batch_ids)
    with transaction.atomic():
        return batches.annotate(real=real).exclude(measurement_count=F("real")).update(measurement_count=real)


def check_sample_age(sample: Sample, measured_at) -> str:
    """"" when `measured_at` is on or after the sample's preparation and ageing start;
    otherwise the message a chemist reads (its age from Sample.age_days would be
    negative, or the measurement predates the sample itself)."""
    starts = [("prepared", sample.prepared_at)]
    if sample.ageing_started_at is not None:
        starts.append(("put to age", sample.ageing_started_at))
    for what, when in starts:
        if when is not None and measured_at < when:
            days = (measured_at - when).total_seconds() / 86400.0
            return (f"The measurement is dated {measured_at:%Y-%m-%d %H:%M}, before sample {sample.code} was {what} "
                    f"({when:%Y-%m-%d %H:%M}): its age would be {days:.0f} days. Correct the date (a file's "
                    f"clock may be wrong), or a project manager can confirm it with a reason.")
    return ""


def _confirm_age(user, sample: Sample, measured_at, reason: str, notes: str) -> str:
    """Refuse a date before the sample unless a manager confirms it with a reason; the
    confirmation is kept in the notes (and the history's change reason)."""
    problem = check_sample_age(sample, measured_at)
    if not problem:
        return notes
    if not reason.strip():
        raise ValidationError({"measured_at": problem})
    if not can(user, sample.batch.project, Action.MANAGE):
        raise ValidationError({"measured_at": problem + " Only a project manager can confirm it."})
    confirmation = f"Date before the sample confirmed by {user}: {reason.strip()}"
    return f"{notes}\n{confirmation}".strip()


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


def measurement_update(*, user, measurement: Measurement, reason: str = "", age_confirmation_reason: str = "",
                       **fields: Any) -> Measurement:
    """Change a measurement's sample, instrument, date, label or notes. The sample must be
    in the same project; the instrument must be of the measurement's technique. After a
    result of the batch was accepted, a reason is required and recorded. A date before
    the sample's preparation or ageing start needs a manager's `age_confirmation_reason`."""
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
    # Only a changed date or sample is checked: an already confirmed date stays confirmed.
    if (sample is not None and sample.pk != measurement.sample_id) or \
            fields.get("measured_at", measurement.measured_at) != measurement.measured_at:
        fields["notes"] = _confirm_age(user, sample or measurement.sample, fields.get("measured_at", measurement.measured_at),
                                       age_confirmation_reason, fields.get("notes", measurement.notes))
        reason = reason or age_confirmation_reason
    require_reason_if_reviewed(batch, reason, "the measurement")
    if sample is None:
        return locked_update(Measurement, measurement.pk, fields, reason)
    require_reason_if_reviewed(sample.batch, reason, "the measurement")
    with transaction.atomic():
        # The batch it leaves, read under the row's lock (the caller's instance may be
        # stale, and a concurrent move must not be subtracted twice).
        old_batch_id = (Measurement.objects.select_for_update(of=("self",)).filter(pk=measurement.pk)
                        .values_list("sample__batch_id", flat=True).get())
        updated = locked_update(Measurement, measurement.pk, fields, reason)
        if old_batch_id != sample.batch_id:
            _count_measurements({old_batch_id: -1, sample.batch_id: +1})
    return updated
