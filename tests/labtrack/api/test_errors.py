"""The inputs that used to answer HTTP 500 answer 400 with the field named, and every
error has one body: {"detail": ..., "errors": {field: [messages]}}."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labtrack.measurements.models import Measurement
from tests.labtrack.api.conftest import saxs_bytes
from tests.labtrack.factories import make_batch, make_sample


@pytest.fixture
def sample(members, project):
    return make_sample(members["chemist"], make_batch(members["chemist"], project, code="NC8.3"))


def _upload(api, tmp_path, **fields):
    data = {"files": [SimpleUploadedFile("c.dat", saxs_bytes(tmp_path, "c"))], **fields}
    return api.post("/api/v1/measurements/", data, format="multipart")


def test_missing_technique_is_a_400_naming_it(members, sample, token_client, tmp_path):
    response = _upload(token_client(members["chemist"]), tmp_path, sample=sample.code)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["technique"] == ["This field is required."]
    assert body["detail"].startswith("technique:")
    assert not Measurement.objects.exists()


def test_unknown_technique_and_instrument_abc_are_400s(members, sample, token_client, tmp_path):
    api = token_client(members["chemist"])
    response = _upload(api, tmp_path, sample=sample.code, technique="raman", instrument="abc")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "not a valid choice" in errors["technique"][0]
    assert "Incorrect type" in errors["instrument"][0]
    response = _upload(api, tmp_path, sample=sample.code, technique="saxs", instrument="99999")
    assert response.status_code == 400 and "does not exist" in response.json()["errors"]["instrument"][0]


def test_instrument_abc_in_a_filter_is_a_400(members, sample, token_client):
    api = token_client(members["viewer"])
    response = api.get("/api/v1/measurements/?instrument=abc")
    assert response.status_code == 400
    assert "valid choice" in response.json()["errors"]["instrument"][0]
    for url, field in (("/api/v1/runs/?measurement=abc", "measurement"), ("/api/v1/batches/?project=[1]", "project"),
                       ("/api/v1/quantities/?age_min_days=old", "age_min_days"),
                       ("/api/v1/quantities/?age_max_days=1e400", "age_max_days"),
                       ("/api/v1/quantities/?measured_from=yesterday", "measured_from"),
                       ("/api/v1/quantities/?technique=raman", "technique"),
                       ("/api/v1/quantities/?review_state=rejected", "review_state"),
                       ("/api/v1/samples/?form=gas", "form"),
                       ("/api/v1/quantities/export/?format=pdf", "format")):
        response = api.get(url)
        assert response.status_code == 400, url
        assert field in response.json()["errors"], (url, response.json())


def test_project_id_as_a_list_is_a_400(members, project, token_client):
    api = token_client(members["chemist"])
    response = api.post("/api/v1/batches/", {"project_id": [project.pk], "code": "NC1.0"}, format="json")
    assert response.status_code == 400
    assert "Incorrect type" in response.json()["errors"]["project_id"][0]
    response = api.post("/api/v1/batches/", {"code": "NC1.0"}, format="json")
    assert response.json()["errors"]["project_id"] == ["This field is required."]


def test_unknown_sample_code_is_a_400_not_a_500(members, sample, token_client, tmp_path):
    response = _upload(token_client(members["chemist"]), tmp_path, sample="NOPE", technique="saxs")
    assert response.status_code == 400 and "No sample NOPE" in response.json()["errors"]["sample"][0]


def test_an_unreadable_file_names_the_file(members, sample, token_client):
    api = token_client(members["chemist"])
    response = api.post("/api/v1/measurements/", {"sample": sample.code, "technique": "saxs",
                                                  "files": [SimpleUploadedFile("junk.dat", b"\x00\x01 not a curve")]},
                        format="multipart")
    assert response.status_code == 400
    assert "junk.dat" in response.json()["detail"]


def test_service_errors_keep_the_shape(members, project, token_client):
    api = token_client(members["viewer"])
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC1.0"}, format="json")
    assert response.status_code == 403 and set(response.json()) == {"detail", "errors"}
    response = api.get("/api/v1/batches/NOPE/")
    assert response.status_code == 404 and response.json() == {"detail": "No batch NOPE in your projects.", "errors": {}}
    response = api.get("/api/v1/batches/?page=999")
    assert response.status_code == 404 and set(response.json()) == {"detail", "errors"}


def test_malformed_json_is_a_400(members, token_client):
    api = token_client(members["chemist"])
    response = api.generic("POST", "/api/v1/batches/", "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]


def test_dates_postgresql_cannot_store_are_400s(members, project, token_client):
    """Found by Schemathesis on PostgreSQL: an offset of -17:07 was a 500."""
    api = token_client(members["chemist"])
    response = api.get("/api/v1/batches/", {"synthesised_after": "2026-02-14T09:42:08-17:07"})
    assert response.status_code == 400 and "offset" in response.json()["errors"]["synthesised_after"][0]
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC1.0",
                                             "synthesised_at": "0001-01-01T00:00:00+01:00"}, format="json")
    assert response.status_code == 400 and "between 1900 and 2200" in response.json()["errors"]["synthesised_at"][0]
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC1.0",
                                             "synthesised_at": "2026-05-04T10:00:00+02:00"}, format="json")
    assert response.status_code == 201 and response.json()["synthesised_at"].startswith("2026-05-04T08:00:00")
