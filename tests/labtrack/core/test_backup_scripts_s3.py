"""deploy/backup.sh and deploy/restore.sh with LABTRACK_STORAGE=s3: the blobs go through
`manage.py backup_blobs` / `restore_blobs` against a real S3-protocol server (moto).

pg_dump and pg_restore are stubs on PATH (the database half is PostgreSQL's own tools);
the blob copy and repair are ours and run for real."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.s3_server import s3_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not shutil.which("bash"), reason="the deploy scripts need bash")


@pytest.fixture
def site(tmp_path, s3_server):
    bucket = f"labtrack-{uuid.uuid4().hex[:12]}"
    s3 = s3_server.client()
    s3.create_bucket(Bucket=bucket)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        stub = bin_dir / tool
        stub.write_text(f"#!/bin/sh\necho {tool}-stub \"$@\" >> \"$STUB_LOG\"\n")
        stub.chmod(0o755)
    env = {**os.environ, **s3_server.env(bucket), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "DATABASE_URL": "postgresql://stub/db", "BACKUP_DIR": str(tmp_path / "backup"), "DEBUG": "1",
           "SKIP_VERIFY_BLOBS": "1", "STUB_LOG": str(tmp_path / "stub.log"), "PYTHON": sys.executable,
           "LABTRACK_VAR_DIR": str(tmp_path / "var")}
    env.pop("MEDIA_ROOT", None)

    def put(data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        s3.put_object(Bucket=bucket, Key=f"blobs/{sha[:2]}/{sha[2:4]}/{sha}", Body=data)
        return sha

    def get(sha: str) -> bytes | None:
        try:
            return s3.get_object(Bucket=bucket, Key=f"blobs/{sha[:2]}/{sha[2:4]}/{sha}")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None

    def run(script: str, *args: str):
        return subprocess.run(["bash", str(ROOT / "deploy" / script), *args], env=env, capture_output=True,
                              text=True, timeout=120)

    return put, get, s3, bucket, run, tmp_path


def test_backup_then_restore_repairs_the_bucket(site):
    put, get, s3, bucket, run, tmp = site
    blobs = {put(os.urandom(2048)): None for _ in range(3)}
    shas = list(blobs)

    proc = run("backup.sh")
    assert proc.returncode == 0, proc.stderr
    assert "3 blobs in the storage: 3 copied" in proc.stdout
    for sha in shas:
        copy = tmp / "backup" / "media" / "blobs" / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha
    assert "pg_dump-stub" in (tmp / "stub.log").read_text()

    rotted = bytearray(get(shas[0]))
    rotted[0] ^= 0x01
    s3.put_object(Bucket=bucket, Key=f"blobs/{shas[0][:2]}/{shas[0][2:4]}/{shas[0]}", Body=bytes(rotted))
    s3.delete_object(Bucket=bucket, Key=f"blobs/{shas[1][:2]}/{shas[1][2:4]}/{shas[1]}")
    dump = tmp / "backup" / "db" / "labtrack-X.dump"  # (the pg_dump stub writes none)
    dump.write_bytes(b"dump")

    proc = run("restore.sh", str(dump))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 blobs checked: 1 copied from the backup, 1 corrupt ones repaired, 0 lost" in proc.stdout
    for sha in shas:
        assert hashlib.sha256(get(sha)).hexdigest() == sha
    assert "pg_restore-stub" in (tmp / "stub.log").read_text()
