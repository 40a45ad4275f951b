"""A measurement dated before its sample was prepared (or put to age) is refused, on the
upload page and the API, with the age it would have; a manager may confirm with a reason."""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_sample
from tests.labtrack.web.conftest import upload_file

PREPARED = datetime(2026, 5, 4, 10, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def fresh(members, batch):
    """A powder prepared after the synthetic NMR file's acquisition date (2023-11-14)."""
    return make_sample(members["chemist"], batch, code="NC8.3-P2", prepared_at=PREPARED)


@pytest.fixture
def nmr_zip(tmp_path) -> bytes:
    """A TopSpin 133Cs zip whose acqus says it was acquired on 2023-11-14."""
    from analysis.synthetic import nmr, topspin

    folder = topspin.write_topspin_1d(tmp_path / "cs133", nmr.cs133_spectrum("NC8.3", n_points=1024), expno=10)
    return topspin.zip_folder(folder, tmp_path / "cs133.zip").read_bytes()


def test_upload_page_refuses_a_file_dated_before_preparation(login, members, batch, fresh, nmr_zip):
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": fresh.pk, "technique": "nmr", "action": "save", "files": [upload_file("cs133.zip", nmr_zip)]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "dated 2023-11-14 22:13, before sample NC8.3-P2 was prepared (2026-05-04 10:00)" in text
    assert "its age would be -" in text and "a project manager can confirm it with a reason" in text
    assert not Measurement.objects.exists()


def test_upload_page_refuses_a_date_before_the_ageing_start(login, members, batch, saxs_csv_bytes):
    aged = make_sample(members["chemist"], batch, code="NC8.3-AGED", ageing_started_at=PREPARED)
    response = login(members["chemist"]).post(reverse("measurement_create", args=[batch.code]), {
        "sample": aged.pk, "technique": "saxs", "action": "save", "measured_at": "2026-05-01T09:00",
        "files": [upload_file("NC8.3_saxs.csv", saxs_csv_bytes)]})
    assert response.status_code == 400
    assert "before sample NC8.3-AGED was put to age" in response.content.decode()


def test_api_refuses_with_400_and_the_message(members, batch, fresh, nmr_zip):
    api = APIClient()
    api.force_authenticate(members["chemist"])
    response = api.post("/api/v1/measurements/", {"sample": fresh.code, "technique": "nmr",
                                                  "files": [SimpleUploadedFile("cs133.zip", nmr_zip)]},
                        format="multipart")
    assert response.status_code == 400
    assert "before sample NC8.3-P2 was prepared" in response.json()["errors"]["measured_at"][0]


def test_api_bad_date_is_a_400(members, batch, fresh, saxs_csv_bytes):
    api = APIClient()
    api.force_authenticate(members["chemist"])
    response = api.post("/api/v1/measurements/", {"sample": fresh.code, "technique": "saxs", "measured_at": "soon",
                                                  "files": [SimpleUploadedFile("c.csv", saxs_csv_bytes)]},
                        format="multipart")
    assert response.status_code == 400 and "ISO 8601" in response.json()["errors"]["measured_at"][0]


def test_manager_confirms_with_a_reason_and_it_is_kept(members, batch, fresh, nmr_zip,
                                                       django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(members["manager"])
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/v1/measurements/", {
            "sample": fresh.code, "technique": "nmr", "files": [SimpleUploadedFile("cs133.zip", nmr_zip)],
            "age_confirmation_reason": "reference curve of the parent ink, re-filed here"}, format="multipart")
    assert response.status_code == 201, response.content
    m = Measurement.objects.get()
    assert "confirmed by manager: reference curve of the parent ink" in m.notes
    assert m.history.first().history_change_reason == "reference curve of the parent ink, re-filed here"


def test_a_chemists_reason_is_not_enough(members, fresh, nmr_zip):
    import io

    from labtrack.analyses.pipeline import Upload, measurement_upload

    with pytest.raises(ValidationError, match="Only a project manager can confirm it"):
        measurement_upload(user=members["chemist"], sample=fresh, technique="nmr", request_analyses=False,
                           uploads=[Upload("cs133.zip", io.BytesIO(nmr_zip))], age_confirmation_reason="trust me")
    assert not Measurement.objects.exists()


def test_editing_the_date_to_before_preparation_is_refused(login, members, batch, fresh):
    m = Measurement.objects.create(sample=fresh, technique="saxs", measured_at=datetime(2026, 6, 1, tzinfo=dt_timezone.utc))
    response = login(members["chemist"]).post(reverse("measurement_edit", args=[m.pk]), {
        "sample": fresh.pk, "measured_at": "2026-05-01T10:00", "label": "x"})
    assert response.status_code == 200
    assert "before sample NC8.3-P2 was prepared" in response.content.decode()
    m.refresh_from_db()
    assert m.measured_at.month == 6
