"""Raw files on an S3-protocol bucket (a real moto server started here) and on the
filesystem default: storing by checksum, streaming into the engine, downloads, verify,
backup and restore through the storage API. No PostgreSQL or worker needed; the two-worker
test is tests/integration/test_object_storage.py."""
from __future__ import annotations

import hashlib
import io
import os
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.synthetic.pl import write_pl_spectrum
from labtrack import engine
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.measurements import blob_audit
from labtrack.measurements.blobs import blob_input, blob_path, blob_verify
from labtrack.storage_env import blob_storage_config
from tests.labtrack.factories import make_batch, make_sample
from tests.s3_server import s3_server, s3_storage  # noqa: F401  (fixtures)


@pytest.fixture
def sample(members, project):
    return make_sample(members["chemist"], make_batch(members["chemist"], project))


@pytest.fixture
def pl_bytes(tmp_path) -> bytes:
    return write_pl_spectrum(tmp_path / "NC8.3_pl.csv", "NC8.3").read_bytes()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _upload(user, sample, data: bytes, name: str = "NC8.3_pl.csv"):
    m = measurement_upload(user=user, sample=sample, technique="pl", uploads=[Upload(name, io.BytesIO(data))],
                           request_analyses=False)
    return m.raw_files.get()


def _command(name: str, *args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)


def test_upload_lands_in_the_bucket_by_checksum_and_not_on_disk(members, sample, pl_bytes, s3_storage, media):
    raw = _upload(members["chemist"], sample, pl_bytes)
    again = _upload(members["chemist"], sample, pl_bytes, name="same-again.csv")
    assert raw.sha256 == again.sha256 == hashlib.sha256(pl_bytes).hexdigest()
    assert s3_storage.keys() == [blob_path(raw.sha256)]  # identical uploads share one object
    assert s3_storage.get(raw.sha256) == pl_bytes
    assert not media.exists()  # nothing under MEDIA_ROOT
    assert blob_verify(raw.sha256)


def test_engine_streams_the_blob_from_the_bucket_into_its_temp_folder(members, sample, pl_bytes, s3_storage,
                                                                      tmp_path, monkeypatch):
    raw = _upload(members["chemist"], sample, pl_bytes)
    source = blob_input(raw.sha256)
    assert callable(source)  # no local path on object storage: an opener
    run_tmp = tmp_path / "worker-tmp"
    run_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(run_tmp))
    monkeypatch.setattr(engine, "COPY_CHUNK_BYTES", 1000)  # several chunks even for a small file
    with engine.named_inputs([(source, raw.original_name)]) as (path,):
        assert path.startswith(str(run_tmp)) and path.endswith("NC8.3_pl.csv")
        assert not os.path.islink(path) and Path(path).read_bytes() == pl_bytes
    assert list(run_tmp.iterdir()) == []  # the run's copy is removed
    outcome = engine.execute("pl.peak", [(source, raw.original_name)], {})
    peak = {q["name"]: q["value"] for q in outcome.quantities}["peak_wavelength_nm"]
    assert 480 < peak < 530
    assert outcome.result["inputs"][0]["sha256"] == raw.sha256


def test_a_blob_missing_from_the_bucket_fails_the_run_readably(members, sample, pl_bytes, s3_storage):
    raw = _upload(members["chemist"], sample, pl_bytes)
    s3_storage.delete(raw.sha256)
    with pytest.raises(engine.UserInputError, match="NC8.3_pl.csv: is missing from LabTrack's file storage"):
        engine.execute("pl.peak", [(blob_input(raw.sha256), raw.original_name)], {})


def test_download_streams_the_exact_bytes_from_the_bucket(client, members, sample, pl_bytes, s3_storage):
    raw = _upload(members["chemist"], sample, pl_bytes)
    client.force_login(members["viewer"])
    response = client.get(f"/files/{raw.pk}/download/")
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == raw.sha256 == response["X-Checksum-SHA256"]
    assert response["Content-Length"] == str(len(pl_bytes))
    assert 'filename="NC8.3_pl.csv"' in response["Content-Disposition"]
    s3_storage.delete(raw.sha256)
    assert client.get(f"/files/{raw.pk}/download/").status_code == 404


def test_verify_raw_files_on_s3_detects_corrupt_missing_and_unreferenced(members, sample, pl_bytes, s3_storage):
    good = _upload(members["chemist"], sample, pl_bytes)
    rotted = _upload(members["chemist"], sample, pl_bytes + b"500,1\n", name="rotted.csv")
    lost = _upload(members["chemist"], sample, pl_bytes + b"501,1\n", name="lost.csv")
    code, out, err = _command("verify_raw_files")
    assert code == 0 and "3 blobs checked" in out and "0 missing, 0 corrupt, 0 unreferenced" in out
    assert s3_storage.bucket in out

    data = bytearray(s3_storage.get(rotted.sha256))
    data[10] ^= 0x01  # one flipped bit, same size
    s3_storage.put(rotted.sha256, bytes(data))
    s3_storage.delete(lost.sha256)
    stray = "0" * 64
    s3_storage.put(stray, b"left by an interrupted upload")
    code, out, err = _command("verify_raw_files")
    assert code == 1
    assert f"CORRUPT s3://{s3_storage.bucket}/{blob_path(rotted.sha256)}" in err and "rotted.csv" in err
    assert f"MISSING s3://{s3_storage.bucket}/{blob_path(lost.sha256)}" in err and "lost.csv" in err
    assert "1 missing, 1 corrupt, 1 unreferenced" in out and stray in out
    assert good.original_name not in err
    assert _command("verify_blobs")[0] == 1  # one command, two names


def test_backup_and_restore_repair_the_bucket_by_checksum(members, sample, pl_bytes, s3_storage, tmp_path):
    raws = [_upload(members["chemist"], sample, pl_bytes + f"{600 + i},1\n".encode(), name=f"f{i}.csv")
            for i in range(3)]
    backup = tmp_path / "backup" / "media"
    code, out, _ = _command("backup_blobs", str(backup))
    assert code == 0 and "3 blobs in the storage: 3 copied" in out
    for raw in raws:
        assert hashlib.sha256((backup / blob_path(raw.sha256)).read_bytes()).hexdigest() == raw.sha256
    assert "0 copied" in _command("backup_blobs", str(backup))[1]  # blobs never change: nothing to redo

    # A live object rots: the next backup refuses to copy it over the good backup copy.
    data = bytearray(s3_storage.get(raws[0].sha256))
    data[0] ^= 0x01
    s3_storage.put(raws[0].sha256, bytes(data))
    backup_copy = backup / blob_path(raws[0].sha256)
    backup_copy.chmod(0o644)
    backup_copy.unlink()  # (so the backup would take it if it did not check)
    code, _, err = _command("backup_blobs", str(backup))
    assert code == 1 and "CORRUPT in the storage, not backed up" in err and not backup_copy.exists()

    code, out, _ = _command("restore_blobs", str(tmp_path / "backup" / "media"))
    assert code == 1 and "LOST" in out  # rotted live, and its backup copy removed above

    # With a good backup copy again: repaired, a deleted object copied back, then verified.
    backup_copy.parent.mkdir(parents=True, exist_ok=True)
    backup_copy.write_bytes(pl_bytes + b"600,1\n")
    s3_storage.delete(raws[1].sha256)
    code, out, err = _command("restore_blobs", str(tmp_path / "backup" / "media"))
    assert code == 0, err
    assert f"MISMATCH repaired from the backup: {blob_path(raws[0].sha256)}" in out
    assert "3 blobs checked: 1 copied from the backup, 1 corrupt ones repaired, 0 lost" in out
    assert "0 missing, 0 corrupt" in out
    for raw in raws:
        assert hashlib.sha256(s3_storage.get(raw.sha256)).hexdigest() == raw.sha256


def test_backup_and_restore_work_the_same_on_the_filesystem(members, sample, pl_bytes, media, tmp_path):
    raw = _upload(members["chemist"], sample, pl_bytes)
    live = media / blob_path(raw.sha256)
    assert live.read_bytes() == pl_bytes and stat.S_IMODE(live.stat().st_mode) == 0o444  # written once, read-only
    assert list(live.parent.glob("*.partial")) == []
    backup = tmp_path / "backup"
    assert _command("backup_blobs", str(backup))[0] == 0
    live.chmod(0o644)
    data = bytearray(live.read_bytes())
    data[0] ^= 0x01
    live.write_bytes(bytes(data))
    assert _command("verify_raw_files")[0] == 1
    code, out, err = _command("restore_blobs", str(backup))
    assert code == 0, err
    assert "1 corrupt ones repaired" in out and live.read_bytes() == pl_bytes


def test_folder_verify_checks_a_backup_with_the_same_command(members, sample, pl_bytes, s3_storage, tmp_path):
    raw = _upload(members["chemist"], sample, pl_bytes)
    code, _, err = _command("verify_raw_files", "--media-root", str(tmp_path / "empty"))
    assert code == 1 and "MISSING" in err
    blob_audit.backup(str(tmp_path / "b"))
    assert _command("verify_raw_files", "--media-root", str(tmp_path / "b"))[0] == 0
    assert (tmp_path / "b" / blob_path(raw.sha256)).exists()


def test_storage_is_chosen_by_the_environment():
    assert blob_storage_config({}) == ("filesystem", {"BACKEND": "labtrack.measurements.storage.BlobFileSystemStorage"})
    kind, config = blob_storage_config({"LABTRACK_STORAGE": "S3", "AWS_STORAGE_BUCKET_NAME": "lab-raw",
                                        "AWS_S3_ENDPOINT_URL": "http://minio:9000"})
    assert kind == "s3" and config["OPTIONS"]["bucket_name"] == "lab-raw"
    assert config["OPTIONS"]["addressing_style"] == "path"
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        blob_storage_config({"LABTRACK_STORAGE": "s3"})
    with pytest.raises(ImproperlyConfigured, match="'filesystem'.*'s3'"):
        blob_storage_config({"LABTRACK_STORAGE": "nfs"})


def test_a_key_prefix_inside_the_bucket_is_honoured(members, sample, pl_bytes, s3_storage, settings):
    config = {**settings.STORAGES["default"], "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": "lab1"}}
    settings.STORAGES = {**settings.STORAGES, "default": config}
    raw = _upload(members["chemist"], sample, pl_bytes)
    assert s3_storage.keys() == [f"lab1/{blob_path(raw.sha256)}"]
    code, out, err = _command("verify_raw_files")
    assert code == 0 and "1 blobs checked" in out and "0 unreferenced" in out, err


def test_streaming_a_large_blob_holds_only_chunks_in_memory(members, sample, s3_storage, client):
    """24 MiB through hashing, the engine's copy and a download: Python's peak allocation
    stays a few MiB (chunks), not the file's size."""
    import tracemalloc

    from labtrack.measurements.blobs import blob_sha256
    from labtrack.measurements.models import Measurement, RawFile

    size = 24 * 1024 * 1024
    data = os.urandom(1024 * 1024) * 24
    sha = hashlib.sha256(data).hexdigest()
    s3_storage.put(sha, data)
    del data
    from labtrack.measurements.blobs import blob_exists

    assert blob_exists(sha)  # (the S3 client and its service model are loaded once, before measuring)

    def peak_mib(action) -> float:
        tracemalloc.start()
        try:
            action()
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    assert peak_mib(lambda: blob_sha256(sha)) < 6

    def materialise():
        with engine.named_inputs([(blob_input(sha), "big.tif")]) as (path,):
            assert os.path.getsize(path) == size

    assert peak_mib(materialise) < 6

    measurement = Measurement.objects.create(sample=sample, technique="tem")
    raw = RawFile.objects.create(measurement=measurement, sha256=sha, original_name="big.tif", size_bytes=size,
                                 detected_format="tiff", data_kind="tem-image", uploaded_by=members["chemist"])
    client.force_login(members["viewer"])

    def download():
        response = client.get(f"/files/{raw.pk}/download/")
        digest, total = hashlib.sha256(), 0
        for chunk in response.streaming_content:
            digest.update(chunk)
            total += len(chunk)
        assert total == size and digest.hexdigest() == sha

    download()  # (URLconf, views, session and middleware loaded once, before measuring)
    assert peak_mib(download) < 6


def test_the_periodic_check_flags_a_bit_flip_in_the_bucket(members, sample, pl_bytes, s3_storage, settings):
    from django.core import mail

    from labtrack.measurements.integrity import blob_check_run

    settings.ADMINS = [("Ops", "ops@lab.example")]
    _upload(members["chemist"], sample, pl_bytes)
    rotted = _upload(members["chemist"], sample, pl_bytes + b"500,1\n", name="rotted.csv")
    assert blob_check_run().ok and mail.outbox == []
    data = bytearray(s3_storage.get(rotted.sha256))
    data[10] ^= 0x01
    s3_storage.put(rotted.sha256, bytes(data))
    check = blob_check_run()
    assert (check.blobs_checked, check.corrupt_count) == (2, 1) and s3_storage.bucket in check.storage_location
    assert check.mismatches.get().location.startswith("s3://")
    assert len(mail.outbox) == 1 and "rotted.csv" in mail.outbox[0].body and "NC8.3" in mail.outbox[0].body


def test_api_download_streams_the_exact_bytes_from_the_bucket(members, sample, pl_bytes, s3_storage):
    from rest_framework.test import APIClient

    raw = _upload(members["chemist"], sample, pl_bytes)
    api = APIClient()
    api.force_authenticate(members["viewer"])
    response = api.get(f"/api/v1/files/{raw.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == raw.sha256 == response["X-Checksum-SHA256"]
    s3_storage.delete(raw.sha256)
    missing = api.get(f"/api/v1/files/{raw.pk}/download/")
    assert missing.status_code == 404 and "missing" in missing.json()["detail"]


def test_eln_export_and_attachment_read_raw_files_from_the_bucket(members, sample, pl_bytes, s3_storage, tmp_path):
    """A batch exported as .eln on object storage carries the raw file's exact bytes (the
    blob has no local path there, so it is streamed from the bucket)."""
    import zipfile

    from labtrack.exchange.eln_export import batch_export_eln

    raw = _upload(members["chemist"], sample, pl_bytes)
    path = tmp_path / "bundle.eln"
    with open(path, "wb") as out:
        batch_export_eln(user=members["viewer"], batch=sample.batch, out=out)
    with zipfile.ZipFile(path) as archive:
        [member] = [n for n in archive.namelist() if n.endswith("NC8.3_pl.csv")]
        assert hashlib.sha256(archive.read(member)).hexdigest() == raw.sha256
