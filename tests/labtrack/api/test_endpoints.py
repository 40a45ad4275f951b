"""Each API endpoint does its job through the services and selectors the pages use."""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.measurements.services import instrument_create
from labtrack.samples.models import Batch, Sample, SynthesisProtocol
from tests.labtrack.api.conftest import build_lab


@pytest.fixture
def lab(members, project, tmp_path):
    return build_lab(project, members["chemist"], members["analyst"], "NC", tmp_path, formula_note='=HYPERLINK("x")')


def test_projects_list_with_role(members, project, token_client):
    rows = token_client(members["analyst"]).get("/api/v1/projects/").json()["results"]
    assert rows == [{"id": project.pk, "name": project.name, "description": "", "created_at": rows[0]["created_at"],
                     "role": "analyst"}]


def test_protocols_and_instruments(members, token_client):
    SynthesisProtocol.objects.create(name="Hot injection", version="2")
    d8 = instrument_create(name="D8", technique="xrd")
    instrument_create(name="Avance", technique="nmr")
    api = token_client(members["viewer"])
    assert [p["name"] for p in api.get("/api/v1/protocols/?name=hot").json()["results"]] == ["Hot injection"]
    assert [i["id"] for i in api.get("/api/v1/instruments/?technique=xrd").json()["results"]] == [d8.pk]
    assert api.get(f"/api/v1/instruments/{d8.pk}/").json()["name"] == "D8"


def test_batch_create_patch_with_reason_after_review(members, project, token_client, lab):
    api = token_client(members["chemist"])
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC9.9", "opa_concentration_molar": 0.2},
                        format="json")
    assert response.status_code == 201 and response.json()["project"] == project.name
    response = api.patch("/api/v1/batches/nc9.9/", {"notes": "re-washed"}, format="json")
    assert response.status_code == 200 and Batch.objects.get(code="NC9.9").notes == "re-washed"
    # NC8.3 has an accepted result: a change needs a reason
    response = api.patch("/api/v1/batches/NC8.3/", {"temperature_c": 25}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api.patch("/api/v1/batches/NC8.3/", {"temperature_c": 25, "reason": "typo in the log"}, format="json")
    assert response.status_code == 200 and response.json()["temperature_c"] == 25
    response = api.patch("/api/v1/batches/NC9.9/", {"opa_concentration_molar": -1}, format="json")
    assert response.status_code == 400 and "opa_concentration_molar" in response.json()["errors"]
    assert api.put("/api/v1/batches/NC9.9/", {}, format="json").status_code == 405
    assert [b["code"] for b in api.get("/api/v1/batches/?code=nc9.9").json()["results"]] == ["NC9.9"]


def test_sample_create_with_parent_and_patch(members, token_client, lab):
    api = token_client(members["chemist"])
    response = api.post("/api/v1/samples/", {"batch": "NC8.3", "code": "NC8.3-F", "form": "film", "parent": "NC8.3-P"},
                        format="json")
    assert response.status_code == 201, response.json()
    assert Sample.objects.get(code="NC8.3-F").parent.code == "NC8.3-P"
    sample_id = response.json()["id"]
    response = api.patch(f"/api/v1/samples/{sample_id}/", {"mass_mg": 3.5, "reason": "weighed again"}, format="json")
    assert response.status_code == 200 and response.json()["mass_mg"] == 3.5
    Sample.objects.filter(code="NC8.3-AGED").update(ageing_started_at=datetime(2024, 1, 1, tzinfo=dt_timezone.utc))
    assert {s["code"] for s in api.get("/api/v1/samples/?batch=NC8.3&aged=false").json()["results"]} == {
        "NC8.3-P", "NC8.3-F"}
    assert [s["code"] for s in api.get("/api/v1/samples/?aged=true").json()["results"]] == ["NC8.3-AGED"]


def test_topspin_zip_upload_queues_the_nmr_run(members, project, token_client, tmp_path,
                                               django_capture_on_commit_callbacks):
    from analysis.synthetic import nmr, topspin
    from tests.labtrack.factories import make_batch, make_sample

    sample = make_sample(members["chemist"], make_batch(members["chemist"], project, code="NC6.4"))
    folder = topspin.write_topspin_1d(tmp_path / "cs133", nmr.cs133_spectrum("NC6.4", seed=1))
    data = topspin.zip_folder(folder, tmp_path / "NC6.4_cs133.zip").read_bytes()
    api = token_client(members["chemist"])
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/v1/measurements/", {
            "sample": "nc6.4-p", "technique": "nmr", "label": "133Cs one-pulse",
            "files": [SimpleUploadedFile("NC6.4_cs133.zip", data)]}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["raw_files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["batch"] == "NC6.4" and body["label"] == "133Cs one-pulse"
    runs = api.get(f"/api/v1/runs/?measurement={body['id']}").json()["results"]
    assert [(r["routine"], r["status"], r["is_finished"]) for r in runs] == [("nmr.deconvolve", "queued", False)]


def test_files_list_and_download_exact_bytes(members, token_client, lab):
    api = token_client(members["viewer"], scope="read")
    files = api.get("/api/v1/files/").json()["results"]
    assert len(files) == 1
    response = api.get(files[0]["download_url"])
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == files[0]["sha256"] == response["X-Checksum-SHA256"]
    assert files[0]["original_name"] in response["Content-Disposition"]
    assert api.get(files[0]["download_url"], HTTP_ACCEPT="application/octet-stream").status_code == 200


def test_runs_analyse_review_retract_and_refit(members, token_client, lab, django_capture_on_commit_callbacks):
    chemist, analyst = token_client(members["chemist"]), token_client(members["analyst"])
    measurement = next(iter(lab.ids["measurements"]))
    with django_capture_on_commit_callbacks(execute=False):
        response = chemist.post(f"/api/v1/measurements/{measurement}/analyse/",
                                {"routine": "saxs.size_distribution", "parameters": {"n_repetitions": 4}}, format="json")
    assert response.status_code == 201, response.json()
    assert chemist.post(f"/api/v1/measurements/{measurement}/analyse/", {"routine": "nope"},
                        format="json").json()["errors"]["routine"]
    assert "parameters" in chemist.post(f"/api/v1/measurements/{measurement}/analyse/",
                                        {"routine": "saxs.size_distribution", "parameters": [1]},
                                        format="json").json()["errors"]
    pending = AnalysisRun.objects.get(measurement=None, project=lab.project)
    # the requester may not review; a rejection needs a reason; an analyst rejects
    assert chemist.post(f"/api/v1/runs/{pending.pk}/review/", {"decision": "accept"}, format="json").status_code == 403
    response = analyst.post(f"/api/v1/runs/{pending.pk}/review/", {"decision": "reject"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    assert analyst.post(f"/api/v1/runs/{pending.pk}/review/", {"decision": "maybe"}, format="json").json()[
        "errors"]["decision"]
    response = analyst.post(f"/api/v1/runs/{pending.pk}/review/", {"decision": "reject", "reason": "bad q range"},
                            format="json")
    assert response.status_code == 200 and response.json()["review_state"] == "rejected"
    accepted = AnalysisRun.objects.get(measurement_id=measurement, review_state=ReviewState.ACCEPTED)
    response = analyst.post(f"/api/v1/runs/{accepted.pk}/review/", {"decision": "retract", "reason": "wrong file"},
                            format="json")
    assert response.status_code == 200 and response.json()["review_state"] == "pending"
    with django_capture_on_commit_callbacks(execute=False):
        response = chemist.post(f"/api/v1/runs/{accepted.pk}/refit/", {"parameters": {"n_repetitions": 3}}, format="json")
    assert response.status_code == 201 and response.json()["supersedes"] == accepted.pk
    assert response.json()["parameters"]["n_repetitions"] == 3
    rows = chemist.get("/api/v1/runs/?review_state=rejected").json()["results"]
    assert [r["id"] for r in rows] == [pending.pk]
    assert chemist.get("/api/v1/runs/?of_record=true").json()["count"] == 0


def _fit(project, batch, measurement, user, value, **fields):
    run = AnalysisRun.objects.create(project=project, batch=batch, measurement=measurement, routine=fields.pop(
        "routine", "saxs.size_distribution"), requested_by=user, status=RunStatus.SUCCEEDED, result={}, **fields)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.1, unit="nm")
    return run


def test_quantities_filter_by_age_review_state_and_date(members, project, token_client, lab):
    from labtrack.measurements.models import Measurement
    from tests.labtrack.factories import mark_accepted

    batch = Batch.objects.get(code="NC8.3")
    aged = Sample.objects.get(code="NC8.3-AGED")
    Sample.objects.filter(pk=aged.pk).update(ageing_started_at=datetime(2024, 1, 1, tzinfo=dt_timezone.utc))
    m = Measurement.objects.create(sample=aged, technique="saxs",
                                   measured_at=datetime(2024, 1, 1, tzinfo=dt_timezone.utc) + timedelta(days=180))
    mark_accepted(_fit(project, batch, m, members["chemist"], 7.9), members["analyst"])
    api = token_client(members["viewer"])

    def values(**params):
        rows = api.get("/api/v1/quantities/", {"name": "mean_diameter_nm", **params}).json()["results"]
        return sorted(r["value"] for r in rows)

    assert values() == [7.9, 8.3]
    assert values(age_min_days=170, age_max_days=190) == [7.9]
    assert values(age_min_days=190) == [8.3]
    assert values(measured_to="2024-12-31T00:00:00Z") == [7.9]
    assert values(accepted="false") == [7.9, 8.3, 8.9]
    assert values(accepted="false", review_state="pending") == [8.9]
    assert values(sample="nc8.3-aged", technique="saxs") == [7.9]
    row = api.get("/api/v1/quantities/", {"sample": "NC8.3-AGED", "name": "mean_diameter_nm"}).json()["results"][0]
    assert round(row["sample_age_days"]) == 180 and row["of_record"] is True and row["measurement"] == m.pk


def test_studies_list_and_detail(members, token_client, lab):
    api = token_client(members["viewer"])
    rows = api.get("/api/v1/studies/").json()["results"]
    assert [r["name"] for r in rows] == ["NC ambient ageing"] and rows[0]["samples"] == ["NC8.3-AGED"]
    detail = api.get(f"/api/v1/studies/{rows[0]['id']}/").json()
    assert [p["label"] for p in detail["pull_points"]] == ["1 month"] and detail["conditions"]


def test_export_long_and_wide_csv_and_xlsx_are_formula_safe(members, token_client, lab):
    from openpyxl import load_workbook

    api = token_client(members["viewer"])
    response = api.get("/api/v1/quantities/export/", {"format": "csv", "shape": "long", "accepted": "false"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {(r["name"], r["value"], r["of_record"]) for r in rows} == {
        ("mean_diameter_nm", "8.3", "True"), ("pdi", "0.08", "True"), ("mean_diameter_nm", "8.9", "False"),
        ("pdi", "0.08", "False")}
    assert {r["assignment"] for r in rows if r["name"] == "mean_diameter_nm"} == {"'=HYPERLINK(\"x\")"}

    response = api.get("/api/v1/quantities/export/", {"format": "csv", "shape": "wide"})
    wide = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, data = wide[0], wide[1:]
    assert header[:6] == ["batch", "sample", "measurement", "technique", "measured_at", "sample_age_days"]
    assert "saxs.size_distribution: mean_diameter_nm (nm)" in header and "saxs.size_distribution: pdi" in header
    assert len(data) == 1 and data[0][0] == "NC8.3" and data[0][1] == "NC8.3-P"
    assert data[0][header.index("saxs.size_distribution: mean_diameter_nm (nm)")] == "8.3"
    assert data[0][header.index("saxs.size_distribution: mean_diameter_nm (nm) stderr")] == "0.1"

    response = api.get("/api/v1/quantities/export/", {"format": "xlsx", "shape": "long", "accepted": "false"})
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"], "a formula cell in the export"
    assert "'=HYPERLINK(\"x\")" in [c.value for c in cells]
    assert api.get("/api/v1/quantities/export/", {"shape": "tall"}).json()["errors"]["shape"]


def test_trends_and_results_pages_link_to_the_exports(client, members, lab):
    client.force_login(members["viewer"])
    page = client.get("/trends/?quantity=mean_diameter_nm||saxs.size_distribution&accepted=1").content.decode()
    assert "/api/v1/quantities/export/?name=mean_diameter_nm&amp;routine=saxs.size_distribution&amp;accepted=true" in page
    assert "format=xlsx&amp;shape=wide" in page
    page = client.get("/batches/NC8.3/").content.decode()
    assert "/api/v1/quantities/export/?batch=NC8.3&amp;format=xlsx" in page


def test_a_runs_quantities_come_in_natural_component_order(members, token_client, lab):
    run = AnalysisRun.objects.get(pk=min(lab.ids["runs"]))
    Quantity.objects.filter(run=run).delete()
    for label in ("p10", "p2", "", "p1"):
        Quantity.objects.create(run=run, name="position_2theta_deg", component_label=label, value=20.0)
    body = token_client(members["viewer"]).get(f"/api/v1/runs/{run.pk}/").json()
    assert [q["component_label"] for q in body["quantities"]] == ["", "p1", "p2", "p10"]
