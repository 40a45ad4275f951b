"""Run page, progress JSON, figure, review actions, re-fit with preview, review queue."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse

from labtrack.analyses import review
from labtrack.analyses import services as run_services
from labtrack.analyses.models import AnalysisRun
from labtrack.analyses.pipeline import Upload, measurement_upload
from tests.labtrack.factories import make_succeeded_run


@pytest.fixture
def tem_run(members, sample, tem_tif_bytes):
    """A real TEM particle-size run, executed in-process as the worker would."""
    measurement_upload(user=members["chemist"], sample=sample, technique="tem",
                       uploads=[Upload("NC8.3_tem.tif", io.BytesIO(tem_tif_bytes))])
    run = AnalysisRun.objects.get()
    attempt = run_services.run_claim(run_id=run.pk, task_id="test")
    run_services.run_execute(run_id=run.pk, attempt=attempt)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def test_run_page_shows_figure_quantities_parameters_and_inputs(login, members, tem_run):
    html = login(members["viewer"]).get(reverse("run_detail", args=[tem_run.pk])).content.decode()
    assert reverse("run_figure", args=[tem_run.pk]) in html
    assert "mean_diameter_nm" in html and " ± " in html
    assert tem_run.input_files[0]["sha256"] in html
    assert "NC8.3_tem.tif" in html


def test_figure_is_served_as_svg(login, members, tem_run):
    response = login(members["viewer"]).get(reverse("run_figure", args=[tem_run.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_thumbnail_is_the_stored_png_and_hidden_from_outsiders(login, members, tem_run, make_user):
    response = login(members["viewer"]).get(reverse("run_thumbnail", args=[tem_run.pk]))
    assert response["Content-Type"] == "image/png"
    assert response.content == bytes(tem_run.figure_png) and response.content.startswith(b"\x89PNG")
    assert login(make_user("outsider")).get(reverse("run_thumbnail", args=[tem_run.pk])).status_code == 404


def test_status_json_while_queued_and_when_done(login, members, batch):
    from labtrack.analyses.models import RunStatus

    queued = AnalysisRun.objects.create(project=batch.project, batch=batch, routine="saxs.size_distribution",
                                        requested_by=members["chemist"])
    client = login(members["viewer"])
    data = client.get(reverse("run_status", args=[queued.pk])).json()
    assert data["status"] == "queued" and data["progress_percent"] == 0 and data["figure_url"] is None
    AnalysisRun.objects.filter(pk=queued.pk).update(status=RunStatus.RUNNING, stage="fitting")
    assert client.get(reverse("run_status", args=[queued.pk])).json()["progress_percent"] == 40
    done = make_succeeded_run(batch, members["chemist"])
    data = client.get(reverse("run_status", args=[done.pk])).json()
    assert data["finished"] and data["figure_url"] == reverse("run_figure", args=[done.pk])
    assert data["quantities"][0]["text"] == "8.30 ± 0.10 nm"


def test_accept_records_the_reviewer(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    response = login(members["analyst"]).post(reverse("run_review", args=[run.pk]), {"decision": "accept"}, follow=True)
    run.refresh_from_db()
    assert run.review_state == "accepted" and run.reviewer == members["analyst"]
    assert "accepted" in response.content.decode()


def test_reject_without_reason_is_refused_with_a_message(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    response = login(members["analyst"]).post(reverse("run_review", args=[run.pk]), {"decision": "reject"}, follow=True)
    run.refresh_from_db()
    assert run.review_state == "pending"
    assert "Say why the fit is rejected." in response.content.decode()


def test_second_reviewer_is_told_who_decided_first(login, members, batch, client):
    run = make_succeeded_run(batch, members["chemist"])
    review.run_review(run=run, reviewer=members["analyst"], accept=True)
    response = login(members["analyst2"]).post(reverse("run_review", args=[run.pk]),
                                               {"decision": "reject", "reason": "bad baseline"}, follow=True)
    html = response.content.decode()
    assert "already accepted by analyst" in html
    run.refresh_from_db()
    assert run.review_state == "accepted"


def test_requester_cannot_review_own_run(login, members, batch):
    run = make_succeeded_run(batch, members["analyst"])
    client = login(members["analyst"])
    assert "another analyst must review it" in client.get(reverse("run_detail", args=[run.pk])).content.decode()
    response = client.post(reverse("run_review", args=[run.pk]), {"decision": "accept"}, follow=True)
    run.refresh_from_db()
    assert run.review_state == "pending"
    assert "someone other than" in response.content.decode()


def test_refit_form_is_generated_from_routine_parameters(login, members, tem_run):
    html = login(members["analyst"]).get(reverse("run_detail", args=[tem_run.pk])).content.decode()
    for name in ("min_diameter_nm", "max_diameter_nm", "split_touching"):
        assert f'name="{name}"' in html


def test_refit_preview_runs_now_and_saves_nothing(login, members, tem_run):
    n_runs = AnalysisRun.objects.count()
    response = login(members["analyst"]).post(reverse("run_refit", args=[tem_run.pk]), {
        "action": "preview", "min_diameter_nm": "4", "split_touching": "true"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["figure_data_uri"].startswith("data:image/svg+xml;base64,")
    assert any(q.name == "mean_diameter_nm" for q in preview["quantities"])
    assert AnalysisRun.objects.count() == n_runs


def test_refit_bad_parameter_is_explained(login, members, tem_run):
    response = login(members["analyst"]).post(reverse("run_refit", args=[tem_run.pk]), {
        "action": "preview", "min_diameter_nm": "four"})
    assert response.status_code == 400
    assert "min_diameter_nm" in response.context["preview_error"]


def test_refit_save_creates_a_superseding_run(login, members, tem_run):
    response = login(members["analyst"]).post(reverse("run_refit", args=[tem_run.pk]), {
        "action": "save", "min_diameter_nm": "4", "split_touching": "true"})
    new = AnalysisRun.objects.exclude(pk=tem_run.pk).get()
    assert response["Location"] == reverse("run_detail", args=[new.pk])
    assert new.supersedes == tem_run and new.parameters["min_diameter_nm"] == 4.0
    assert new.requested_by == members["analyst"]
    html = login(members["viewer"]).get(reverse("run_detail", args=[tem_run.pk])).content.decode()
    assert f"Run #{new.pk}" in html and f"re-fit of #{tem_run.pk}" in html


def test_viewer_gets_no_refit_form_and_cannot_post_one(login, members, tem_run):
    client = login(members["viewer"])
    assert 'name="min_diameter_nm"' not in client.get(reverse("run_detail", args=[tem_run.pk])).content.decode()
    assert client.post(reverse("run_refit", args=[tem_run.pk]), {"action": "save"}).status_code == 403


def test_review_queue_is_oldest_first_and_skips_own_and_superseded_runs(login, members, batch):
    first = make_succeeded_run(batch, members["chemist"])
    second = make_succeeded_run(batch, members["chemist"])
    own = make_succeeded_run(batch, members["analyst"])
    old = make_succeeded_run(batch, members["chemist"])
    AnalysisRun.objects.filter(pk=second.pk).update(supersedes=old)
    accepted = make_succeeded_run(batch, members["chemist"])
    review.run_review(run=accepted, reviewer=members["analyst2"], accept=True)
    response = login(members["analyst"]).get(reverse("review_queue"))
    assert [r.pk for r in response.context["runs"]] == [first.pk, second.pk]
    assert response.context["own_pending"] == 1
    assert own.pk not in [r.pk for r in response.context["runs"]]


def test_review_queue_needs_reviewer_role(login, members, batch):
    make_succeeded_run(batch, members["chemist"])
    response = login(members["chemist"]).get(reverse("review_queue"))
    assert response.context["runs"] == []


def test_back_link_ignores_an_unsafe_next(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    html = login(members["viewer"]).get(reverse("run_detail", args=[run.pk]) + "?next=javascript:alert(1)").content.decode()
    assert "javascript:alert" not in html


def test_run_page_shows_the_audit_trail_with_who_and_why(login, members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    login(members["analyst"]).post(reverse("run_review", args=[run.pk]),
                                   {"decision": "reject", "reason": "baseline drifts"})
    page = login(members["viewer"]).get(reverse("run_detail", args=[run.pk])).content.decode()
    history = page[page.index('id="history-h"'):]
    assert "review → rejected" in history
    assert "analyst" in history and "rejected: baseline drifts" in history
