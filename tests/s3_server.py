"""A real S3-protocol server for the storage tests: moto's standalone server (`moto[server]`
from requirements.txt) in a subprocess on a free localhost port, with one bucket.

Fixtures (import them into a test module): `s3_server` (one server per test module) and
`s3_storage` (the test process's settings switched to LABTRACK_STORAGE=s3 on it; `.env` is
what a worker subprocess needs to use the same bucket).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "labtrack-test", "labtrack-test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class S3Server:
    endpoint_url: str
    proc: subprocess.Popen
    log_path: Path

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def env(self, bucket: str) -> dict[str, str]:
        """The environment that points LabTrack (settings.py) at `bucket` on this server."""
        return {"LABTRACK_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": bucket,
                "AWS_S3_ENDPOINT_URL": self.endpoint_url, "AWS_S3_REGION_NAME": REGION,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def start_s3_server(log_dir: Path) -> S3Server:
    port = _free_port()
    log_path = log_dir / f"moto-{port}.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return S3Server(f"http://127.0.0.1:{port}", proc, log_path)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"moto_server did not listen on port {port} within 30 s")


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    yield server
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@dataclass
class S3Storage:
    server: S3Server
    bucket: str
    env: dict[str, str]

    def key(self, sha256: str) -> str:
        from labtrack.measurements.blobs import blob_path

        return blob_path(sha256)

    def get(self, sha256: str) -> bytes:
        return self.server.client().get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"].read()

    def put(self, sha256: str, data: bytes) -> None:
        self.server.client().put_object(Bucket=self.bucket, Key=self.key(sha256), Body=data)

    def delete(self, sha256: str) -> None:
        self.server.client().delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def keys(self) -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))


@pytest.fixture
def s3_storage(s3_server, settings):
    """This test's own empty bucket, and the settings' default storage on it."""
    from labtrack.storage_env import blob_storage_config

    bucket = f"labtrack-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    env = s3_server.env(bucket)
    kind, config = blob_storage_config(env)
    settings.LABTRACK_STORAGE = kind
    settings.STORAGES = {**settings.STORAGES, "default": config}
    return S3Storage(s3_server, bucket, env)
