"""REST API: visibility by membership, uploads, review conflicts, cross-batch quantities."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from analysis.synthetic.saxs import write_saxs_curve
from labtrack.analyses.models import AnalysisRun, ReviewState
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import mark_accepted, make_batch, make_sample, make_succeeded_run


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def batch(members, project):
    return make_batch(members["chemist"], project, code="NC8.3")


def test_batches_of_other_projects_are_invisible(api, members, batch, other_project, make_user):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    api.force_authenticate(outsider)
    assert api.get("/api/v1/batches/").json()["results"] == []
    assert api.get("/api/v1/batches/NC8.3/").status_code == 404
    api.force_authenticate(members["viewer"])
    assert [b["code"] for b in api.get("/api/v1/batches/").json()["results"]] == ["NC8.3"]


def test_anonymous_is_refused(api, batch):
    assert api.get("/api/v1/batches/").status_code in (401, 403)


def test_create_batch_reports_duplicate_code(api, members, project, batch):
    api.force_authenticate(members["chemist"])
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC8.3"}, format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["code"][0]


def test_upload_through_api_creates_measurement_and_run(api, members, batch, tmp_path, django_capture_on_commit_callbacks):
    sample = make_sample(members["chemist"], batch, form="colloid_ink")
    data = write_saxs_curve(tmp_path / "c.dat", "NC8.3").read_bytes()
    api.force_authenticate(members["chemist"])
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/v1/measurements/", {
            "sample": sample.code, "technique": "saxs", "files": [SimpleUploadedFile("c.dat", data)]},
            format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["raw_files"][0]["detected_format"] == "saxs-text"
    assert AnalysisRun.objects.get(measurement_id=body["id"]).routine == "saxs.size_distribution"


def test_viewer_upload_is_forbidden_and_saves_nothing(api, members, batch, tmp_path):
    sample = make_sample(members["chemist"], batch, form="colloid_ink")
    data = write_saxs_curve(tmp_path / "c.dat", "NC8.3").read_bytes()
    api.force_authenticate(members["viewer"])
    response = api.post("/api/v1/measurements/", {
        "sample": sample.code, "technique": "saxs", "files": [SimpleUploadedFile("c.dat", data)]}, format="multipart")
    assert response.status_code == 403
    assert not Measurement.objects.exists()


def test_second_review_gets_409(api, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    api.force_authenticate(members["analyst"])
    assert api.post(f"/api/v1/runs/{run.pk}/review/", {"decision": "accept"}, format="json").status_code == 200
    api.force_authenticate(members["analyst2"])
    response = api.post(f"/api/v1/runs/{run.pk}/review/", {"decision": "reject", "reason": "x"}, format="json")
    assert response.status_code == 409
    assert "already accepted by analyst" in response.json()["detail"]


def test_quantities_query_across_batches(api, members, project):
    for code, value in (("NC12.8", 12.8), ("NC6.4", 6.4)):
        run = make_succeeded_run(make_batch(members["chemist"], project, code=code), members["chemist"], value=value)
        if code == "NC12.8":
            mark_accepted(run, members["analyst"])
    api.force_authenticate(members["viewer"])
    rows = api.get("/api/v1/quantities/?name=mean_diameter_nm&accepted=1").json()["results"]
    assert [(r["batch"], r["value"]) for r in rows] == [("NC12.8", 12.8)]


def test_instrument_calibration_from_accepted_profile(members, batch):
    from django.core.exceptions import ValidationError

    from labtrack.analyses.calibration import instrument_calibrate_from_run
    from labtrack.measurements.services import instrument_create

    d8 = instrument_create(name="D8", technique="xrd", calibration={"instrument_fwhm_deg": 0.06})
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, routine="xrd.instrument_profile", requested_by=members["chemist"],
        status="succeeded", result={"quantities": {k: {"value": v} for k, v in
                                                   {"caglioti_u": 0.004, "caglioti_v": -0.001, "caglioti_w": 0.002,
                                                    "instrument_eta": 0.31}.items()}})
    with pytest.raises(ValidationError, match="accepted"):
        instrument_calibrate_from_run(instrument=d8, run=run, user=members["manager"])
    mark_accepted(run, members["analyst"])
    run.refresh_from_db()
    d8 = instrument_calibrate_from_run(instrument=d8, run=run, user=members["manager"])
    assert d8.calibration["caglioti"] == {"U": 0.004, "V": -0.001, "W": 0.002}
    assert d8.calibration["instrument_eta"] == 0.31 and "instrument_fwhm_deg" not in d8.calibration
    assert d8.history.first().history_change_reason == f"calibrated from run #{run.pk}"
