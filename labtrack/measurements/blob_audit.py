"""Verify, back up and restore the blob store by checksum, on any storage backend.

A blob is intact exactly when its bytes hash to its name, so every step here re-hashes in
1 MiB chunks (memory stays flat whatever the file size) and trusts nothing else: not sizes,
not modification times, not the storage's own ETags (an S3 ETag is no SHA-256).

- `verify`: each distinct checksum the raw files reference, once; missing and corrupt
  blobs with the raw files that need them; stored blobs no row references (an upload
  interrupted between storing and committing leaves one: reported, not a failure).
- `backup`: every stored blob into a folder laid out like MEDIA_ROOT (blobs/ab/cd/<sha>),
  the layout deploy/backup.sh keeps, so one backup serves either backend. A blob already
  in the backup is kept (blobs never change); a corrupt live blob is reported and never
  copied over the backup's copy.
- `restore`: per blob of the backup or the storage: keep the live copy if it hashes to its
  name, else take the backup's if *it* does, else report it lost (as deploy/restore.sh
  does with files).
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from typing import Callable

from django.core.files.storage import Storage

from labtrack.measurements.blobs import (
    CHUNK_BYTES,
    blob_location,
    blob_names,
    blob_open,
    blob_path,
    blob_sha256,
    blob_storage,
    blob_write,
)
from labtrack.measurements.models import RawFile
from labtrack.measurements.storage import BlobFileSystemStorage

Say = Callable[[str], None]


def folder_storage(folder: str) -> BlobFileSystemStorage:
    """A backup folder (or another MEDIA_ROOT) as a blob storage."""
    return BlobFileSystemStorage(location=os.path.abspath(folder))


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    # corrupt blob -> what its bytes hash to now (tells one corruption from another)
    corrupt_actual: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt


def _safe_sha256(sha: str, storage: Storage) -> str | None:
    """The stored blob's actual checksum, None when it is missing."""
    try:
        return blob_sha256(sha, storage)
    except FileNotFoundError:
        return None


def verify(storage: Storage | None = None, *, problem: Say = lambda line: None,
           note: Say = lambda line: None) -> VerifyReport:
    """Re-hash every blob the raw files reference; `problem` gets one line per missing or
    corrupt blob, `note` one per unreferenced one."""
    storage = storage or blob_storage()
    # sha256 -> a few raw-file ids and names, for a message that says what is affected.
    users: dict[str, list[str]] = defaultdict(list)
    rows = RawFile.objects.order_by("sha256", "pk").values_list("pk", "sha256", "original_name")
    for pk, sha, name in rows.iterator():
        if len(users[sha]) < 3:
            users[sha].append(f"#{pk} {name}")
    report = VerifyReport(checked=len(users))
    for sha, raw_files in users.items():
        where, affected = blob_location(sha, storage), ", ".join(raw_files)
        actual = _safe_sha256(sha, storage)
        if actual is None:
            report.missing.append(sha)
            problem(f"MISSING {where} (raw file {affected})")
        elif actual != sha:
            report.corrupt.append(sha)
            report.corrupt_actual[sha] = actual
            problem(f"CORRUPT {where}: its bytes now hash to {actual} (raw file {affected})")
    for sha in blob_names(storage):
        if sha not in users:
            report.unreferenced.append(blob_location(sha, storage))
    report.unreferenced.sort()
    for where in report.unreferenced:
        note(f"unreferenced (not a failure) {where}")
    return report


@dataclass
class BackupReport:
    checked: int = 0
    copied: int = 0
    corrupt: list[str] = field(default_factory=list)


def _copy_checked(sha: str, source: Storage, target: Storage) -> bool:
    """Copy one blob, hashing as it streams; False (nothing written) when the bytes do not
    hash to the name. The copy lands beside its name and is renamed into place."""
    name = blob_path(sha)
    digest = hashlib.sha256()
    if isinstance(target, BlobFileSystemStorage):
        full = target.path(name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        partial = f"{full}.{os.getpid()}.restoring"
        try:
            with closing(blob_open(sha, source)) as stream, open(partial, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha:
                return False
            os.chmod(partial, 0o444)
            os.replace(partial, full)
            return True
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    # Object storage: hash first (a second read), then upload; a PUT is atomic.
    if _safe_sha256(sha, source) != sha:
        return False
    with closing(blob_open(sha, source)) as stream:
        blob_write(stream, sha, target)
    return True


def backup(folder: str, storage: Storage | None = None, *, say: Say = lambda line: None) -> BackupReport:
    """Copy every stored blob that the backup folder lacks into it."""
    storage, target = storage or blob_storage(), folder_storage(folder)
    report = BackupReport()
    for sha in blob_names(storage):
        report.checked += 1
        if _safe_sha256(sha, target) == sha:
            continue  # already backed up, and intact
        if _copy_checked(sha, storage, target):
            report.copied += 1
        else:
            report.corrupt.append(sha)
            say(f"CORRUPT in the storage, not backed up: {blob_location(sha, storage)}")
    return report


@dataclass
class RestoreReport:
    checked: int = 0
    copied: int = 0
    repaired: int = 0
    lost: list[str] = field(default_factory=list)


def restore(folder: str, storage: Storage | None = None, *, say: Say = lambda line: None) -> RestoreReport:
    """Repair the storage's blobs from a backup folder by checksum."""
    storage, source = storage or blob_storage(), folder_storage(folder)
    report = RestoreReport()
    for sha in sorted(set(blob_names(source)) | set(blob_names(storage))):
        report.checked += 1
        rel = blob_path(sha)
        live = _safe_sha256(sha, storage)
        if live == sha:
            backup_copy = _safe_sha256(sha, source)
            if backup_copy is not None and backup_copy != sha:
                say(f"WARNING backup copy is corrupt (live copy is good): {source.path(rel)}")
            continue
        if _safe_sha256(sha, source) == sha and _copy_checked(sha, source, storage):
            if live is None:
                report.copied += 1
            else:
                report.repaired += 1
                say(f"MISMATCH repaired from the backup: {rel}")
            continue
        report.lost.append(sha)
        say(f"LOST neither the live nor the backup copy matches its checksum: {rel}")
    return report
