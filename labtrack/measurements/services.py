"""Writes for instruments, measurements and raw files (upload, checksum, detection)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timezone as dt_timezone
from typing import IO, Any, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from labtrack.analyses import adapters
from labtrack.core.edits import locked_update
from labtrack.core.permissions import require
from labtrack.core.roles import Action
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique, blob_path
from labtrack.samples.models import Sample


@dataclass
class Upload:
    """A file as the user sent it: a name and a binary stream (Django's UploadedFile,
    an open file, or BytesIO)."""

    name: str
    stream: IO[bytes]


@dataclass
class StagedFile:
    name: str
    temp_path: str
    sha256: str
    size_bytes: int
    info: adapters.FileInfo


def blob_full_path(sha256: str) -> str:
    return os.path.join(settings.MEDIA_ROOT, blob_path(sha256))


def _stage(upload: Upload, folder: str, index: int) -> StagedFile:
    """Copy an upload to a temp file while hashing it, enforcing the size limit as it
    streams (a 2 GB upload is refused without ever being held in memory)."""
    limit = settings.LABTRACK_MAX_UPLOAD_BYTES
    name = os.path.basename(upload.name.replace("\\", "/")) or f"file{index}"
    temp_path = os.path.join(folder, f"{index}-{name}")
    digest, size = hashlib.sha256(), 0
    with open(temp_path, "wb") as out:
        chunks = upload.stream.chunks() if hasattr(upload.stream, "chunks") else iter(lambda: upload.stream.read(1 << 20), b"")
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ValidationError({name: f"{name} is larger than the {limit // 2**20} MiB upload limit."})
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise ValidationError({name: f"{name} is empty."})
    try:
        info = adapters.inspect_file(temp_path, name)
    except adapters.UserInputError as exc:
        raise ValidationError({name: str(exc)}) from None
    return StagedFile(name, temp_path, digest.hexdigest(), size, info)


def stage_uploads(uploads: Iterable[Upload], folder: str) -> list[StagedFile]:
    """Stage every upload; collect every file's problem so the user sees them all."""
    staged, errors = [], {}
    for i, upload in enumerate(uploads):
        try:
            staged.append(_stage(upload, folder, i))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return staged


def _store_blob(staged: StagedFile) -> None:
    """Move the staged bytes to their content address (once; identical uploads share it)."""
    target = blob_full_path(staged.sha256)
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{os.getpid()}.partial"
    shutil.copyfile(staged.temp_path, tmp)
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)  # atomic: a reader never sees half a blob


def detect_uploads(*, uploads: list[Upload]) -> list[dict[str, Any]]:
    """What each file is, before anything is saved (the upload form's preview).
    Returns [{name, format, kind, technique, metadata}] or raises ValidationError."""
    with tempfile.TemporaryDirectory(prefix="labtrack-upload-") as folder:
        staged = stage_uploads(uploads, folder)
    return [
        {"name": s.name, "format": s.info.format, "kind": s.info.kind,
         "technique": adapters.KIND_TECHNIQUE.get(s.info.kind, ""), "metadata": s.info.metadata,
         "sha256": s.sha256, "size_bytes": s.size_bytes}
        for s in staged
    ]


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
    request_analyses: bool = True,
    reference: Measurement | None = None,
) -> Measurement:
    """Attach a measurement with its raw files to `sample` and request its default
    analyses. Every file is checked first; if any cannot be read, nothing is saved and
    the ValidationError maps each bad file's name to its problem."""
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
        wrong = {
            s.name: f"{s.name} is {s.info.kind} data ({s.info.format}), not {technique.label}."
            for s in staged if adapters.KIND_TECHNIQUE.get(s.info.kind) != technique
        }
        if wrong:
            raise ValidationError(wrong)
        for s in staged:
            _store_blob(s)
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
            if request_analyses:
                from labtrack.analyses.services import runs_request_defaults

                runs_request_defaults(measurement=measurement, raw_files=raw_files, user=user)
                if reference is not None:
                    from labtrack.analyses.derived import quantification_request

                    quantification_request(measurement=measurement, user=user)
    return measurement


def _measured_at_from(staged: list[StagedFile]):
    from django.utils.dateparse import parse_datetime

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
    return adapters.file_sha256(blob_full_path(raw_file.sha256)) == raw_file.sha256


def instrument_create(*, name: str, technique: str, **fields: Any) -> Instrument:
    instrument = Instrument(name=name, technique=Technique(technique), **fields)
    instrument.full_clean()
    instrument.save()
    return instrument


def instrument_calibrate_from_run(*, instrument: Instrument, run, user) -> Instrument:
    """Store an accepted xrd.instrument_profile result (Caglioti U, V, W and the
    Lorentzian fraction) as the instrument's calibration; later Scherrer runs use it."""
    from labtrack.analyses.models import ReviewState

    require(user, run.project, Action.MANAGE)
    if run.routine != "xrd.instrument_profile" or run.review_state != ReviewState.ACCEPTED:
        raise ValidationError({"run": "Only an accepted xrd.instrument_profile run can calibrate an instrument."})
    if instrument.technique != Technique.XRD:
        raise ValidationError({"instrument": f"{instrument} is not an XRD instrument."})
    q = {k: v.get("value") for k, v in (run.result or {}).get("quantities", {}).items()}
    calibration = dict(instrument.calibration)
    calibration["caglioti"] = {"U": q["caglioti_u"], "V": q["caglioti_v"], "W": q["caglioti_w"]}
    if q.get("instrument_eta") is not None:
        calibration["instrument_eta"] = q["instrument_eta"]
    calibration.pop("instrument_fwhm_deg", None)  # the profile supersedes a single width
    calibration["calibrated_by_run"] = run.pk
    instrument.calibration = calibration
    instrument._change_reason = f"calibrated from run #{run.pk}"
    instrument.save()
    return instrument


MEASUREMENT_EDIT_FIELDS = ("sample", "instrument", "measured_at", "label", "notes")


def measurement_update(*, user, measurement: Measurement, reason: str = "", **fields: Any) -> Measurement:
    """Change a measurement's sample, instrument, date, label or notes. The sample must be
    in the same project; the instrument must be of the measurement's technique. After a
    result of the batch was accepted, a reason is required and recorded."""
    from labtrack.samples.services import require_reason_if_reviewed

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
