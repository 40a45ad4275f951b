"""Uploads: checksums, content addressing, immutability, and refusals that save nothing."""
import io
import os

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analysis.synthetic.pl import write_pl_spectrum
from analysis.synthetic.saxs import write_saxs_curve
from labtrack.measurements.models import Measurement, RawFile
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.measurements.blobs import blob_full_path
from labtrack.measurements.services import raw_file_verify
from tests.labtrack.factories import make_batch, make_sample


@pytest.fixture
def sample(members, project):
    return make_sample(members["chemist"], make_batch(members["chemist"], project), form="colloid_ink")


@pytest.fixture
def saxs_bytes(tmp_path):
    return write_saxs_curve(tmp_path / "NC8.3.dat", "NC8.3").read_bytes()


def upload(user, sample, technique, name, data, **kwargs):
    return measurement_upload(user=user, sample=sample, technique=technique,
                              uploads=[Upload(name, io.BytesIO(data))], request_analyses=False, **kwargs)


def test_upload_stores_checksummed_immutable_blob(members, sample, saxs_bytes):
    import hashlib

    m = upload(members["chemist"], sample, "saxs", "NC8.3.dat", saxs_bytes)
    raw = m.raw_files.get()
    assert raw.sha256 == hashlib.sha256(saxs_bytes).hexdigest()
    assert raw.size_bytes == len(saxs_bytes) and raw.detected_format == "saxs-text"
    with open(blob_full_path(raw.sha256), "rb") as fh:
        assert fh.read() == saxs_bytes
    assert raw_file_verify(raw)
    raw.original_name = "renamed.dat"
    with pytest.raises(ValueError, match="immutable"):
        raw.save()
    with pytest.raises(ValueError, match="immutable"):
        raw.delete()


def test_same_file_twice_is_stored_once(members, sample, saxs_bytes):
    a = upload(members["chemist"], sample, "saxs", "a.dat", saxs_bytes).raw_files.get()
    b = upload(members["chemist"], sample, "saxs", "b.dat", saxs_bytes).raw_files.get()
    assert a.sha256 == b.sha256 and a.pk != b.pk
    folder = os.path.dirname(blob_full_path(a.sha256))
    assert os.listdir(folder).count(a.sha256) == 1


def test_empty_file_is_refused_and_nothing_saved(members, sample):
    with pytest.raises(ValidationError) as exc:
        upload(members["chemist"], sample, "saxs", "empty.dat", b"")
    assert exc.value.message_dict == {"empty.dat": ["empty.dat is empty."]}
    assert not Measurement.objects.exists() and not RawFile.objects.exists()


def test_unreadable_file_among_good_ones_saves_nothing(members, sample, saxs_bytes):
    uploads = [Upload("good.dat", io.BytesIO(saxs_bytes)), Upload("junk.dat", io.BytesIO(b"hello\nworld\n"))]
    with pytest.raises(ValidationError) as exc:
        measurement_upload(user=members["chemist"], sample=sample, technique="saxs", uploads=uploads,
                           request_analyses=False)
    assert list(exc.value.message_dict) == ["junk.dat"]
    assert "junk.dat" in exc.value.message_dict["junk.dat"][0]
    assert not Measurement.objects.exists()


def test_file_of_another_technique_is_refused(members, sample, tmp_path):
    data = write_pl_spectrum(tmp_path / "pl.csv", "NC8.3").read_bytes()
    with pytest.raises(ValidationError) as exc:
        upload(members["chemist"], sample, "saxs", "pl.csv", data)
    assert "not SAXS" in exc.value.message_dict["pl.csv"][0]
    assert not Measurement.objects.exists()


def test_oversized_upload_is_refused_while_streaming(members, sample, settings):
    settings.LABTRACK_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError) as exc:
        upload(members["chemist"], sample, "saxs", "big.dat", b"1 2\n" * 2000)
    assert "larger than" in exc.value.message_dict["big.dat"][0]
    assert not Measurement.objects.exists()


def test_viewer_cannot_upload(members, sample, saxs_bytes):
    with pytest.raises(PermissionDenied):
        upload(members["viewer"], sample, "saxs", "a.dat", saxs_bytes)


def test_age_at_measurement_is_derived(members, sample, saxs_bytes):
    from datetime import timedelta

    m = upload(members["chemist"], sample, "saxs", "a.dat", saxs_bytes,
               measured_at=sample.prepared_at + timedelta(days=30))
    assert m.sample_age_days == pytest.approx(30.0)


def test_upload_requests_default_run(members, sample, saxs_bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        m = measurement_upload(user=members["chemist"], sample=sample, technique="saxs",
                               uploads=[Upload("a.dat", io.BytesIO(saxs_bytes))])
    run = m.runs.get()
    assert run.routine == "saxs.size_distribution" and run.is_automatic
    assert run.input_files[0]["sha256"] == m.raw_files.get().sha256
    assert len(callbacks) == 1
