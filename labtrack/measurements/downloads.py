"""A raw file's stored bytes as an HTTP download, the same for the pages and the API.

Streamed from the storage through Django (also on S3, rather than a presigned redirect):
the caller's permission check stays the only gate, the bucket stays private and need not
be reachable from browsers, and memory holds one chunk."""
from __future__ import annotations

from django.http import FileResponse

from labtrack.measurements.blobs import blob_open
from labtrack.measurements.models import RawFile


class StoredBytesMissing(Exception):
    """The row exists but its blob does not: the message says so for a person."""


def raw_file_response(raw: RawFile) -> FileResponse:
    """The download of `raw` (already permission-checked) with its checksum in a header."""
    try:
        stream = blob_open(raw.sha256)
    except FileNotFoundError:
        raise StoredBytesMissing(f"The stored bytes of {raw.original_name} are missing; tell the administrator.") from None
    response = FileResponse(stream, as_attachment=True, filename=raw.original_name,
                            content_type="application/octet-stream")
    if not response.has_header("Content-Length") and getattr(stream, "content_length", None) is not None:
        response["Content-Length"] = str(stream.content_length)  # the object's size, as the storage says
    response["X-Checksum-SHA256"] = raw.sha256
    return response
