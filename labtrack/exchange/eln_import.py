"""Importing an `.eln` file. A LabTrack bundle (its `labtrack.json`) comes back whole:
batch, samples, measurements with their raw files (checksums checked against the
crate), and analysis runs with their quantities, figures and review state, each
marked "imported from <file>". A LabTrack study bundle (its `labtrack-study.json`)
brings every batch of the study's samples back the same way, then the study itself,
made through the ageing services (eln_study_import). A bundle from another ELN
(eLabFTW, datalab, Kadi4Mat, …) maps as far as it can: each experiment listed at the
crate's root becomes a batch with the experiment's text, fields, steps and comments in
its notes, and its files are kept as attachments for a person to turn into
measurements (a technique and a sample are theirs to say). What does not map is
listed, never silently dropped.

Everything is written in one transaction, or nothing. The zip is opened through
`zipsafe` (entry count, unpacked size, compression ratio and names checked first)."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile
import zipfile
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.html import strip_tags

from labtrack.core.roles import Action
from labtrack.exchange import zipsafe
from labtrack.exchange.eln_export import NATIVE_NAME
from labtrack.exchange.models import ElnAttachment
from labtrack.measurements.blobs import blob_store
from labtrack.measurements.ingest import Upload
from labtrack.measurements.models import Instrument
from labtrack.measurements.services import instrument_create, measurement_create
from labtrack.samples.models import Batch, Project, Sample, SynthesisProtocol, code_is
from labtrack.samples.permissions import require
from labtrack.samples.services import batch_create, sample_create

from labtrack.exchange import eln_runs, eln_study_import
from labtrack.exchange.eln_study import STUDY_NATIVE_NAME

METADATA = "ro-crate-metadata.json"


@dataclass
class ElnImportReport:
    file_name: str
    kind: str = ""  # "labtrack" or the publishing software's name
    batches: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    measurements: int = 0
    runs: int = 0
    attachments: int = 0
    skipped: list[str] = field(default_factory=list)  # what did not map, and why
    studies: list[dict] = field(default_factory=list)  # [{"id", "name"}] of the ageing studies created


@dataclass
class _Bundle:
    archive: zipfile.ZipFile
    top: str
    graph: dict[str, dict]
    root: dict
    descriptor: dict
    file_name: str

    def entry(self, crate_id: str) -> str | None:
        """The zip entry of a data entity's @id, or None when it is not in the archive."""
        if crate_id.startswith("./"):
            path = crate_id[2:]  # relative: "./demo:HPPPKI/x.xrdml" is a path, not a URL
        elif re.match(r"^[a-z][a-z0-9+.-]*:", crate_id):  # a URL or a scheme id: not a file here
            return None
        else:
            path = crate_id
        from urllib.parse import unquote

        for candidate in (path, unquote(path)):
            name = posixpath.normpath(f"{self.top}/{candidate}")
            if name.startswith(f"{self.top}/") and name in self.names:
                return self.names[name]
        return None

    @property
    def names(self) -> dict[str, str]:
        """{normalised path: the entry's own name} (eLabFTW writes "folder//file")."""
        if not hasattr(self, "_names"):
            self._names = {posixpath.normpath(n): n for n in self.archive.namelist() if not n.endswith("/")}
        return self._names


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [i["@id"] if isinstance(i, dict) else str(i) for i in items if isinstance(i, (dict, str))]


def _types(entity: dict) -> set[str]:
    value = entity.get("@type", [])
    return set(value if isinstance(value, list) else [value])


def open_bundle(path: str, file_name: str) -> _Bundle:
    """Open and check an .eln: one top folder, an RO-Crate 1.1+ metadata file with a
    root dataset. ValidationError naming the problem otherwise."""
    archive = zipsafe.open_checked(path, what=file_name)
    tops = {n.split("/", 1)[0] for n in archive.namelist() if n.strip("/")}
    if len(tops) != 1 or not any("/" in n for n in archive.namelist()):
        archive.close()
        raise ValidationError(f"{file_name} is not an .eln file: it must hold exactly one folder "
                              f"(found {len(tops)} top-level entries).")
    top = tops.pop()
    metadata_name = f"{top}/{METADATA}"
    if metadata_name not in archive.namelist():
        archive.close()
        raise ValidationError(f"{file_name} has no {METADATA} in its folder {top}/; it is not an RO-Crate.")
    try:
        metadata = json.loads(zipsafe.read_capped(archive, metadata_name, settings.LABTRACK_ELN_MAX_METADATA_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        archive.close()
        raise ValidationError(f"{METADATA} in {file_name} is not valid JSON ({exc}).") from None
    context = metadata.get("@context") if isinstance(metadata, dict) else None
    contexts = context if isinstance(context, list) else [context]
    if not any(isinstance(c, str) and re.match(r"^https?://w3id\.org/ro/crate/1\.\d+/context$", c) for c in contexts):
        archive.close()
        raise ValidationError(f"{file_name} does not use an RO-Crate 1.x context (found {str(context)[:80]}).")
    graph = {e["@id"]: e for e in metadata.get("@graph", []) if isinstance(e, dict) and "@id" in e}
    descriptor = graph.get(METADATA) or {}
    root_id = (descriptor.get("about") or {}).get("@id", "./")
    root = graph.get(root_id)
    if root is None or "Dataset" not in _types(root):
        archive.close()
        raise ValidationError(f"{file_name}: the crate's root dataset ({root_id}) is missing.")
    return _Bundle(archive, top, graph, root, descriptor, file_name)


def _publisher(bundle: _Bundle) -> str:
    publisher = bundle.graph.get((bundle.descriptor.get("sdPublisher") or {}).get("@id", ""), {})
    return str(publisher.get("name") or "")


def _native_entity(bundle: _Bundle, name: str) -> dict | None:
    return next((e for e in bundle.graph.values() if e.get("name") == name and "File" in _types(e)), None)


def eln_import(*, user, project: Project, path: str, file_name: str) -> ElnImportReport:
    """Import the .eln at `path` (uploaded as `file_name`) into `project`."""
    require(user, project, Action.EDIT_SAMPLES)
    bundle = open_bundle(path, file_name)
    try:
        if _publisher(bundle) == "LabTrack":
            study = _native_entity(bundle, STUDY_NATIVE_NAME)
            if study is not None:  # a study bundle holds a labtrack.json per batch too
                return _import_labtrack_study(user, project, bundle, study)
            native = _native_entity(bundle, NATIVE_NAME)
            if native is not None:
                return _import_labtrack(user, project, bundle, native)
        return _import_foreign(user, project, bundle)
    except (KeyError, TypeError, AttributeError, ValueError, json.JSONDecodeError) as exc:
        # A crate whose entities are not shaped as the profile says: the transaction was
        # rolled back; say so instead of failing the request.
        raise ValidationError(f"{file_name} could not be mapped: an entity is not shaped as the .eln format says "
                              f"({exc.__class__.__name__}: {str(exc)[:120]}); nothing was imported.") from None
    finally:
        bundle.archive.close()


# --- a LabTrack bundle -------------------------------------------------------------------

def _extract_checked(bundle: _Bundle, entry: str, sha256: str, folder: str) -> str:
    """Copy an entry to `folder`, hashing as it streams; refuse a checksum mismatch."""
    info = bundle.archive.getinfo(entry)
    target = os.path.join(folder, hashlib.sha256(entry.encode()).hexdigest())
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in zipsafe.iter_capped(bundle.archive, entry, info.file_size):
            digest.update(chunk)
            out.write(chunk)
    if sha256 and digest.hexdigest() != sha256:
        raise ValidationError(f"{entry.split('/', 1)[1]} in {bundle.file_name} does not match its checksum "
                              "(damaged or altered); nothing was imported.")
    return target


def _dt(value):
    """A date-time from the crate, or None when absent or not a valid one."""
    try:
        return parse_datetime(str(value)) if value else None
    except ValueError:
        return None


def _free_or_refuse(model, code: str, what: str) -> None:
    if model.objects.filter(code_is(code)).exists():
        raise ValidationError(f"A {what} {code} already exists in this LabTrack; nothing was imported.")


def _native_record(bundle: _Bundle, entity: dict, fmt: str) -> dict[str, Any]:
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


def _provenance(bundle: _Bundle, record: dict) -> str:
    return f"Imported from {bundle.file_name} (exported from {record.get('exported_from', 'LabTrack')} " \
           f"on {record.get('exported_at', '')[:10]})."


def _refuse_taken(records: list[dict]) -> None:
    """Refuse before writing anything when a batch or sample code is taken here."""
    for record in records:
        _free_or_refuse(Batch, record["batch"]["code"], "batch")
        for s in record["samples"]:
            _free_or_refuse(Sample, s["code"], "sample")


def _import_labtrack(user, project: Project, bundle: _Bundle, native_entity: dict) -> ElnImportReport:
    report = ElnImportReport(bundle.file_name, kind="labtrack")
    record = _native_record(bundle, native_entity, "labtrack-batch")
    _refuse_taken([record])
    provenance = _provenance(bundle, record)
    with tempfile.TemporaryDirectory(prefix="labtrack-eln-") as folder, transaction.atomic():
        _batch_restore(user, project, bundle, record, folder, report, provenance)
    return report


def _import_labtrack_study(user, project: Project, bundle: _Bundle, study_entity: dict) -> ElnImportReport:
    """A study bundle: every batch (as a batch bundle's) and then the study, in one
    transaction; the study's samples must all come with its batches."""
    report = ElnImportReport(bundle.file_name, kind="labtrack")
    record = _native_record(bundle, study_entity, "labtrack-study")
    batch_records = []
    for b in record["batches"]:
        entity = bundle.graph.get(b["record"])
        if entity is None or "File" not in _types(entity):
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


def _batch_restore(user, project: Project, bundle: _Bundle, record: dict, folder: str, report: ElnImportReport,
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
                         synthesised_at=_dt(b.get("synthesised_at")), notes=notes, **fields)
    report.batches.append(batch.code)
    samples: dict[str, Sample] = {}
    for s in record["samples"]:  # exported parents first (by preparation date)
        values = {k: s.get(k) for k in ("storage_location", "atmosphere", "storage_temperature_c", "light",
                                        "mass_mg", "notes") if s.get(k) is not None}
        parent = samples.get((s.get("parent") or "").casefold())
        sample = sample_create(user=user, batch=batch, code=s["code"], form=s["form"],
                               prepared_at=_dt(s.get("prepared_at")), parent=parent,
                               ageing_started_at=_dt(s.get("ageing_started_at")), **values)
        samples[sample.code.casefold()] = sample
        report.samples.append(sample.code)
    measurements, raw_files = {}, {}
    for m in record["measurements"]:
        uploads, handles = [], []
        for f in m["files"]:
            entry = bundle.entry(f["path"])
            if entry is None:
                raise ValidationError(f"{f['name']} is listed in {bundle.file_name} but not in the archive.")
            handle = open(_extract_checked(bundle, entry, f["sha256"], folder), "rb")
            handles.append(handle)
            uploads.append(Upload(f["name"], handle))
        instrument = _instrument(m.get("instrument"))
        created: dict[str, Any] = {}
        try:
            measurement_create(
                user=user, sample=samples[m["sample"].casefold()], technique=m["technique"], uploads=uploads,
                instrument=instrument, measured_at=_dt(m.get("measured_at")), label=m.get("label", ""),
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


# --- another ELN's bundle --------------------------------------------------------------

def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return strip_tags(value).replace("&nbsp;", " ").strip()
    return "" if value is None else str(value)


def _foreign_code(entity: dict, software: str) -> str:
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", str(entity.get("name") or "experiment")).strip("-")[:36] or "experiment"
    tag = hashlib.sha256(f"{entity['@id']}|{entity.get('identifier', '')}".encode()).hexdigest()[:6]
    prefix = re.sub(r"[^A-Za-z0-9]+", "", software)[:10] or "ELN"
    return f"{prefix}-{name}-{tag}"


def _notes_of(bundle: _Bundle, entity: dict) -> str:
    graph = bundle.graph
    lines = [f"{entity.get('name', '')}".strip()]
    authors = [graph.get(i, {}) for i in _ids(entity.get("author")) + _ids(entity.get("authors"))]
    names = [a.get("name") or " ".join(filter(None, [a.get("givenName"), a.get("familyName")])) for a in authors]
    if any(names):
        lines.append("Author: " + ", ".join(n for n in names if n))
    for key, label in (("dateCreated", "Created"), ("genre", "Kind"), ("creativeWorkStatus", "Status"),
                       ("keywords", "Keywords"), ("url", "Source")):
        if entity.get(key):
            lines.append(f"{label}: {_text_of(entity[key])}")
    if entity.get("text"):
        lines += ["", _text_of(entity["text"])]
    props = [graph.get(i, {}) for i in _ids(entity.get("variableMeasured"))]
    props = [p for p in props if p.get("propertyID") and p.get("propertyID") != "elabftw_metadata"]
    if props:
        lines += ["", "Fields:"] + [f"- {p['propertyID']}: {_text_of(p.get('value'))} {p.get('unitText', '')}".rstrip()
                                    for p in props]
    steps = sorted((graph.get(i, {}) for i in _ids(entity.get("step"))), key=lambda s: str(s.get("position", "")).zfill(8))
    if steps:
        lines += ["", "Steps:"]
        for step in steps:
            texts = [_text_of(graph.get(i, {}).get("text")) for i in _ids(step.get("itemListElement"))]
            lines.append(f"- [{step.get('creativeWorkStatus', '')}] {' '.join(texts)}")
    comments = [graph.get(i, {}) for i in _ids(entity.get("comment"))]
    if comments:
        lines += ["", "Comments:"] + [f"- {str(c.get('dateCreated', ''))[:10]}: {_text_of(c.get('text'))}" for c in comments]
    return "\n".join(lines).strip()


def _collect_files(bundle: _Bundle, entity: dict, seen: set[str]) -> list[dict]:
    """The File entities of a dataset, through nested datasets."""
    files = []
    for part_id in _ids(entity.get("hasPart")):
        if part_id in seen:
            continue
        seen.add(part_id)
        part = bundle.graph.get(part_id, {"@id": part_id, "@type": "File"})
        if "Dataset" in _types(part):
            files += _collect_files(bundle, part, seen)
        elif "File" in _types(part) or part_id not in bundle.graph:
            files.append(part)
    return files


def _import_foreign(user, project: Project, bundle: _Bundle) -> ElnImportReport:
    software = _publisher(bundle) or "ELN"
    report = ElnImportReport(bundle.file_name, kind=software)
    datasets = []
    for part_id in _ids(bundle.root.get("hasPart")):
        part = bundle.graph.get(part_id)
        if part is None:
            report.skipped.append(f"{part_id}: listed at the crate's root but not described")
        elif "Dataset" in _types(part):
            datasets.append(part)
        elif "File" in _types(part):
            report.skipped.append(f"{part.get('name', part_id)}: a file outside any experiment (LabTrack attaches "
                                  "files to the batch of their experiment)")
    if not datasets:
        raise ValidationError(f"{bundle.file_name} lists no experiment (dataset) at its root: nothing in it maps to "
                              "a LabTrack batch.")
    with tempfile.TemporaryDirectory(prefix="labtrack-eln-") as folder, transaction.atomic():
        for dataset in datasets:
            code = _foreign_code(dataset, software)
            _free_or_refuse(Batch, code, "batch")
            synthesised = _dt(str(dataset.get("dateCreated") or "")) if dataset.get("dateCreated") else None
            notes = _notes_of(bundle, dataset) + f"\n\nImported from {bundle.file_name} ({software}, {dataset['@id']})."
            batch = batch_create(user=user, project=project, code=code, notes=notes,
                                 **({"synthesised_at": synthesised} if synthesised else {}))
            report.batches.append(batch.code)
            for f in _collect_files(bundle, dataset, set()):
                entry = bundle.entry(f["@id"])
                name = str(f.get("name") or posixpath.basename(f["@id"].rstrip("/")))[:255]
                if entry is None:
                    report.skipped.append(f"{name} ({dataset.get('name', '')}): not in the archive")
                    continue
                sha256 = str(f.get("sha256") or "")
                temp = _extract_checked(bundle, entry, sha256 if re.fullmatch(r"[0-9a-f]{64}", sha256) else "", folder)
                digest = _sha256_file(temp)
                blob_store(temp, digest)
                os.unlink(temp)
                ElnAttachment.objects.create(
                    batch=batch, name=name, sha256=digest, size_bytes=bundle.archive.getinfo(entry).file_size,
                    encoding_format=str(f.get("encodingFormat") or "")[:200],
                    source=f"{bundle.file_name}: {f['@id']}"[:255], imported_by=user)
                report.attachments += 1
    return report


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def attachment_assign(*, user, attachment: ElnAttachment, sample: Sample, technique: str,
                      age_confirmation_reason: str = ""):
    """Make an imported file a measurement of `sample` with `technique` (its analyses are
    requested as for any upload). The file must be readable as that technique's data."""
    from labtrack.analyses.pipeline import measurement_upload
    from labtrack.measurements.blobs import blob_open

    if attachment.measurement_id is not None:
        raise ValidationError(f"{attachment.name} is already measurement #{attachment.measurement_id}.")
    if sample.batch_id != attachment.batch_id:
        raise ValidationError({"sample": f"Sample {sample} is not of batch {attachment.batch}."})
    require(user, attachment.batch.project, Action.EDIT_SAMPLES)
    with closing(blob_open(attachment.sha256)) as handle, transaction.atomic():
        measurement = measurement_upload(user=user, sample=sample, technique=technique,
                                         uploads=[Upload(attachment.name, handle)],
                                         notes=f"From {attachment.source}", age_confirmation_reason=age_confirmation_reason)
        ElnAttachment.objects.filter(pk=attachment.pk).update(measurement=measurement)
    return measurement


__all__ = ["ElnImportReport", "attachment_assign", "eln_import", "open_bundle", "PermissionDenied"]
