"""Oversized bodies, long names and long extensions: a clear message, nothing saved,
and bytes past the limit never read into memory or onto disk."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labtrack.analyses.models import AnalysisRun
from labtrack.measurements.models import Measurement, RawFile
from tests.labtrack.web.conftest import upload_file


def _counts():
    return Measurement.objects.count(), RawFile.objects.count(), AnalysisRun.objects.count()


@pytest.fixture
def small_limit(settings):
    settings.LABTRACK_MAX_UPLOAD_BYTES = 64 * 1024
    settings.LABTRACK_MAX_FILES_PER_UPLOAD = 2
    return settings.LABTRACK_MAX_UPLOAD_BYTES


def test_a_file_over_the_limit_stops_the_upload_with_its_name(login, members, batch, sample, small_limit):
    before = _counts()
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "pl", "files": [upload_file("huge_pl.csv", b"1,2\n" * 40_000)]})
    assert response.status_code == 400
    assert "huge_pl.csv is larger than the 64 KiB upload limit; nothing was saved." in response.content.decode()
    assert _counts() == before


def test_a_body_larger_than_any_accepted_upload_is_refused_before_it_is_read(members, batch, sample, small_limit):
    from labtrack.measurements.uploads import BoundedUploadHandler

    class Exploding:
        def read(self, *args):  # the body must not be read at all
            raise AssertionError("the handler read the body")

    handler = BoundedUploadHandler(request=type("R", (), {})())
    result = handler.handle_raw_input(Exploding(), {}, 10 * 2**30, b"x")
    assert result is not None and not result[1]
    assert "more than 2 files of at most 64 KiB" in handler.request.labtrack_upload_refused


def test_api_upload_over_the_limit_answers_413(members, batch, sample, small_limit):
    api = APIClient()
    api.force_authenticate(members["chemist"])
    response = api.post("/api/v1/measurements/", {
        "sample": sample.code, "technique": "pl", "files": [upload_file("huge_pl.csv", b"1,2\n" * 40_000)]},
        format="multipart")
    assert response.status_code == 413
    assert "huge_pl.csv is larger than" in response.json()["detail"]
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize("name", ["x" * 240 + ".csv", "é" * 200 + ".csv"])
def test_long_file_names_are_kept_as_uploaded(login, members, batch, sample, saxs_csv_bytes, name):
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs", "files": [upload_file(name, saxs_csv_bytes)]})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RawFile.objects.get().original_name == name


def test_a_file_name_over_255_characters_is_shortened_by_the_page_and_refused_by_the_service(
        login, members, batch, sample, saxs_csv_bytes):
    import io

    from django.core.exceptions import ValidationError

    from labtrack.analyses.pipeline import Upload, measurement_upload

    name = "y" * 300 + ".csv"
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "saxs", "files": [upload_file(name, saxs_csv_bytes)]})
    assert response.status_code == 302  # Django keeps 255 characters, extension included
    stored = RawFile.objects.get().original_name
    assert len(stored) == 255 and stored.endswith(".csv")
    with pytest.raises(ValidationError, match="304 characters long; rename the file to at most 255"):
        measurement_upload(user=members["chemist"], sample=sample, technique="saxs",
                           uploads=[Upload(name, io.BytesIO(saxs_csv_bytes))])
    assert RawFile.objects.count() == 1


def test_a_long_extension_on_a_big_file_is_an_error_message_not_a_crash(login, members, batch, sample):
    data = b"0" * (6 * 2**20)  # past FILE_UPLOAD_MAX_MEMORY_SIZE: Django spools it to disk
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "pl", "files": [upload_file("data." + "e" * 250, data)]})
    assert response.status_code == 400
    assert _counts() == (0, 0, 0)


def test_a_brml_with_text_where_a_column_number_belongs_is_read_or_refused_never_a_500(
        login, members, batch, sample, tmp_path):
    import io
    import zipfile

    from analysis.synthetic.xrd import powder_pattern, write_brml

    path = write_brml(str(tmp_path / "ok.brml"), powder_pattern("NC8.3", size_nm=8.3))
    with zipfile.ZipFile(path) as src:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if b'Start="' in data:
                    data = data.replace(b'Start="0"', b'Start="abc"').replace(b'Start="2"', b'Start="x"')
                dst.writestr(item, data)
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "xrd", "files": [upload_file("broken.brml", out.getvalue())]})
    assert response.status_code in (302, 400)


def test_a_reader_crash_is_a_message_naming_the_file(members, sample, monkeypatch):
    import io

    from django.core.exceptions import ValidationError

    from analysis import io as readers
    from labtrack.analyses.pipeline import Upload, measurement_upload

    def broken(path, **options):
        raise IndexError("list index out of range")

    monkeypatch.setattr(readers, "read", broken)
    with pytest.raises(ValidationError) as exc:
        measurement_upload(user=members["chemist"], sample=sample, technique="pl",
                           uploads=[Upload("odd.csv", io.BytesIO(b"1,2\n3,4\n"))])
    assert "could not be read: part of the file is malformed (IndexError" in exc.value.message_dict["odd.csv"][0]
    assert Measurement.objects.count() == 0
