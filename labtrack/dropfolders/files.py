"""The file system side of a drop folder, with no database: what is in the folder
(files and TopSpin experiments), whether an experiment is complete, a signature that
changes whenever anything in an item grows or is touched, content checksums, the zip a
TopSpin folder is uploaded as, and moving items aside without ever overwriting.

Everything streams in chunks (hashing, zipping, copying), so memory stays bounded
whatever an instrument writes."""
from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass, field

CHUNK_BYTES = 1 << 20
# The subfolders LabTrack itself writes to; never scanned.
UNMATCHED_DIR = "unmatched"
DUPLICATES_DIR = "duplicates"
FAILED_DIR = "failed"
# A TopSpin experiment holds tens of files; more is a whole disk dropped by mistake
# (and more than a zip upload accepts, analysis.io.archive.MAX_MEMBERS).
MAX_EXPERIMENT_FILES = 2_000
# Names that copy tools and editors use for files still being written, and hidden files.
_TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", "~", ".swp")
_TOPSPIN_MARKERS = {"acqus", "acqu2s", "fid", "ser", "pdata", "procs"}
# Fixed zip member time: the same experiment always zips to the same bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class Candidate:
    """A file or TopSpin experiment in the folder, as this scan saw it."""

    kind: str                     # "file" or "topspin"
    name: str                     # "NC8.3-P.dat", "NC8.3-P/10"
    match_name: str               # what the naming rule reads: the file name or the data set's name
    path: str
    size_bytes: int = 0
    file_count: int = 1
    signature: str = ""
    missing: list[str] = field(default_factory=list)
    problem: str = ""             # why it cannot be ingested, found without reading its content


def is_ignored_name(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower().endswith(_TEMP_SUFFIXES)


def find_candidates(folder: str, reserved: set[str]) -> list[Candidate]:
    """Every file and TopSpin experiment directly in `folder` (a data set folder's
    numbered experiments each count), skipping `reserved` subfolders, hidden and temp
    files and symbolic links (a link could point anywhere on the server). Raises
    OSError when the folder itself cannot be listed."""
    found: list[Candidate] = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if is_ignored_name(entry.name) or entry.name in reserved or entry.is_symlink():
                continue
            try:
                if entry.is_file(follow_symlinks=False):
                    found.append(_survey_file(Candidate("file", entry.name, entry.name, entry.path)))
                elif entry.is_dir(follow_symlinks=False):
                    found.extend(_folder_candidates(entry.path, entry.name))
            except OSError as exc:  # vanished or unreadable between listing and looking
                found.append(Candidate("file", entry.name, entry.name, entry.path, signature="unreadable",
                                       problem=f"{entry.name} cannot be read ({exc.strerror or exc})."))
    return found


def _is_experiment(path: str, name: str) -> bool:
    return name.isdigit() or os.path.isfile(os.path.join(path, "acqus"))


def _folder_candidates(path: str, name: str) -> list[Candidate]:
    if _is_experiment(path, name):
        return [survey_experiment(Candidate("topspin", name, name, path))]
    children = sorted((e.name, e.path) for e in os.scandir(path)
                      if e.is_dir(follow_symlinks=False) and not is_ignored_name(e.name))
    experiments = [(child, child_path) for child, child_path in children if _is_experiment(child_path, child)]
    if experiments:
        # A TopSpin data set: <name>/<expno>/...; the data set's name says the sample.
        return [survey_experiment(Candidate("topspin", f"{name}/{child}", name, child_path))
                for child, child_path in experiments]
    if not os.listdir(path):
        return []  # an empty folder (one being created, or left after its experiments moved)
    # Not (yet) an experiment: it waits, and says what it lacks. A folder with none of a
    # TopSpin experiment's files at all is not one being copied: once settled it fails
    # with the reason (and is kept), rather than waiting for ever.
    c = survey_experiment(Candidate("topspin", name, name, path))
    if not _TOPSPIN_MARKERS & {rel.rstrip("/").rsplit("/", 1)[-1] for rel in experiment_files(path)}:
        c.problem = (f"{name} is a folder but not a TopSpin experiment (no acqus, fid, ser or pdata). "
                     "Drop instrument files directly in the drop folder, or one experiment folder per measurement.")
    return [c]


def _survey_file(c: Candidate) -> Candidate:
    st = os.stat(c.path, follow_symlinks=False)
    c.size_bytes, c.file_count = st.st_size, 1
    c.signature = f"{st.st_size}:{st.st_mtime_ns}"
    return c


def experiment_files(path: str) -> list[str]:
    """Relative paths ('/'-separated) of the files in an experiment folder, sorted;
    folders end with '/'. Symbolic links are not followed."""
    listed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        rel_dir = os.path.relpath(dirpath, path).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d))
        listed.extend(prefix + d + "/" for d in dirnames)
        listed.extend(prefix + f for f in filenames
                      if not is_ignored_name(f) and not os.path.islink(os.path.join(dirpath, f)))
        if len(listed) > MAX_EXPERIMENT_FILES:
            break
    return sorted(listed)


def survey_experiment(c: Candidate) -> Candidate:
    """Size, file count, signature and the missing files of a TopSpin experiment."""
    listed = experiment_files(c.path)
    files = [rel for rel in listed if not rel.endswith("/")]
    if len(listed) > MAX_EXPERIMENT_FILES:
        c.problem = (f"{c.name} holds more than {MAX_EXPERIMENT_FILES:,} files: it is not one TopSpin "
                     "experiment. Drop experiment folders (e.g. NC8.3-P/10) one by one.")
    digest, total = hashlib.sha256(), 0
    for rel in listed:
        if rel.endswith("/"):
            digest.update(f"{rel}\n".encode())
            continue
        st = os.stat(os.path.join(c.path, rel), follow_symlinks=False)
        total += st.st_size
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    c.size_bytes, c.file_count, c.signature = total, len(files), digest.hexdigest()
    c.missing = topspin_missing(set(listed))
    return c


def topspin_missing(listed: set[str]) -> list[str]:
    """What a TopSpin experiment folder still lacks: acqus; fid (1D) or ser and acqu2s
    (2D); and for each processed data set pdata/N: procs and 1r (1D) or procs, proc2s
    and 2rr (2D). [] when complete."""
    missing = []
    if "acqus" not in listed:
        missing.append("acqus")
    two_d = "ser" in listed or "acqu2s" in listed
    if two_d:
        missing.extend(name for name in ("acqu2s", "ser") if name not in listed)
    elif "fid" not in listed:
        missing.append("fid or ser")
    processed = sorted({rel.split("/")[1] for rel in listed if rel.startswith("pdata/") and rel.count("/") >= 2
                        and rel.split("/")[1]}, key=lambda n: (not n.isdigit(), n.zfill(6)))
    if "pdata/" in listed and not processed:
        missing.append("pdata/1")
    for number in processed:
        needed = ("procs", "proc2s", "2rr") if two_d else ("procs", "1r")
        missing.extend(f"pdata/{number}/{name}" for name in needed if f"pdata/{number}/{name}" not in listed)
    return missing


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(c: Candidate) -> str:
    """A file's SHA-256 (the same as the stored raw file's), or for an experiment folder
    the SHA-256 of its sorted "relative path NUL file SHA-256" lines: the same content
    copied again, under any folder name or time, has the same checksum."""
    if c.kind == "file":
        return file_sha256(c.path)
    digest = hashlib.sha256()
    for rel in experiment_files(c.path):
        if not rel.endswith("/"):
            digest.update(f"{rel}\0{file_sha256(os.path.join(c.path, rel))}\n".encode())
    return digest.hexdigest()


def zip_experiment(path: str, name: str, out_folder: str) -> str:
    """Zip an experiment folder as the upload service takes TopSpin data: one top-level
    folder (`name`, e.g. NC8.3-P/10 keeps the data set/expno nesting). Deterministic (sorted
    members, fixed times). Returns the zip's path in `out_folder`."""
    zip_path = os.path.join(out_folder, name.replace("/", "_") + ".zip")
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in experiment_files(path):
            if rel.endswith("/"):
                continue
            info = zipfile.ZipInfo(f"{name}/{rel}", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(path, rel), "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK_BYTES)
    return zip_path


def move_aside(src: str, dest_folder: str, name: str) -> str:
    """Move `src` to dest_folder/name (name may be 'dataset/expno'), never overwriting:
    an existing target gets '-2', '-3', ... before its extension. Returns the new path.
    A data set folder left empty by moving its last experiment is removed."""
    target = os.path.join(dest_folder, *name.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    stem, ext = os.path.splitext(target) if os.path.isfile(src) else (target, "")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = f"{stem}-{n}{ext}"
    shutil.move(src, target)
    parent = os.path.dirname(src)
    if "/" in name:
        try:
            os.rmdir(parent)  # only succeeds when empty: nothing of the instrument's is removed
        except OSError:
            pass
    return target
