"""Which storage keeps the raw files, read from the environment (used by settings.py and
by the tests that start an S3 server). No Django import beyond its exception: settings
load this before Django is configured.

LABTRACK_STORAGE=filesystem (default): files under MEDIA_ROOT.
LABTRACK_STORAGE=s3: an S3-protocol bucket through django-storages (AWS S3, MinIO, Ceph
RGW): AWS_STORAGE_BUCKET_NAME (required), AWS_S3_ENDPOINT_URL (MinIO/Ceph; unset for AWS),
AWS_S3_REGION_NAME, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (unset: boto3's own chain,
e.g. an instance role), AWS_LOCATION (a key prefix inside the bucket),
AWS_S3_ADDRESSING_STYLE (path by default on a custom endpoint).
"""
from __future__ import annotations

from typing import Any, Mapping

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM_BACKEND = "labtrack.measurements.storage.BlobFileSystemStorage"
S3_BACKEND = "labtrack.measurements.storage.BlobS3Storage"


def blob_storage_config(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """(LABTRACK_STORAGE, the STORAGES["default"] entry) for this environment."""
    kind = (env.get("LABTRACK_STORAGE") or "filesystem").strip().lower()
    if kind == "filesystem":
        # No fixed location: it follows MEDIA_ROOT (tests override MEDIA_ROOT).
        return kind, {"BACKEND": FILESYSTEM_BACKEND}
    if kind != "s3":
        raise ImproperlyConfigured(f"LABTRACK_STORAGE={kind!r}: use 'filesystem' (the default, files under "
                                   "MEDIA_ROOT) or 's3' (an S3-protocol bucket: AWS S3, MinIO, Ceph RGW).")
    bucket = (env.get("AWS_STORAGE_BUCKET_NAME") or "").strip()
    if not bucket:
        raise ImproperlyConfigured("LABTRACK_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket that keeps the "
                                   "raw files); see deploy/labtrack.env.example.")
    endpoint = env.get("AWS_S3_ENDPOINT_URL") or None
    return kind, {"BACKEND": S3_BACKEND, "OPTIONS": {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": env.get("AWS_S3_REGION_NAME") or None,
        # Unset: boto3's own chain (environment, ~/.aws, an instance role).
        "access_key": env.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env.get("AWS_SECRET_ACCESS_KEY") or None,
        "location": (env.get("AWS_LOCATION") or "").strip("/"),
        # MinIO and Ceph answer path-style requests on a custom endpoint.
        "addressing_style": env.get("AWS_S3_ADDRESSING_STYLE") or ("path" if endpoint else None),
        "default_acl": None,  # the bucket's policy decides; downloads stream through LabTrack
        "file_overwrite": True,  # a blob's name is its checksum: rewriting it writes the same bytes
        # storage.open() spills to disk past 8 MiB (LabTrack reads through open_stream anyway).
        "max_memory_size": 8 * 1024 * 1024,
    }}
