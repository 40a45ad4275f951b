"""Batch list (search, filters, sorting, CSV), batch page, new/edit batch and sample."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from labtrack.analyses.review import run_review
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.samples.models import Batch, Sample
from tests.labtrack.factories import make_batch, make_sample, make_succeeded_run


def _codes(response) -> list[str]:
    batches = response.context["batches"]
    return [b.code for b in batches]


def test_search_matches_code_and_notes(login, members, project, batch):
    make_batch(members["chemist"], project, code="NC9.1", notes="aged in air")
    client = login(members["viewer"])
    assert _codes(client.get(reverse("batch_list"), {"q": "9.1"})) == ["NC9.1"]
    assert _codes(client.get(reverse("batch_list"), {"q": "green"})) == ["NC8.3"]


def test_filters_by_opa_duration_status_and_date(login, members, project, batch):
    old = timezone.now() - timedelta(days=40)
    make_batch(members["chemist"], project, code="NC-HI", opa_concentration_molar=0.2, reaction_duration_s=300,
               status="failed", synthesised_at=old)
    client = login(members["viewer"])
    url = reverse("batch_list")
    assert _codes(client.get(url, {"opa_min": "0.1"})) == ["NC-HI"]
    assert _codes(client.get(url, {"duration_max": "60"})) == ["NC8.3"]
    assert _codes(client.get(url, {"status": "failed"})) == ["NC-HI"]
    assert _codes(client.get(url, {"date_to": (timezone.now() - timedelta(days=30)).date().isoformat()})) == ["NC-HI"]


def test_filters_by_technique_and_review_state(login, members, project, batch, sample, saxs_csv_bytes):
    other = make_batch(members["chemist"], project, code="NC-NONE")
    measurement_upload(user=members["chemist"], sample=sample, technique="saxs",
                       uploads=[Upload("c.csv", io.BytesIO(saxs_csv_bytes))], request_analyses=False)
    run = make_succeeded_run(other, members["chemist"])
    client = login(members["viewer"])
    url = reverse("batch_list")
    assert _codes(client.get(url, {"technique": "saxs"})) == ["NC8.3"]
    assert _codes(client.get(url, {"review": "pending"})) == ["NC-NONE"]
    run_review(run=run, reviewer=members["analyst"], accept=True)
    assert _codes(client.get(url, {"review": "accepted"})) == ["NC-NONE"]
    assert _codes(client.get(url, {"review": "unreviewed"})) == ["NC8.3"]


def test_sorting_by_column_toggles_direction(login, members, project, batch):
    make_batch(members["chemist"], project, code="NC-A", opa_concentration_molar=0.01)
    make_batch(members["chemist"], project, code="NC-Z", opa_concentration_molar=0.5)
    client = login(members["viewer"])
    assert _codes(client.get(reverse("batch_list"), {"sort": "opa"})) == ["NC-A", "NC8.3", "NC-Z"]
    assert _codes(client.get(reverse("batch_list"), {"sort": "-opa"})) == ["NC-Z", "NC8.3", "NC-A"]
    # Natural order: the code's text part first ("NC" before "NC-A"), then its number.
    assert _codes(client.get(reverse("batch_list"), {"sort": "code"})) == ["NC8.3", "NC-A", "NC-Z"]
    assert _codes(client.get(reverse("batch_list"), {"sort": "-code"})) == ["NC-Z", "NC-A", "NC8.3"]


def test_list_is_paginated_by_50(login, members, project):
    Batch.objects.bulk_create(Batch(project=project, code=f"B{i:03d}") for i in range(60))
    client = login(members["viewer"])
    first = client.get(reverse("batch_list"), {"sort": "code"})
    assert len(first.context["batches"]) == 50
    second = client.get(reverse("batch_list"), {"sort": "code", "page": 2})
    assert _codes(second) == [f"B{i:03d}" for i in range(50, 60)]


def test_csv_export_has_the_filtered_rows(login, members, project, batch):
    make_batch(members["chemist"], project, code="NC-HI", opa_concentration_molar=0.2)
    response = login(members["viewer"]).get(reverse("batch_list_csv"), {"opa_min": "0.1"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "code"
    assert [r[0] for r in rows[1:]] == ["NC-HI"]


def test_batch_page_shows_parameters_samples_lineage_and_key_results(login, members, batch, sample):
    child = make_sample(members["chemist"], batch, code="NC8.3-PWD", form="powder", parent=sample,
                        storage_location="glovebox shelf 2", ageing_started_at=timezone.now() - timedelta(days=3))
    run = make_succeeded_run(batch, members["chemist"], value=8.41)
    run_review(run=run, reviewer=members["analyst"], accept=True)
    html = login(members["viewer"]).get(reverse("batch_detail", args=["nc8.3"])).content.decode()
    assert "0.05 M" in html and "30 s" in html
    assert "NC8.3-PWD" in html and "glovebox shelf 2" in html and "3.0 d" in html
    assert "↳" in html  # the powder is shown under the ink it came from
    assert "8.41 ± 0.10 nm" in html and "Result of record" in html
    assert child.parent_id == sample.pk


def test_new_batch_is_recorded_and_shown(login, members, project):
    client = login(members["chemist"])
    response = client.post(reverse("batch_create"), {
        "project": project.pk, "code": "NC10.2", "synthesised_at": "2026-11-20T10:30", "status": "complete",
        "opa_concentration_molar": "0.05", "reaction_duration_s": "15"})
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = Batch.objects.get(code="NC10.2")
    assert batch.operator == members["chemist"] and batch.reaction_duration_s == 15


def test_duplicate_code_and_negative_amount_are_shown_on_their_fields(login, members, project, batch):
    client = login(members["chemist"])
    response = client.post(reverse("batch_create"), {
        "project": project.pk, "code": "nc8.3", "synthesised_at": "2026-11-20T10:30", "status": "complete"})
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["code"])
    response = client.post(reverse("batch_create"), {
        "project": project.pk, "code": "NEW", "synthesised_at": "2026-11-20T10:30", "status": "complete",
        "opa_concentration_molar": "-1"})
    assert "cannot be negative" in " ".join(response.context["form"].errors["opa_concentration_molar"])
    assert not Batch.objects.filter(code="NEW").exists()


def _edit_data(batch, **changes):
    data = {"code": batch.code, "synthesised_at": batch.synthesised_at.strftime("%Y-%m-%dT%H:%M"),
            "status": batch.status, "opa_concentration_molar": "0.05", "reaction_duration_s": "30", "notes": batch.notes}
    data.update(changes)
    return data


def test_edit_after_review_asks_for_a_reason(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    run_review(run=run, reviewer=members["analyst"], accept=True)
    client = login(members["chemist"])
    url = reverse("batch_edit", args=[batch.code])
    assert "accepted results" in client.get(url).content.decode()
    response = client.post(url, _edit_data(batch, reaction_duration_s="45"))
    assert response.status_code == 200
    assert "say why" in " ".join(response.context["form"].errors["reason"])
    batch.refresh_from_db()
    assert batch.reaction_duration_s == 30
    response = client.post(url, _edit_data(batch, reaction_duration_s="45", reason="timer misread"))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.reaction_duration_s == 45
    assert batch.history.first().history_change_reason == "timer misread"


def test_edit_before_review_needs_no_reason(login, members, batch):
    response = login(members["chemist"]).post(reverse("batch_edit", args=[batch.code]), _edit_data(batch, notes="x"))
    assert response.status_code == 302


def test_sample_create_and_edit_with_parent(login, members, batch, sample):
    client = login(members["chemist"])
    response = client.post(reverse("sample_create", args=[batch.code]), {
        "code": "NC8.3-P1", "form": "powder", "prepared_at": "2026-11-21T09:00", "parent": sample.pk,
        "atmosphere": "n2", "light": "dark", "storage_location": "desiccator"})
    assert response.status_code == 302, response.context["form"].errors
    powder = Sample.objects.get(code="NC8.3-P1")
    assert powder.parent == sample
    response = client.post(reverse("sample_edit", args=[powder.pk]), {
        "code": "NC8.3-P1", "form": "powder", "prepared_at": "2026-11-21T09:00", "parent": sample.pk,
        "atmosphere": "ar", "light": "dark", "storage_location": "glovebox"})
    assert response.status_code == 302
    powder.refresh_from_db()
    assert powder.atmosphere == "ar" and powder.storage_location == "glovebox"


def test_sample_lineage_loop_is_refused_on_the_parent_field(login, members, batch, sample):
    child = make_sample(members["chemist"], batch, code="NC8.3-C", parent=sample)
    response = login(members["chemist"]).post(reverse("sample_edit", args=[sample.pk]), {
        "code": sample.code, "form": sample.form, "prepared_at": "2026-11-21T09:00", "parent": child.pk,
        "atmosphere": "air", "light": "dark"})
    assert response.status_code == 200
    assert "loop" in " ".join(response.context["form"].errors["parent"])
