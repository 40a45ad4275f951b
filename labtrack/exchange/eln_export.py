"""A batch as an `.eln` file: the ELN Consortium's format, a zip with one top folder that
holds an RO-Crate 1.1 (`ro-crate-metadata.json`, built with ro-crate-py) describing the
batch, its samples, measurements, raw files (sha256, contentSize, encodingFormat),
analysis runs (result JSON, stored figures) and the results of record
(`analyses.selectors.quantities_of_record`, the one rule). `labtrack.json` beside it
carries the same records field by field so another LabTrack can import the bundle.

`batch_describe` is the one description of a batch: a batch's own bundle and an ageing
study's (eln_study) both call it. Raw files are streamed from their blobs into the zip
(1 MiB at a time) and runs are read one by one — described, then their result and
figures read again when written — so memory stays bounded whatever the batch holds."""
from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import shutil
import zipfile
from contextlib import closing
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rocrate.model import ContextEntity, Person
from rocrate.rocrate import ROCrate

from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.analyses.selectors import quantities_of_record
from labtrack.measurements.blobs import CHUNK_BYTES, blob_open
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Sample

FORMAT_VERSION = 1
NATIVE_NAME = "labtrack.json"
RESULTS_NAME = "results-of-record.json"
PUBLISHER_ID = "#labtrack"
BATCH_FIELDS = ("synthesised_at", "opa_concentration_molar", "reaction_duration_s", "temperature_c",
                "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml", "ddab_solution_volume_ul", "quench_time_s",
                "washing_steps", "washing_notes", "drying", "notes", "extra_parameters", "status")
SAMPLE_FIELDS = ("form", "prepared_at", "ageing_started_at", "storage_location", "atmosphere",
                 "storage_temperature_c", "light", "mass_mg", "notes")
# Units of the batch's numbers, for the crate's PropertyValues (the field names say them).
UNITS = {"opa_concentration_molar": "M", "reaction_duration_s": "s", "temperature_c": "°C",
         "cs_octanoate_volume_ul": "µL", "pbbr2_solution_volume_ml": "mL", "ddab_solution_volume_ul": "µL",
         "quench_time_s": "s", "storage_temperature_c": "°C", "mass_mg": "mg",
         "relative_humidity_percent": "%"}
ENCODINGS = {".dat": "text/plain", ".xy": "text/plain", ".csv": "text/csv", ".txt": "text/plain",
             ".zip": "application/zip", ".brml": "application/zip", ".vms": "text/plain", ".raw": "application/octet-stream",
             ".tif": "image/tiff", ".tiff": "image/tiff", ".dm3": "application/octet-stream",
             ".dm4": "application/octet-stream", ".json": "application/json", ".svg": "image/svg+xml",
             ".png": "image/png"}


def iso_or_none(value) -> str | None:
    return value.isoformat() if value is not None else None


def folder_name(text: str) -> str:
    """A file-system-safe name (codes such as NC8.3 stay as they are)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"


def encoding_of(name: str) -> str:
    ext = os.path.splitext(name.lower())[1]
    return ENCODINGS.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _value(field: str, value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class _Deferred:
    """A run's output (result.json or a figure), read from the database when written."""

    run_id: int
    name: str
    sha256: str


class Crate:
    """The RO-Crate being described, plus the zip entries to write (metadata first):
    (path in the crate, bytes | a blob's sha256 | _Deferred)."""

    def __init__(self, top: str):
        self.top = top
        self.crate = ROCrate(gen_preview=False, version="1.1")
        self.people: dict[int, dict] = {}
        self.entries: list[tuple[str, Any]] = []
        self.now = timezone.now()

    def person(self, user) -> dict | None:
        if user is None:
            return None
        if user.pk not in self.people:
            name = user.get_full_name() or user.get_username()
            self.crate.add(Person(self.crate, f"#person-{user.pk}", properties={"name": name}))
            self.people[user.pk] = {"@id": f"#person-{user.pk}"}
        return self.people[user.pk]

    def dataset(self, path: str, properties: dict) -> Any:
        return self.crate.add_dataset(dest_path=path, properties={k: v for k, v in properties.items() if v is not None})

    def file(self, path: str, *, size: int, sha256: str, properties: dict) -> Any:
        props = {"name": os.path.basename(path), "contentSize": str(size), "sha256": sha256,
                 "encodingFormat": encoding_of(path), **properties}
        return self.crate.add_file(dest_path=path, properties={k: v for k, v in props.items() if v is not None})

    def property_values(self, prefix: str, obj, fields) -> list[dict]:
        refs = []
        for name in fields:
            value = getattr(obj, name)
            if value in (None, "", {}):
                continue
            pid = f"#{prefix}-{name}"
            props = {"propertyID": name, "value": json.dumps(value) if isinstance(value, dict) else _value(name, value)}
            if name in UNITS:
                props["unitText"] = UNITS[name]
            self.crate.add(ContextEntity(self.crate, pid, properties={"@type": "PropertyValue", **props}))
            refs.append({"@id": pid})
        return refs


def digest_json(data: Any) -> tuple[bytes, str]:
    raw = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str).encode()
    return raw, hashlib.sha256(raw).hexdigest()


def crate_start(top: str, *, name: str, description: str) -> "Crate":
    """An empty LabTrack crate: publisher, descriptor version and dates, root named."""
    c = Crate(top)
    crate = c.crate
    crate.add(ContextEntity(crate, PUBLISHER_ID, properties={
        "@type": "Organization", "name": "LabTrack", "url": settings.LABTRACK_BASE_URL,
        "description": "Laboratory information system for perovskite nanocrystal syntheses"}))
    crate.metadata["sdPublisher"] = {"@id": PUBLISHER_ID}
    crate.metadata["version"] = "1.0"
    crate.metadata["dateCreated"] = c.now.isoformat()
    root = crate.root_dataset
    root["name"] = name
    root["description"] = description
    root["datePublished"] = c.now.isoformat()
    return c


def batch_dir_of(batch: Batch) -> str:
    """The batch's folder in any LabTrack crate (a batch bundle or a study's)."""
    return f"{folder_name(batch.code)}-batch/"


def sample_id_of(batch: Batch, sample_code: str) -> str:
    return f"{batch_dir_of(batch)}samples/{folder_name(sample_code)}/"


def measurement_id_of(batch: Batch, measurement_id: int, technique: str) -> str:
    return f"{batch_dir_of(batch)}measurements/{measurement_id}-{technique}/"


def _run_outputs(run_id: int) -> dict[str, bytes]:
    """{file name: bytes} of a run's result and stored figures, read when written."""
    run = AnalysisRun.objects.only("result", "figure_svg", "figure_png").get(pk=run_id)
    outputs = {"result.json": digest_json(run.result)[0]}
    if run.figure_svg:
        outputs["figure.svg"] = run.figure_svg.encode()
    if run.figure_png:
        outputs["figure.png"] = bytes(run.figure_png)
    return outputs


def batch_describe(c: "Crate", *, user, batch: Batch) -> Any:
    """Add `batch` to the crate — samples, measurements, raw files, runs, results of
    record and its `labtrack.json` — and return its Dataset (the caller lists it). The
    one description of a batch: its own bundle and a study's call it."""
    now = c.now
    samples = list(Sample.objects.filter(batch=batch).select_related("parent").order_by("prepared_at", "id"))
    measurements = list(Measurement.objects.filter(sample__batch=batch).select_related("sample", "instrument", "operator")
                        .order_by("measured_at", "id"))
    raw_files = list(RawFile.objects.filter(measurement__sample__batch=batch).order_by("id"))
    run_ids = list(AnalysisRun.objects.filter(batch=batch, status=RunStatus.SUCCEEDED).order_by("queued_at", "id")
                   .values_list("pk", flat=True))

    entries = c.entries
    native: dict[str, Any] = {"format": "labtrack-batch", "version": FORMAT_VERSION, "exported_at": now.isoformat(),
                              "exported_from": settings.LABTRACK_BASE_URL, "project": batch.project.name,
                              "batch": {"code": batch.code, **{f: _value(f, getattr(batch, f)) for f in BATCH_FIELDS},
                                        "protocol": {"name": batch.protocol.name, "version": batch.protocol.version}
                                        if batch.protocol else None,
                                        "operator": str(batch.operator) if batch.operator_id else None},
                              "samples": [], "measurements": [], "runs": []}

    batch_dir = batch_dir_of(batch)
    sample_parts = []
    for s in samples:
        path = sample_id_of(batch, s.code)
        sample_parts.append(c.dataset(path, {
            "name": f"Sample {s.code}", "identifier": s.code, "genre": "sample",
            "dateCreated": iso_or_none(s.prepared_at), "description": s.notes or None,
            "variableMeasured": c.property_values(f"sample-{s.pk}", s, SAMPLE_FIELDS) or None,
            "isBasedOn": {"@id": sample_id_of(batch, s.parent.code)} if s.parent_id else None,
        }))
        native["samples"].append({"code": s.code, "parent": s.parent.code if s.parent_id else None,
                                  **{f: _value(f, getattr(s, f)) for f in SAMPLE_FIELDS}})

    files_by_measurement: dict[int, list[RawFile]] = {}
    for raw in raw_files:
        files_by_measurement.setdefault(raw.measurement_id, []).append(raw)
    measurement_parts = []
    for m in measurements:
        path = measurement_id_of(batch, m.pk, m.technique)
        parts = []
        for raw in files_by_measurement.get(m.pk, []):
            file_path = f"{path}{raw.pk}-{folder_name(raw.original_name)}"
            parts.append(c.file(file_path, size=raw.size_bytes, sha256=raw.sha256, properties={
                "name": raw.original_name, "description": f"{raw.detected_format} ({raw.data_kind})",
                "dateCreated": iso_or_none(raw.uploaded_at), "author": c.person(raw.uploaded_by)}))
            entries.append((file_path, raw.sha256))
        measurement_parts.append(c.dataset(path, {
            "name": f"{m.get_technique_display()} of {m.sample.code}" + (f" ({m.label})" if m.label else ""),
            "genre": "measurement", "keywords": m.technique, "dateCreated": iso_or_none(m.measured_at),
            "author": c.person(m.operator), "description": m.notes or None,
            "about": {"@id": sample_id_of(batch, m.sample.code)},
            "instrument": m.instrument.name if m.instrument_id else None, "hasPart": parts or None}))
        native["measurements"].append({
            "key": m.pk, "sample": m.sample.code, "technique": m.technique, "measured_at": iso_or_none(m.measured_at),
            "label": m.label, "notes": m.notes, "metadata": m.metadata,
            "instrument": {"name": m.instrument.name, "technique": m.instrument.technique, "model": m.instrument.model}
            if m.instrument_id else None,
            "reference": m.reference_measurement_id,
            "files": [{"key": r.pk, "path": f"{path}{r.pk}-{folder_name(r.original_name)}", "name": r.original_name,
                       "sha256": r.sha256, "size_bytes": r.size_bytes} for r in files_by_measurement.get(m.pk, [])]})

    run_parts = []
    for run_id in run_ids:  # one run in memory at a time (figures can be large)
        run = (AnalysisRun.objects.select_related("reviewer", "requested_by", "measurement")
               .defer("result", "figure_svg", "figure_png").get(pk=run_id))
        path = f"{batch_dir}runs/{run.pk}-{folder_name(run.routine)}/"
        outputs = _run_outputs(run.pk)
        parts = []
        for name, data in outputs.items():
            digest = hashlib.sha256(data).hexdigest()
            parts.append(c.file(f"{path}{name}", size=len(data), sha256=digest, properties={
                "name": name, "description": f"{run.routine} {run.routine_version} result" if name == "result.json"
                else f"Figure of run {run.pk} ({run.routine})"}))
            # read again when written: the crate holds no run's bytes meanwhile
            entries.append((f"{path}{name}", _Deferred(run.pk, name, digest)))
        figures = [name for name in outputs if name != "result.json"]
        del outputs
        measurement_path = (measurement_id_of(batch, run.measurement_id, run.measurement.technique)
                            if run.measurement_id else None)
        run_parts.append(c.dataset(path, {
            "name": f"Analysis run {run.pk}: {run.routine}", "genre": "analysis", "keywords": run.routine,
            "dateCreated": iso_or_none(run.finished_at or run.queued_at), "author": c.person(run.requested_by),
            "creativeWorkStatus": run.review_state, "isBasedOn": {"@id": measurement_path} if measurement_path else None,
            "hasPart": parts}))
        native["runs"].append({
            "key": run.pk, "measurement": run.measurement_id, "routine": run.routine,
            "routine_version": run.routine_version, "parameters": run.parameters,
            "input_files": [{"raw_file": f.get("raw_file_id"), "sha256": f.get("sha256"), "name": f.get("name"),
                             "format": f.get("format")} for f in run.input_files or []],
            "result_path": f"{path}result.json", "result_sha256": run.result_sha256,
            "figures": {name: f"{path}{name}" for name in figures}, "curves": run.curves,
            "queued_at": iso_or_none(run.queued_at), "started_at": iso_or_none(run.started_at), "finished_at": iso_or_none(run.finished_at),
            "is_current": run.is_current, "is_automatic": run.is_automatic, "supersedes": run.supersedes_id,
            "derived_from": list(run.derived_from.values_list("pk", flat=True)),
            "extra_measurements": list(run.extra_measurements.values_list("pk", flat=True)),
            "review_state": run.review_state, "reviewer": str(run.reviewer) if run.reviewer_id else None,
            "reviewed_at": iso_or_none(run.reviewed_at), "review_reason": run.review_reason,
            "review_meaning": run.review_meaning, "reviewed_result_sha256": run.reviewed_result_sha256,
            "quantities": [{"name": q.name, "value": q.value, "value_json": q.value_json, "stderr": q.stderr,
                            "unit": q.unit, "component_label": q.component_label, "assignment": q.assignment}
                           for q in run.quantities.order_by("id")]})
        del run

    results = [{"batch": q.run.batch.code, "sample": q.run.measurement.sample.code if q.run.measurement_id else None,
                "technique": q.run.measurement.technique if q.run.measurement_id else None,
                "routine": q.run.routine, "run": q.run_id, "name": q.name, "value": q.value,
                "value_json": q.value_json, "stderr": q.stderr, "unit": q.unit,
                "component": q.component_label, "assignment": q.assignment}
               for q in quantities_of_record(user=user, batch=batch.code).iterator(chunk_size=500)]
    results_bytes, results_sha = digest_json(results)
    native_bytes, native_sha = digest_json(native)
    own_parts = [
        c.file(f"{batch_dir}{RESULTS_NAME}", size=len(results_bytes), sha256=results_sha, properties={
            "name": RESULTS_NAME, "description": "Results of record: the accepted current run's quantities"}),
        c.file(f"{batch_dir}{NATIVE_NAME}", size=len(native_bytes), sha256=native_sha, properties={
            "name": NATIVE_NAME, "description": f"LabTrack batch record, format version {FORMAT_VERSION}"}),
    ]
    entries += [(f"{batch_dir}{RESULTS_NAME}", results_bytes), (f"{batch_dir}{NATIVE_NAME}", native_bytes)]
    batch_dataset = c.dataset(batch_dir, {
        "name": f"Batch {batch.code}", "identifier": batch.code, "genre": "experiment",
        "dateCreated": iso_or_none(batch.synthesised_at), "dateModified": iso_or_none(batch.updated_at),
        "author": c.person(batch.operator), "text": batch.notes or None,
        "keywords": ", ".join(filter(None, ["synthesis", batch.protocol and str(batch.protocol)])),
        "creativeWorkStatus": batch.status,
        "variableMeasured": c.property_values(f"batch-{batch.pk}", batch, BATCH_FIELDS) or None,
        "hasPart": [*sample_parts, *measurement_parts, *run_parts, *own_parts],
    })
    return batch_dataset


def crate_write(c: "Crate", out: IO[bytes]) -> None:
    """The zip: metadata first, then every entry in the order described, raw files
    streamed from their blobs and run outputs read one at a time."""
    metadata = json.dumps(c.crate.metadata.generate(), indent=1, ensure_ascii=False).encode()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr(f"{c.top}/ro-crate-metadata.json", metadata)
        for path, content in c.entries:
            arcname = f"{c.top}/{path}"
            if isinstance(content, bytes):
                archive.writestr(arcname, content)
            elif isinstance(content, _Deferred):
                data = _run_outputs(content.run_id).get(content.name, b"")
                if hashlib.sha256(data).hexdigest() != content.sha256:
                    raise ValidationError(f"Run {content.run_id} changed while it was being exported; export again.")
                archive.writestr(arcname, data)
                del data
            else:  # a raw file: streamed from whichever storage holds it (filesystem or S3)
                with closing(blob_open(content)) as source, archive.open(arcname, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, CHUNK_BYTES)


def batch_export_eln(*, user, batch: Batch, out: IO[bytes]) -> str:
    """Write `batch` as an .eln zip to `out` (a binary file opened for writing). Returns
    the suggested file name. The batch must be visible to `user` (selectors.batch_get)."""
    top = folder_name(batch.code)
    c = crate_start(top, name=f"LabTrack batch {batch.code}",
                    description=f"Synthesis batch {batch.code} of project {batch.project.name}: samples, "
                                "measurements, raw files, analysis runs and results of record.")
    # The root lists the batch, one experiment for another ELN; everything else is
    # reached from it through hasPart (RO-Crate 1.1 allows indirect links).
    c.crate.root_dataset["hasPart"] = [batch_describe(c, user=user, batch=batch)]
    crate_write(c, out)
    return f"{top}.eln"
