"""Django's side of receiving raw files: every uploaded file goes to a temp file on disk
(never held in memory, whatever its size), and reading the request stops the moment one
file passes LABTRACK_MAX_UPLOAD_BYTES, so an oversized body costs neither memory nor more
than the limit of disk. The refusal is left on the request for the view to report: a
chemist is told which file is too large, and nothing is saved."""
from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

REFUSAL_ATTRIBUTE = "labtrack_upload_refused"
# Headroom for form fields and multipart boundaries around the files.
FORM_OVERHEAD_BYTES = 1 << 20


def upload_refusal(request) -> str:
    """Why the upload handler stopped reading this request ("" when it did not)."""
    return getattr(request, REFUSAL_ATTRIBUTE, "")


def size_text(n_bytes: int) -> str:
    """'512 MiB', '64 KiB': a limit as a chemist reads it."""
    return f"{n_bytes / 2**20:.0f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 2**10:.0f} KiB"


def too_large_message(name: str) -> str:
    return f"{name} is larger than the {size_text(settings.LABTRACK_MAX_UPLOAD_BYTES)} upload limit; nothing was saved."


class _DiskUploadedFile(TemporaryUploadedFile):
    """TemporaryUploadedFile with a fixed temp-file suffix: Django's own puts the upload's
    extension in the temp name, and a 300-character extension made that an OSError."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class BoundedUploadHandler(FileUploadHandler):
    """The only upload handler (settings.FILE_UPLOAD_HANDLERS)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = settings.LABTRACK_MAX_UPLOAD_BYTES
        cap = limit * settings.LABTRACK_MAX_FILES_PER_UPLOAD + FORM_OVERHEAD_BYTES
        if content_length and content_length > cap:
            # Refused before a byte of the body is read.
            setattr(self.request, REFUSAL_ATTRIBUTE, (
                f"The upload is {content_length / 2**20:.0f} MiB, more than "
                f"{settings.LABTRACK_MAX_FILES_PER_UPLOAD} files of at most {size_text(limit)}; nothing was saved."))
            return QueryDict(mutable=True), MultiValueDict()
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.file = _DiskUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        limit = settings.LABTRACK_MAX_UPLOAD_BYTES
        if self.received > limit:
            setattr(self.request, REFUSAL_ATTRIBUTE, too_large_message(self.file_name))
            self.file.close()
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()
