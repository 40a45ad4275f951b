"""Safe reading of zip archives (zipped TopSpin folders, Bruker .brml).

Uploaded zips are untrusted: member names may climb out with `../` or be absolute, a
small file may inflate to gigabytes (a "zip bomb"), and the sizes in the zip's directory
may lie. Every zip in LabTrack is opened through here, and the limits are applied twice:
on the directory before anything is read (cheap, refuses the honest bomb at once), and on
the bytes actually inflated while reading (refuses the lying one after at most one chunk
past the limit). Members are copied in bounded chunks, never read whole into memory.

The limits are `ZipLimits`; the defaults can be changed per process through the
environment (LABTRACK_ZIP_MAX_TOTAL_BYTES, LABTRACK_ZIP_MAX_MEMBER_BYTES,
LABTRACK_ZIP_MAX_MEMBERS, LABTRACK_ZIP_MAX_RATIO), read when a zip is opened.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from analysis.result import InputError

MiB = 1024 * 1024
GiB = 1024 * MiB
MAX_MEMBER_BYTES = 256 * MiB
MAX_TOTAL_BYTES = 2 * GiB
# A TopSpin experiment folder holds tens of files, a .brml a few hundred at most.
MAX_MEMBERS = 2_000
# Instrument data (noisy integers and floats, XML of numbers) deflates 2–20 fold; deflate
# itself tops out near 1,000 fold, which only long runs of one byte reach: a bomb.
MAX_COMPRESSION_RATIO = 100
# Small members may compress well (a mostly blank parameter file); they cannot hurt.
RATIO_CHECKED_ABOVE_BYTES = 1 * MiB
CHUNK_BYTES = 1 * MiB

# Temp folders made per run by the worker (labtrack.analyses.adapters) and per zipped
# TopSpin read (here, analysis.io.topspin); a killed worker leaves them behind.
WORKER_TEMP_PREFIXES = ("labtrack-run-", "topspin-")


@dataclass(frozen=True)
class ZipLimits:
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_members: int = MAX_MEMBERS
    max_ratio: float = MAX_COMPRESSION_RATIO

    @classmethod
    def from_env(cls) -> ZipLimits:
        """The defaults, each overridable by its LABTRACK_ZIP_* environment variable."""
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            return float(raw) if raw else default  # "2e9" and "2147483648" alike
        return cls(
            max_total_bytes=int(number("LABTRACK_ZIP_MAX_TOTAL_BYTES", MAX_TOTAL_BYTES)),
            max_member_bytes=int(number("LABTRACK_ZIP_MAX_MEMBER_BYTES", MAX_MEMBER_BYTES)),
            max_members=int(number("LABTRACK_ZIP_MAX_MEMBERS", MAX_MEMBERS)),
            max_ratio=number("LABTRACK_ZIP_MAX_RATIO", float(MAX_COMPRESSION_RATIO)),
        )


def _size(n: float) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / MiB:.0f} MiB"


def open_zip(path: str, limits: ZipLimits | None = None) -> zipfile.ZipFile:
    """Open `path` and check every member's directory entry before anything is read."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InputError("is not a readable zip archive (corrupt or truncated)", path) from None
    try:
        check_members(zf, path, limits)
    except BaseException:
        zf.close()
        raise
    return zf


def check_members(zf: zipfile.ZipFile, path: str, limits: ZipLimits | None = None) -> None:
    """Refuse unsafe names, links, too many members, oversized or bomb-like members."""
    limits = limits or ZipLimits.from_env()
    infos = zf.infolist()
    if not infos:
        raise InputError("the zip archive is empty", path)
    if len(infos) > limits.max_members:
        raise InputError(
            f"the zip archive has {len(infos):,} files in it; LabTrack accepts at most "
            f"{limits.max_members:,} (zip just the experiment folder, not a whole disk or data set)", path)
    total = compressed = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise InputError(f"the zip archive has an unsafe member path {name!r} (absolute or '..')", path)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"the zip archive contains a symbolic link {name!r}", path)
        if info.file_size > limits.max_member_bytes:
            raise InputError(
                f"zip member {name!r} would unpack to {_size(info.file_size)}; "
                f"the limit for one file is {_size(limits.max_member_bytes)}", path)
        if info.file_size > RATIO_CHECKED_ABOVE_BYTES and info.file_size / max(info.compress_size, 1) > limits.max_ratio:
            raise InputError(
                f"zip member {name!r} unpacks {info.file_size / max(info.compress_size, 1):,.0f} times "
                f"larger than it is stored; instrument data never compresses that well, a zip bomb "
                f"does. Re-zip the folder with ordinary settings.", path)
        total += info.file_size
        compressed += info.compress_size
    if total > limits.max_total_bytes:
        raise InputError(
            f"the zip archive would unpack to {_size(total)}; the limit is {_size(limits.max_total_bytes)}", path)
    if total > RATIO_CHECKED_ABOVE_BYTES and total / max(compressed, 1) > limits.max_ratio:
        raise InputError(
            f"the zip archive unpacks {total / max(compressed, 1):,.0f} times larger than it is "
            f"stored (a zip bomb?); re-zip the folder with ordinary settings.", path)


class _Budget:
    """Bytes actually inflated so far for one archive: the directory's sizes may lie."""

    def __init__(self, path: str, limits: ZipLimits):
        self.path, self.limits, self.total = path, limits, 0

    def take(self, info: zipfile.ZipInfo, member_so_far: int, n: int, member_limit: int) -> None:
        self.total += n
        if member_so_far > member_limit:
            forged = info.file_size <= member_limit
            raise InputError(
                f"zip member {info.filename!r} is larger than {_size(member_limit)}"
                + (" (more than the archive's directory says: a damaged or forged zip)" if forged else ""),
                self.path)
        if self.total > self.limits.max_total_bytes:
            raise InputError(
                f"the zip archive unpacks to more than {_size(self.limits.max_total_bytes)}", self.path)


def copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: BinaryIO, path: str, *,
                limit: int | None = None, budget: _Budget | None = None) -> int:
    """Stream one member into `out` in CHUNK_BYTES pieces; returns the bytes written.

    Stops as soon as more than `limit` (default: the member size limit) or the archive's
    total budget has been inflated, whatever the directory claims.
    """
    limits = budget.limits if budget else ZipLimits.from_env()
    budget = budget or _Budget(path, limits)
    limit = limits.max_member_bytes if limit is None else limit
    written = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK_BYTES):
                written += len(chunk)
                budget.take(info, written, len(chunk), limit)
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        # A CRC mismatch, a truncated stream, an unsupported method or an encrypted member.
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # disk full or the like: not the user's file at fault
        raise InputError(f"zip member {info.filename!r} cannot be unpacked ({exc})", path) from None
    return written


def read_member(zf: zipfile.ZipFile, name: str, path: str, *, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Read one (small) member into memory, stopping at `limit` bytes even if the header
    lies about its size. For large members use `copy_member` into a file."""
    import io

    buffer = io.BytesIO()
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise InputError(f"the zip archive has no member {name!r}", path) from None
    copy_member(zf, info, buffer, path, limit=limit)
    return buffer.getvalue()


def extract_safely(path: str, dest: str, limits: ZipLimits | None = None) -> list[str]:
    """Extract a checked archive into `dest` (which must exist), streaming each member;
    returns the written paths."""
    limits = limits or ZipLimits.from_env()
    written = []
    with open_zip(path, limits) as zf:
        budget = _Budget(path, limits)
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
                copy_member(zf, info, out, path, budget=budget)
            written.append(target)
    return written


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


def remove_stale_temp_dirs(max_age_hours: float = 6.0, *, temp_dir: str | None = None,
                           prefixes: Iterable[str] = WORKER_TEMP_PREFIXES,
                           now: float | None = None) -> list[str]:
    """Delete this machine's leftover worker temp folders older than `max_age_hours`.

    A worker killed mid-run (OOM, kill -9, a time limit) never runs its TemporaryDirectory
    clean-up, so extracted zips pile up under the temp dir. Call this when a worker starts;
    the age guard leaves folders of runs still going in other worker processes alone (no
    run lasts hours: the hard time limit is minutes). Only real directories directly under
    `temp_dir` whose name starts with one of `prefixes` are touched; symbolic links are not
    followed. Returns the removed paths.
    """
    base = Path(temp_dir or tempfile.gettempdir())
    cutoff = (time.time() if now is None else now) - max_age_hours * 3600
    prefixes = tuple(prefixes)
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefixes):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime > cutoff:
                continue
        except OSError:
            continue  # vanished meanwhile
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.lexists(entry.path):
            removed.append(entry.path)
    return removed
