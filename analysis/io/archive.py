"""Safe reading of zip archives (zipped TopSpin folders, Bruker .brml).

Uploaded zips are untrusted: member names may climb out with `../` or be absolute, and a
small file may inflate to gigabytes. Every zip in LabTrack is opened through here.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import PurePosixPath, PureWindowsPath

from analysis.result import InputError

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 20_000
# Real instrument data compresses well, but not a thousand-fold.
MAX_COMPRESSION_RATIO = 1000


def open_zip(path: str) -> zipfile.ZipFile:
    """Open `path` and check every member before anything is read."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError("is not a readable zip archive (corrupt or truncated)", path) from None
    check_members(zf, path)
    return zf


def check_members(zf: zipfile.ZipFile, path: str) -> None:
    """Refuse unsafe names, links, too many members, oversized or bomb-like members."""
    infos = zf.infolist()
    if not infos:
        raise InputError("the zip archive is empty", path)
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"the zip archive has {len(infos)} members; the limit is {MAX_MEMBERS}", path)
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise InputError(f"the zip archive has an unsafe member path {name!r} (absolute or '..')", path)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"the zip archive contains a symbolic link {name!r}", path)
        if info.file_size > MAX_MEMBER_BYTES:
            raise InputError(
                f"zip member {name!r} would unpack to {info.file_size / 2**20:.0f} MiB; "
                f"the limit is {MAX_MEMBER_BYTES // 2**20} MiB", path)
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise InputError(f"zip member {name!r} is compressed suspiciously well (a zip bomb?)", path)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise InputError(
            f"the zip archive would unpack to {total / 2**20:.0f} MiB; the limit is "
            f"{MAX_TOTAL_BYTES // 2**20} MiB", path)


def read_member(zf: zipfile.ZipFile, name: str, path: str, *, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Read one member, stopping at `limit` bytes even if the header lies about its size."""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"zip member {name!r} is larger than {limit // 2**20} MiB", path)
    return data


def extract_safely(path: str, dest: str) -> list[str]:
    """Extract a checked archive into `dest` (which must exist); returns the written paths."""
    written = []
    with open_zip(path) as zf:
        root = os.path.realpath(dest)
        for info in zf.infolist():
            target = os.path.realpath(os.path.join(root, info.filename))
            if not (target == root or target.startswith(root + os.sep)):
                raise InputError(f"the zip archive has an unsafe member path {info.filename!r}", path)
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                out.write(read_member(zf, info.filename, path))
            written.append(target)
    return written


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts
