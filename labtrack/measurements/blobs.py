"""Stored bytes: raw files live once under MEDIA_ROOT by their SHA-256, never changed.

Content addressing makes identical uploads share one blob and lets anyone re-check a
blob against its own name.
"""
from __future__ import annotations

import hashlib
import os
import shutil

from django.conf import settings


def blob_path(sha256: str) -> str:
    """Where a blob with this checksum lives under MEDIA_ROOT."""
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def blob_full_path(sha256: str) -> str:
    return os.path.join(settings.MEDIA_ROOT, blob_path(sha256))


def blob_store(source_path: str, sha256: str) -> None:
    """Copy staged bytes to their content address (once; identical uploads share it)."""
    target = blob_full_path(sha256)
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{os.getpid()}.partial"
    shutil.copyfile(source_path, tmp)
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)  # atomic: a reader never sees half a blob


def blob_sha256(sha256: str) -> str:
    """Recompute a stored blob's checksum in 1 MiB chunks (bounded memory)."""
    digest = hashlib.sha256()
    with open(blob_full_path(sha256), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def blob_verify(sha256: str) -> bool:
    """True when the stored blob still hashes to its name."""
    return blob_sha256(sha256) == sha256
