"""A LabTrack bundle coming back. A batch's (`labtrack.json`) whole: batch, samples,
measurements with their raw files (checksums checked against the crate) and analysis
runs (eln_runs). A study's (`labtrack-study.json`): every batch of its samples the same
way, then the study (eln_study_import). All of it in one transaction, or nothing, and
each part marked "imported from <file>"."""
from __future__ import annotations

import hashlib
import json
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from labtrack.exchange import eln_runs, eln_study_import, zipsafe
from labtrack.exchange.eln_bundle import (
    Bundle, ElnImportReport, date_time, extract_checked, free_or_refuse, types_of,
)
from labtrack.measurements.ingest import Upload
from labtrack.measurements.models import Instrument
from labtrack.measurements.services import instrument_create, measurement_create
from labtrack.samples.models import Batch, Project, Sample, SynthesisProtocol
from labtrack.samples.services import batch_create, sample_create


def _native_record(bundle: Bundle, entity: dict, fmt: str) -> dict[str, Any]:
    """A LabTrack record (labtrack.json or labtrack-study.json) read, checked against its
    declared checksum and its format."""
    name = entity.get("name") or entity["@id"]
    entry = bundle.entry(entity["@id"])
    if entry is None:
        raise ValidationError(f"{bundle.file_name} names {name} but does not contain it.")
    raw = zipsafe.read_capped(bundle.archive, entry, settings.LABTRACK_ELN_MAX_METADATA_BYTES)
    if entity.get("sha256") and hashlib.sha256(raw).hexdigest() != entity["sha256"]:
        raise ValidationError(f"{name} in {bundle.file_name} does not match its checksum; nothing was imported.")
    record = json.loads(raw)
    if record.get("format") != fmt:
        raise ValidationError(f"{name} in {bundle.file_name} is not a LabTrack {fmt.split('-')[-1]} record "
                              f"(format {str(record.get('format'))[:40]!r}); nothing was imported.")
    if int(record.get("version", 0)) > 1:
        raise ValidationError(f"{bundle.file_name} holds a LabTrack record of a newer format "
                              f"({record.get('version')}); update LabTrack to import it.")
    return record


def _provenance(bundle: Bundle, record: dict) -> str:
    return f"Imported from {bundle.file_name} (exported from {record.get('exported_from', 'LabTrack')} " \
           f"on {record.get('exported_at', '')[:10]})."


def _refuse_taken(records: list[dict]) -> None:
    """Refuse before writing anything when a batch or sample code is taken here."""
    for record in records:
        free_or_refuse(Batch, record["batch"]["code"], "batch")
        for s in record["samples"]:
            free_or_refuse(Sample, s["code"], "sample")


def import_batch_bundle(user, project: Project, bundle: Bundle, native_entity: dict) -> ElnImportReport:
    report = ElnImportReport(bundle.file_name, kind="labtrack")
    record = _native_record(bundle, native_entity, "labtrack-batch")
    _refuse_taken([record])
    provenance = _provenance(bundle, record)
    with tempfile.TemporaryDirectory(prefix="labtrack-eln-") as folder, transaction.atomic():
        _batch_restore(user, project, bundle, record, folder, report, provenance)
    return report


def import_study_bundle(user, project: Project, bundle: Bundle, study_entity: dict) -> ElnImportReport:
    """A study bundle: every batch (as a batch bundle's) and then the study, in one
    transaction; the study's samples must all come with its batches."""
    report = ElnImportReport(bundle.file_name, kind="labtrack")
    record = _native_record(bundle, study_entity, "labtrack-study")
    batch_records = []
    for b in record["batches"]:
        entity = bundle.graph.get(b["record"])
        if entity is None or "File" not in types_of(entity):
            raise ValidationError(f"{bundle.file_name} lists batch {b['code']} but does not describe its record "
                                  f"({b['record']}); nothing was imported.")
        batch_record = _native_record(bundle, entity, "labtrack-batch")
        if batch_record["batch"]["code"] != b["code"]:
            raise ValidationError(f"The record {b['record']} in {bundle.file_name} is of batch "
                                  f"{batch_record['batch']['code']}, not {b['code']}; nothing was imported.")
        batch_records.append(batch_record)
    eln_study_import.study_check(project=project, record=record, batch_records=batch_records,
                                 file_name=bundle.file_name)
    _refuse_taken(batch_records)
    provenance = _provenance(bundle, record)
    with tempfile.TemporaryDirectory(prefix="labtrack-eln-") as folder, transaction.atomic():
        samples: dict[str, Sample] = {}
        for batch_record in batch_records:
            samples.update(_batch_restore(user, project, bundle, batch_record, folder, report,
                                          _provenance(bundle, batch_record)))
        study = eln_study_import.study_restore(user=user, project=project, record=record, samples=samples,
                                               provenance=provenance)
        report.studies.append({"id": study.pk, "name": study.name})
    return report


def _batch_restore(user, project: Project, bundle: Bundle, record: dict, folder: str, report: ElnImportReport,
                   provenance: str) -> dict[str, Sample]:
    """Create one batch record's batch, samples, measurements and runs (inside the
    caller's transaction). Returns {sample code casefolded: sample}."""
    b = record["batch"]
    protocol = None
    if b.get("protocol"):
        protocol, _ = SynthesisProtocol.objects.get_or_create(name=b["protocol"]["name"],
                                                              version=b["protocol"]["version"])
    fields = {k: b.get(k) for k in ("opa_concentration_molar", "reaction_duration_s", "temperature_c",
                                   "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml",
                                   "ddab_solution_volume_ul", "quench_time_s", "washing_steps",
                                   "washing_notes", "drying", "extra_parameters", "status")
              if b.get(k) is not None}
    notes = "\n".join(filter(None, [b.get("notes", ""), provenance,
                                    f"Operator there: {b['operator']}." if b.get("operator") else ""]))
    batch = batch_create(user=user, project=project, code=b["code"], protocol=protocol,
                         synthesised_at=date_time(b.get("synthesised_at")), notes=notes, **fields)
    report.batches.append(batch.code)
    samples: dict[str, Sample] = {}
    for s in record["samples"]:  # exported parents first (by preparation date)
        values = {k: s.get(k) for k in ("storage_location", "atmosphere", "storage_temperature_c", "light",
                                        "mass_mg", "notes") if s.get(k) is not None}
        parent = samples.get((s.get("parent") or "").casefold())
        sample = sample_create(user=user, batch=batch, code=s["code"], form=s["form"],
                               prepared_at=date_time(s.get("prepared_at")), parent=parent,
                               ageing_started_at=date_time(s.get("ageing_started_at")), **values)
        samples[sample.code.casefold()] = sample
        report.samples.append(sample.code)
    measurements, raw_files = {}, {}
    for m in record["measurements"]:
        uploads, handles = [], []
        for f in m["files"]:
            entry = bundle.entry(f["path"])
            if entry is None:
                raise ValidationError(f"{f['name']} is listed in {bundle.file_name} but not in the archive.")
            handle = open(extract_checked(bundle, entry, f["sha256"], folder), "rb")
            handles.append(handle)
            uploads.append(Upload(f["name"], handle))
        instrument = _instrument(m.get("instrument"))
        created: dict[str, Any] = {}
        try:
            measurement_create(
                user=user, sample=samples[m["sample"].casefold()], technique=m["technique"], uploads=uploads,
                instrument=instrument, measured_at=date_time(m.get("measured_at")), label=m.get("label", ""),
                notes=m.get("notes", ""),
                on_created=lambda meas, files: created.update(measurement=meas, files=files))
        finally:
            for handle in handles:
                handle.close()
        measurements[m["key"]] = created["measurement"]
        for f, raw_file in zip(m["files"], created["files"]):
            raw_files[f["key"]] = raw_file
        report.measurements += 1
    for m in record["measurements"]:
        if m.get("reference") in measurements:
            measurements[m["key"]].reference_measurement = measurements[m["reference"]]
            measurements[m["key"]].save(update_fields=["reference_measurement"])
    report.runs += eln_runs.runs_import(user=user, batch=batch, bundle=bundle, runs=record["runs"],
                                        measurements=measurements, raw_files=raw_files, provenance=provenance)
    return samples


def _instrument(data: dict | None) -> Instrument | None:
    if not data:
        return None
    found = Instrument.objects.filter(name=data["name"]).first()
    if found is not None:
        return found if found.technique == data["technique"] else None
    return instrument_create(name=data["name"], technique=data["technique"], model=data.get("model", ""))
