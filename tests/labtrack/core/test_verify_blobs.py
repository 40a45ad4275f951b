"""verify_blobs: every stored blob re-hashed against its SHA-256 name."""
from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labtrack.measurements.models import Measurement, RawFile, blob_path
from tests.labtrack.factories import make_batch, make_sample


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def store(media, members, project):
    chemist = members["chemist"]
    measurement = Measurement.objects.create(sample=make_sample(chemist, make_batch(chemist, project)), technique="pl")

    def add(data: bytes, name: str = "pl.csv", write: bool = True):
        sha = hashlib.sha256(data).hexdigest()
        path = media / blob_path(sha)
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        RawFile.objects.create(measurement=measurement, sha256=sha, original_name=name, size_bytes=len(data),
                               detected_format="pl-csv", data_kind="pl-spectrum", uploaded_by=chemist)
        return path

    return add


def _run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_blobs", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)


def test_intact_blobs_pass(store):
    store(b"wavelength,intensity\n500,1\n")
    store(b"other file", name="b.csv")
    code, out, err = _run()
    assert code == 0 and "2 blobs checked" in out and "0 missing, 0 corrupt" in out


def test_a_bit_flip_with_the_same_size_is_reported(store):
    path = store(b"wavelength,intensity\n500,1\n", name="NC8.3-PL.csv")
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    code, out, err = _run()
    assert code == 1
    assert "CORRUPT" in err and "NC8.3-PL.csv" in err and "1 corrupt" in out


def test_a_missing_blob_is_reported(store):
    store(b"never written", name="lost.csv", write=False)
    code, out, err = _run()
    assert code == 1 and "MISSING" in err and "lost.csv" in err


def test_shared_blob_is_hashed_once_and_stray_files_are_listed(store, media):
    store(b"same bytes", name="first.csv")
    store(b"same bytes", name="second.csv")
    stray = media / "blobs" / "00" / "00" / ("0" * 64)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    code, out, _ = _run()
    assert code == 0 and "1 blobs checked" in out and "1 unreferenced" in out


def test_media_root_option_checks_a_backup(store, media, tmp_path):
    store(b"in media only")
    code, out, err = _run("--media-root", str(tmp_path / "backup"))
    assert code == 1 and "MISSING" in err
