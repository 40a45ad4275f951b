"""Opening zips from outside (.eln bundles, .xlsx workbooks) without trusting them: the
central directory is checked before a byte is unpacked — number of entries, declared
unpacked size, compression ratio (zip bombs), and names that would leave the folder
(path traversal: "../", absolute paths, drive letters) — and each entry is then read
with a hard cap, so a lying header cannot make it grow."""
from __future__ import annotations

import posixpath
import zipfile
from typing import IO, Iterator

from django.conf import settings
from django.core.exceptions import ValidationError

from labtrack.measurements.uploads import size_text

CHUNK_BYTES = 1 << 20


def safe_member_name(name: str) -> str:
    """The entry's path, normalised; ValidationError if it could escape the folder."""
    if "\\" in name or "\x00" in name:
        raise ValidationError(f"The archive holds a file with an unsafe name ({name[:80]!r}); nothing was imported.")
    normal = posixpath.normpath(name)
    if name.startswith("/") or normal.startswith("../") or normal == ".." or (len(name) > 1 and name[1] == ":"):
        raise ValidationError(f"The archive holds a file outside its folder ({name[:80]!r}); nothing was imported.")
    return normal


def open_checked(fileobj: IO[bytes] | str, *, what: str, max_entries: int | None = None,
                 max_unpacked_bytes: int | None = None, max_ratio: int | None = None) -> zipfile.ZipFile:
    """A ZipFile whose directory passed the checks (limits default to the .eln settings)."""
    max_entries = max_entries or settings.LABTRACK_ELN_MAX_ENTRIES
    max_unpacked_bytes = max_unpacked_bytes or settings.LABTRACK_ELN_MAX_UNPACKED_BYTES
    max_ratio = max_ratio or settings.LABTRACK_ELN_MAX_RATIO
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(f"{what} is not a zip archive (or is damaged); nothing was imported.") from None
    entries = archive.infolist()
    if len(entries) > max_entries:
        archive.close()
        raise ValidationError(f"{what} holds {len(entries)} files, more than the {max_entries} LabTrack opens; "
                              "nothing was imported.")
    total = 0
    for entry in entries:
        safe_member_name(entry.filename)
        if entry.flag_bits & 0x1:
            archive.close()
            raise ValidationError(f"{what} is encrypted ({entry.filename}); export it without a password.")
        total += entry.file_size
        if entry.file_size > 1 << 20 and entry.compress_size and entry.file_size / entry.compress_size > max_ratio:
            archive.close()
            raise ValidationError(f"{entry.filename} in {what} unpacks {entry.file_size // entry.compress_size}× "
                                  "its packed size (a zip bomb?); nothing was imported.")
    if total > max_unpacked_bytes:
        archive.close()
        raise ValidationError(f"{what} unpacks to {size_text(total)}, more than the {size_text(max_unpacked_bytes)} "
                              "limit; nothing was imported.")
    return archive


def read_capped(archive: zipfile.ZipFile, name: str, limit_bytes: int) -> bytes:
    """An entry's bytes, refusing it past `limit_bytes` whatever its header said."""
    return b"".join(iter_capped(archive, name, limit_bytes))


def iter_capped(archive: zipfile.ZipFile, name: str, limit_bytes: int) -> Iterator[bytes]:
    read = 0
    with archive.open(name) as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            read += len(chunk)
            if read > limit_bytes:
                raise ValidationError(f"{name} is larger than it claims (over {size_text(limit_bytes)}); "
                                      "nothing was imported.")
            yield chunk
