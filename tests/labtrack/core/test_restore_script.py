"""deploy/restore.sh repairs blobs by checksum, not by size and mtime.

pg_restore is replaced by a stub on PATH: the database half is PostgreSQL's own tool; what
is ours is the blob repair, run here on real files."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy" / "restore.sh"

pytestmark = pytest.mark.skipif(not (shutil.which("rsync") and shutil.which("sha256sum")),
                                reason="restore.sh needs rsync and sha256sum")


def _blob(root: Path, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / sha[:2] / sha[2:4] / sha
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _flip_keeping_size_and_mtime(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture
def site(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "pg_restore"
    stub.write_text("#!/bin/sh\necho pg_restore-stub \"$@\" >> \"$STUB_LOG\"\n")
    stub.chmod(0o755)
    backup, media = tmp_path / "backup", tmp_path / "media"
    (backup / "db").mkdir(parents=True)
    dump = backup / "db" / "labtrack-X.dump"
    dump.write_bytes(b"dump")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DATABASE_URL": "postgresql://stub/db",
           "MEDIA_ROOT": str(media), "BACKUP_DIR": str(backup), "SKIP_VERIFY_BLOBS": "1",
           "STUB_LOG": str(tmp_path / "stub.log")}

    def run():
        return subprocess.run(["bash", str(SCRIPT), str(dump)], env=env, capture_output=True, text=True, timeout=60)

    return backup / "media", media, run, tmp_path


def test_bit_flipped_blob_with_same_size_and_mtime_is_repaired(site):
    backup_media, media, run, tmp = site
    good = [_blob(backup_media, os.urandom(4096)) for _ in range(3)]
    shutil.copytree(backup_media, media)
    flipped = media / good[1].relative_to(backup_media)
    _flip_keeping_size_and_mtime(flipped)

    proc = run()

    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(flipped.read_bytes()).hexdigest() == flipped.name
    assert f"MISMATCH repaired from the backup: blobs/{flipped.name[:2]}/{flipped.name[2:4]}/{flipped.name}" in proc.stdout
    assert "3 blobs checked: 0 copied from the backup, 1 corrupt ones repaired, 0 lost" in proc.stdout
    assert "pg_restore-stub" in (tmp / "stub.log").read_text()


def test_missing_blobs_are_copied_and_a_corrupt_backup_never_overwrites_a_good_live_copy(site):
    backup_media, media, run, _ = site
    kept = _blob(backup_media, b"live copy is the good one")
    _blob(backup_media, b"only in the backup")
    live = media / kept.relative_to(backup_media)
    live.parent.mkdir(parents=True)
    shutil.copy2(kept, live)
    _flip_keeping_size_and_mtime(kept)  # the backup's copy rotted

    proc = run()

    assert proc.returncode == 0, proc.stderr
    assert live.read_bytes() == b"live copy is the good one"
    assert "WARNING backup copy is corrupt" in proc.stdout
    assert "1 copied from the backup, 0 corrupt ones repaired, 0 lost" in proc.stdout


def test_blob_bad_in_both_places_fails_the_restore(site):
    backup_media, media, run, _ = site
    blob = _blob(backup_media, b"doomed")
    shutil.copytree(backup_media, media)
    _flip_keeping_size_and_mtime(blob)
    _flip_keeping_size_and_mtime(media / blob.relative_to(backup_media))

    proc = run()

    assert proc.returncode == 1
    assert "LOST neither the live nor the backup copy matches its checksum" in proc.stdout
