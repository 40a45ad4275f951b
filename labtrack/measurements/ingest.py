"""Ingestion: uploaded bytes are staged (hashed while streamed, size-limited), recognised
by the engine's readers and checked against the measurement's technique, before anything
is saved. Shared by the upload page, its live preview and the API."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import IO, Any, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError

from labtrack import engine
from labtrack.measurements.models import Technique
from labtrack.measurements.uploads import too_large_message


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
    info: engine.FileInfo

    @property
    def technique(self) -> str:
        return engine.technique_of(self.info.kind)


def _stage(upload: Upload, folder: str, index: int) -> StagedFile:
    """Copy an upload to a temp file while hashing it, enforcing the size limit as it
    streams (a 2 GB upload is refused without ever being held in memory)."""
    limit = settings.LABTRACK_MAX_UPLOAD_BYTES
    name = os.path.basename(upload.name.replace("\\", "/")) or f"file{index}"
    if len(name) > 255:
        raise ValidationError({name: f"The file name {name[:60]}… is {len(name)} characters long; "
                                               "rename the file to at most 255 characters."})
    temp_path = os.path.join(folder, f"{index}-{engine.safe_disk_name(name)}")
    digest, size = hashlib.sha256(), 0
    with open(temp_path, "wb") as out:
        chunks = upload.stream.chunks() if hasattr(upload.stream, "chunks") else iter(lambda: upload.stream.read(1 << 20), b"")
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ValidationError({name: too_large_message(name)})
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise ValidationError({name: f"{name} is empty."})
    try:
        info = engine.inspect_file(temp_path, name)
    except engine.UserInputError as exc:
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


def _mismatch_text(name: str, kind: str, file_format: str, technique: str) -> str:
    return f"{name} is {kind} data ({file_format}), not {Technique(technique).label}."


def check_technique(staged: list[StagedFile], technique: str) -> None:
    """Refuse files of another technique (a PL spectrum on an NMR measurement)."""
    wrong = {s.name: _mismatch_text(s.name, s.info.kind, s.info.format, technique)
             for s in staged if s.technique != technique}
    if wrong:
        raise ValidationError(wrong)


def mark_technique_mismatches(detected: list[dict[str, Any]], technique: str) -> list[dict[str, Any]]:
    """The preview's version of `check_technique`: each described file gets `mismatch`,
    the message Save would refuse it with ("" when it fits, or no technique is chosen)."""
    for d in detected:
        wrong = bool(technique) and d["technique"] != technique
        d["mismatch"] = _mismatch_text(d["name"], d["kind"], d["format"], technique) if wrong else ""
    return detected


def technique_of_files(detected: list[dict[str, Any]]) -> tuple[str, str]:
    """(technique, problem) inferred from the detection of every file."""
    found = {d["technique"] for d in detected}
    if len(found) == 1 and "" not in found:
        return found.pop(), ""
    if "" in found:
        return "", "LabTrack cannot tell which technique some files belong to; choose it."
    labels = ", ".join(sorted(Technique(t).label for t in found))
    return "", f"The files come from different techniques ({labels}); upload them as separate measurements."


def describe(staged: list[StagedFile]) -> list[dict[str, Any]]:
    """What each staged file is, for previews: name, format, kind, technique (and its
    label), the routine that will analyse it, metadata, checksum and size."""
    return [
        {"name": s.name, "format": s.info.format, "kind": s.info.kind, "technique": s.technique,
         "technique_label": Technique(s.technique).label if s.technique else "unknown",
         "routine": engine.default_routine(s.info.kind) or "", "metadata": s.info.metadata,
         "sha256": s.sha256, "size_bytes": s.size_bytes}
        for s in staged
    ]
