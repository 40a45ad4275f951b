"""Where blobs are kept: Django storage backends for content-addressed, write-once bytes.

`settings.STORAGES["default"]` is one of these, chosen by `LABTRACK_STORAGE`:

- `BlobFileSystemStorage` (the embedded default): files under MEDIA_ROOT, written beside
  their name and renamed into place, so a reader never sees half a blob and a crash never
  leaves one under its checksum.
- `BlobS3Storage` (`LABTRACK_STORAGE=s3`): django-storages' S3 backend (AWS S3, MinIO,
  Ceph RGW, any S3-protocol server). A PUT is atomic: an object appears whole or not at all.

Both keep a blob's name (its checksum is the name: the same name means the same bytes, so
writing it again is harmless and never renamed) and both offer `open_stream(name)`: a
binary stream read in chunks straight from the backend, so hashing, downloading or
materialising a 2 GB blob holds only a chunk in memory. (S3Storage.open() would first copy
the whole object into a temporary file.)
"""
from __future__ import annotations

import os
import uuid
from typing import IO, Iterator

from django.core.files.storage import FileSystemStorage

CHUNK_BYTES = 1024 * 1024


class BlobFileSystemStorage(FileSystemStorage):
    """Files under MEDIA_ROOT, written atomically, read-only once written."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # content addressed: an existing name already holds these bytes

    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        os.makedirs(os.path.dirname(full_path), exist_ok=True)
        partial = f"{full_path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"
        try:
            with open(partial, "wb") as out:
                for chunk in content.chunks(CHUNK_BYTES):
                    out.write(chunk)
            os.chmod(partial, 0o444)
            os.replace(partial, full_path)  # atomic: a reader never sees half a blob
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return name

    def open_stream(self, name: str) -> IO[bytes]:
        """The file opened for reading (FileNotFoundError when missing)."""
        return open(self.path(name), "rb")

    def walk_names(self, prefix: str) -> Iterator[str]:
        """Every stored name under `prefix` (a folder), skipping half-written files."""
        top = self.path(prefix)
        for dirpath, _dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, self.location).replace(os.sep, "/")
            for filename in filenames:
                if not filename.endswith((".partial", ".restoring")):
                    yield f"{rel}/{filename}"


try:  # django-storages and boto3 are installed with requirements.txt; S3 is optional at run time
    from botocore.exceptions import ClientError
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name
except ImportError:  # pragma: no cover - only without the S3 packages
    S3Storage = None

if S3Storage is not None:

    class BlobS3Storage(S3Storage):
        """django-storages' S3 backend, streaming reads, never renaming a blob."""

        def get_available_name(self, name: str, max_length: int | None = None) -> str:
            return name

        def open_stream(self, name: str) -> IO[bytes]:
            """The object's body as a stream (botocore reads it from the socket in chunks).
            FileNotFoundError when there is no such object."""
            key = self._normalize_name(clean_name(name))
            try:
                reply = self.bucket.Object(key).get()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    raise FileNotFoundError(f"no object {key!r} in bucket {self.bucket_name!r}") from None
                raise
            body = reply["Body"]
            body.content_length = reply.get("ContentLength")  # for a download's Content-Length
            return body

        def walk_names(self, prefix: str) -> Iterator[str]:
            """Every object name under `prefix`, from a flat paginated listing (one request
            per 1,000 objects, not one per folder)."""
            root = self._normalize_name(clean_name(prefix)).rstrip("/") + "/"
            strip = len(self.location.rstrip("/") + "/") if self.location else 0
            paginator = self.connection.meta.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=root):
                for entry in page.get("Contents", ()):
                    yield entry["Key"][strip:]
