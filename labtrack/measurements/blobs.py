"""Stored bytes: raw files live once in the blob storage by their SHA-256, never changed.

Content addressing makes identical uploads share one blob and lets anyone re-check a
blob against its own name. The storage is Django's default storage
(`settings.STORAGES["default"]`, see `labtrack.measurements.storage`): files under
MEDIA_ROOT by default, an S3-protocol bucket with `LABTRACK_STORAGE=s3`. Everything here
goes through the storage API, so checksums, verification, downloads, backups and the
analysis inputs work the same on both.
"""
from __future__ import annotations

import hashlib
from contextlib import closing
from typing import IO, Callable, Iterator

from django.core.files import File
from django.core.files.storage import Storage, default_storage

CHUNK_BYTES = 1024 * 1024
BLOB_PREFIX = "blobs"


def blob_storage() -> Storage:
    return default_storage


def blob_path(sha256: str) -> str:
    """A blob's name in the storage (a path under MEDIA_ROOT, a key in the bucket)."""
    return f"{BLOB_PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def blob_full_path(sha256: str) -> str:
    """The blob's local file path: only on the filesystem storage (NotImplementedError on
    object storage, whose blobs have no local path: use blob_open / blob_input)."""
    return blob_storage().path(blob_path(sha256))


def blob_location(sha256: str, storage: Storage | None = None) -> str:
    """Where the blob is, for messages: a local path, or s3://bucket/key."""
    storage, name = storage or blob_storage(), blob_path(sha256)
    try:
        return storage.path(name)
    except NotImplementedError:
        bucket = getattr(storage, "bucket_name", "")
        key = storage._normalize_name(name) if hasattr(storage, "_normalize_name") else name
        return f"s3://{bucket}/{key}"


def blob_store(source_path: str, sha256: str, storage: Storage | None = None) -> None:
    """Copy staged bytes to their content address (once; identical uploads share it)."""
    storage, name = storage or blob_storage(), blob_path(sha256)
    if storage.exists(name):
        return
    with open(source_path, "rb") as fh:
        storage.save(name, File(fh, name=name))


def blob_write(stream: IO[bytes], sha256: str, storage: Storage | None = None) -> None:
    """Write a blob's bytes from a stream, replacing what is under its name (a restore of
    a corrupt copy). The caller has checked that the bytes hash to `sha256`."""
    storage, name = storage or blob_storage(), blob_path(sha256)
    if storage.exists(name) and not hasattr(storage, "open_stream"):
        storage.delete(name)  # a third-party storage may rename rather than overwrite
    storage.save(name, File(stream, name=name))


def blob_exists(sha256: str) -> bool:
    return blob_storage().exists(blob_path(sha256))


def blob_open(sha256: str, storage: Storage | None = None) -> IO[bytes]:
    """The blob as a binary stream read in chunks from the storage (bounded memory);
    FileNotFoundError when it is missing. Close it (or use `with`)."""
    storage, name = storage or blob_storage(), blob_path(sha256)
    if hasattr(storage, "open_stream"):
        return storage.open_stream(name)
    return storage.open(name, "rb")


def blob_input(sha256: str) -> str | Callable[[], IO[bytes]]:
    """What the engine needs to read a blob: its local path when the storage has one (the
    engine links it, no copy), else an opener the engine streams into the run's temp
    folder (object storage: a worker on any machine, no shared disk)."""
    try:
        return blob_full_path(sha256)
    except NotImplementedError:
        return lambda: blob_open(sha256)


def stream_sha256(stream: IO[bytes]) -> str:
    """SHA-256 of a stream read in 1 MiB chunks."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def blob_sha256(sha256: str, storage: Storage | None = None) -> str:
    """Recompute a stored blob's checksum in 1 MiB chunks (bounded memory)."""
    with closing(blob_open(sha256, storage)) as stream:
        return stream_sha256(stream)


def blob_verify(sha256: str) -> bool:
    """True when the stored blob still hashes to its name."""
    return blob_sha256(sha256) == sha256


def blob_names(storage: Storage | None = None) -> Iterator[str]:
    """The checksum of every stored blob (what lies in the storage, referenced or not)."""
    storage = storage or blob_storage()
    if hasattr(storage, "walk_names"):
        names = storage.walk_names(BLOB_PREFIX)
    else:  # a third-party storage: walk its folders
        names = _walk(storage, BLOB_PREFIX)
    for name in names:
        sha = name.rsplit("/", 1)[-1]
        if name == blob_path(sha):
            yield sha


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for f in files:
        yield f"{folder}/{f}"
    for d in dirs:
        yield from _walk(storage, f"{folder}/{d}")
