"""Importing an `.eln` file. A LabTrack bundle comes back whole (eln_native: a batch's
`labtrack.json`, or a study's `labtrack-study.json` with every batch of its samples).
A bundle from another ELN (eLabFTW, datalab, Kadi4Mat, …) maps as far as it can: each
experiment listed at the crate's root becomes a batch with the experiment's text,
fields, steps and comments in its notes, and its files are kept as attachments for a
person to turn into measurements (a technique and a sample are theirs to say). What
does not map is listed, never silently dropped.

Everything is written in one transaction, or nothing. The zip is opened through
`zipsafe` (entry count, unpacked size, compression ratio and names checked first:
eln_bundle)."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile
from contextlib import closing
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.html import strip_tags

from labtrack.core.roles import Action
from labtrack.exchange.eln_bundle import (
    Bundle, ElnImportReport, date_time, extract_checked, free_or_refuse, ids_of, native_entity, open_bundle,
    publisher_of, types_of,
)
from labtrack.exchange.eln_export import NATIVE_NAME
from labtrack.exchange.eln_native import import_batch_bundle, import_study_bundle
from labtrack.exchange.eln_study import STUDY_NATIVE_NAME
from labtrack.exchange.models import ElnAttachment
from labtrack.measurements.blobs import blob_store
from labtrack.measurements.ingest import Upload
from labtrack.samples.models import Batch, Project, Sample
from labtrack.samples.permissions import require
from labtrack.samples.services import batch_create


def eln_import(*, user, project: Project, path: str, file_name: str) -> ElnImportReport:
    """Import the .eln at `path` (uploaded as `file_name`) into `project`."""
    require(user, project, Action.EDIT_SAMPLES)
    bundle = open_bundle(path, file_name)
    try:
        if publisher_of(bundle) == "LabTrack":
            study = native_entity(bundle, STUDY_NATIVE_NAME)
            if study is not None:  # a study bundle holds a labtrack.json per batch too
                return import_study_bundle(user, project, bundle, study)
            native = native_entity(bundle, NATIVE_NAME)
            if native is not None:
                return import_batch_bundle(user, project, bundle, native)
        return _import_foreign(user, project, bundle)
    except (KeyError, TypeError, AttributeError, ValueError, json.JSONDecodeError) as exc:
        # A crate whose entities are not shaped as the profile says: the transaction was
        # rolled back; say so instead of failing the request.
        raise ValidationError(f"{file_name} could not be mapped: an entity is not shaped as the .eln format says "
                              f"({exc.__class__.__name__}: {str(exc)[:120]}); nothing was imported.") from None
    finally:
        bundle.archive.close()


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


def _notes_of(bundle: Bundle, entity: dict) -> str:
    graph = bundle.graph
    lines = [f"{entity.get('name', '')}".strip()]
    authors = [graph.get(i, {}) for i in ids_of(entity.get("author")) + ids_of(entity.get("authors"))]
    names = [a.get("name") or " ".join(filter(None, [a.get("givenName"), a.get("familyName")])) for a in authors]
    if any(names):
        lines.append("Author: " + ", ".join(n for n in names if n))
    for key, label in (("dateCreated", "Created"), ("genre", "Kind"), ("creativeWorkStatus", "Status"),
                       ("keywords", "Keywords"), ("url", "Source")):
        if entity.get(key):
            lines.append(f"{label}: {_text_of(entity[key])}")
    if entity.get("text"):
        lines += ["", _text_of(entity["text"])]
    props = [graph.get(i, {}) for i in ids_of(entity.get("variableMeasured"))]
    props = [p for p in props if p.get("propertyID") and p.get("propertyID") != "elabftw_metadata"]
    if props:
        lines += ["", "Fields:"] + [f"- {p['propertyID']}: {_text_of(p.get('value'))} {p.get('unitText', '')}".rstrip()
                                    for p in props]
    steps = sorted((graph.get(i, {}) for i in ids_of(entity.get("step"))), key=lambda s: str(s.get("position", "")).zfill(8))
    if steps:
        lines += ["", "Steps:"]
        for step in steps:
            texts = [_text_of(graph.get(i, {}).get("text")) for i in ids_of(step.get("itemListElement"))]
            lines.append(f"- [{step.get('creativeWorkStatus', '')}] {' '.join(texts)}")
    comments = [graph.get(i, {}) for i in ids_of(entity.get("comment"))]
    if comments:
        lines += ["", "Comments:"] + [f"- {str(c.get('dateCreated', ''))[:10]}: {_text_of(c.get('text'))}" for c in comments]
    return "\n".join(lines).strip()


def _collect_files(bundle: Bundle, entity: dict, seen: set[str]) -> list[dict]:
    """The File entities of a dataset, through nested datasets."""
    files = []
    for part_id in ids_of(entity.get("hasPart")):
        if part_id in seen:
            continue
        seen.add(part_id)
        part = bundle.graph.get(part_id, {"@id": part_id, "@type": "File"})
        if "Dataset" in types_of(part):
            files += _collect_files(bundle, part, seen)
        elif "File" in types_of(part) or part_id not in bundle.graph:
            files.append(part)
    return files


def _import_foreign(user, project: Project, bundle: Bundle) -> ElnImportReport:
    software = publisher_of(bundle) or "ELN"
    report = ElnImportReport(bundle.file_name, kind=software)
    datasets = []
    for part_id in ids_of(bundle.root.get("hasPart")):
        part = bundle.graph.get(part_id)
        if part is None:
            report.skipped.append(f"{part_id}: listed at the crate's root but not described")
        elif "Dataset" in types_of(part):
            datasets.append(part)
        elif "File" in types_of(part):
            report.skipped.append(f"{part.get('name', part_id)}: a file outside any experiment (LabTrack attaches "
                                  "files to the batch of their experiment)")
    if not datasets:
        raise ValidationError(f"{bundle.file_name} lists no experiment (dataset) at its root: nothing in it maps to "
                              "a LabTrack batch.")
    with tempfile.TemporaryDirectory(prefix="labtrack-eln-") as folder, transaction.atomic():
        for dataset in datasets:
            code = _foreign_code(dataset, software)
            free_or_refuse(Batch, code, "batch")
            synthesised = date_time(str(dataset.get("dateCreated") or "")) if dataset.get("dateCreated") else None
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
                temp = extract_checked(bundle, entry, sha256 if re.fullmatch(r"[0-9a-f]{64}", sha256) else "", folder)
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
