"""The result of record: superseding, retraction, the database's own guard, provenance,
and the admin that shows but never changes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from labtrack.analyses.derived import derived_runs_request
from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.analyses.review import allowed_transitions, run_accept, run_reject, run_retract
from labtrack.analyses.selectors import key_results, run_history
from labtrack.analyses.services import run_refit
from labtrack.core.errors import Conflict
from labtrack.insights.selectors import quantity_points
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample


def _fit(measurement, requester, *, value, routine="saxs.size_distribution", supersedes=None):
    """A finished run as a worker leaves it (status, result, one quantity)."""
    batch = measurement.sample.batch
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, measurement=measurement, routine=routine, requested_by=requester,
        status=RunStatus.SUCCEEDED, result={"quantities": {"mean_diameter_nm": {"value": value}}},
        result_sha256="cd" * 32, supersedes=supersedes)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.1, unit="nm")
    return run


@pytest.fixture
def lab(members, project):
    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC12.8")
    fresh = make_sample(chemist, batch, code="NC12.8-P")
    aged = make_sample(chemist, batch, code="NC12.8-P-AGED", parent=fresh, ageing_started_at=fresh.prepared_at)
    saxs = Measurement.objects.create(sample=fresh, technique="saxs", measured_at=fresh.prepared_at + timedelta(days=1))
    tem = Measurement.objects.create(sample=fresh, technique="tem", measured_at=fresh.prepared_at + timedelta(days=2))
    aged_saxs = Measurement.objects.create(sample=aged, technique="saxs",
                                           measured_at=aged.age_started_at + timedelta(days=180))
    return {"batch": batch, "fresh": fresh, "aged": aged, "saxs": saxs, "tem": tem, "aged_saxs": aged_saxs}


def test_accepted_refit_supersedes_its_parent_and_the_parent_can_no_longer_be_reviewed(lab, members):
    parent = _fit(lab["saxs"], members["chemist"], value=12.0)
    run_accept(run=parent, reviewer=members["analyst"])
    refit = _fit(lab["saxs"], members["chemist"], value=12.8, supersedes=parent)
    # Until the re-fit is accepted, the parent stays the number of record.
    assert list(AnalysisRun.objects.of_record()) == [AnalysisRun.objects.get(pk=parent.pk)]
    run_accept(run=refit, reviewer=members["analyst2"])
    parent.refresh_from_db()
    assert not parent.is_current and parent.review_state == ReviewState.ACCEPTED  # history is kept
    assert [r.pk for r in AnalysisRun.objects.of_record()] == [refit.pk]
    assert allowed_transitions(parent) == []
    with pytest.raises(Conflict, match=f"superseded by run #{refit.pk}"):
        run_retract(run=parent, user=members["analyst"], reason="try again")
    with pytest.raises(Conflict, match="superseded"):
        run_reject(run=parent, reviewer=members["analyst"], reason="no")
    with pytest.raises(ValidationError, match=f"superseded by run #{refit.pk}"):
        run_refit(run=parent, user=members["chemist"], parameters={})


def test_superseded_run_is_refused_on_the_page_and_in_the_api(lab, members, client):
    parent = _fit(lab["saxs"], members["chemist"], value=12.0)
    refit = _fit(lab["saxs"], members["chemist"], value=12.8, supersedes=parent)
    run_accept(run=refit, reviewer=members["analyst"])
    client.force_login(members["analyst2"])
    response = client.post(reverse("run_review", args=[parent.pk]), {"decision": "accept"}, follow=True)
    assert f"superseded by run #{refit.pk}" in response.content.decode()
    api = APIClient()
    api.force_authenticate(members["analyst2"])
    response = api.post(f"/api/v1/runs/{parent.pk}/review/", {"decision": "accept"}, format="json")
    assert response.status_code == 409
    assert f"superseded by run #{refit.pk}" in response.json()["detail"]
    parent.refresh_from_db()
    assert parent.review_state == ReviewState.PENDING and not parent.is_current


def test_a_second_accepted_run_of_one_measurement_is_refused_by_the_service(lab, members):
    first = _fit(lab["saxs"], members["chemist"], value=12.0)
    second = _fit(lab["saxs"], members["chemist"], value=12.9)  # another fit, not a re-fit of the first
    run_accept(run=first, reviewer=members["analyst"])
    with pytest.raises(Conflict, match=f"run #{first.pk} is already the accepted"):
        run_accept(run=second, reviewer=members["analyst"])
    run_retract(run=first, user=members["analyst"], reason="wrong q range")
    run_accept(run=second, reviewer=members["analyst"])
    assert [r.pk for r in AnalysisRun.objects.of_record()] == [second.pk]


def test_the_database_refuses_a_second_accepted_current_run_when_the_service_is_bypassed(lab, members):
    first = _fit(lab["saxs"], members["chemist"], value=12.0)
    second = _fit(lab["saxs"], members["chemist"], value=12.9)
    run_accept(run=first, reviewer=members["analyst"])
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisRun.objects.filter(pk=second.pk).update(review_state=ReviewState.ACCEPTED, reviewer=members["analyst"])
    with pytest.raises(IntegrityError), transaction.atomic():  # a decision on an unfinished run
        AnalysisRun.objects.filter(pk=second.pk).update(status=RunStatus.RUNNING, review_state=ReviewState.REJECTED,
                                                        reviewer=members["analyst"], review_reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():  # a rejection without a reason
        AnalysisRun.objects.filter(pk=second.pk).update(review_state=ReviewState.REJECTED,
                                                        reviewer=members["analyst"])


def test_retract_needs_a_reason_returns_to_pending_and_is_in_the_history(lab, members):
    run = _fit(lab["saxs"], members["chemist"], value=12.0)
    run_accept(run=run, reviewer=members["analyst"])
    with pytest.raises(ValidationError, match="Say why the acceptance is retracted"):
        run_retract(run=run, user=members["analyst2"], reason=" ")
    retracted, refit = run_retract(run=AnalysisRun.objects.get(pk=run.pk), user=members["analyst2"],
                                   reason="q range cut the form factor minimum", refit_parameters={"q_min_per_nm": 0.2})  # an old name: still accepted
    assert retracted.review_state == ReviewState.PENDING and retracted.reviewer is None
    assert refit.supersedes_id == run.pk and refit.parameters["q_range_per_nm"] == [0.2, None]
    assert not AnalysisRun.objects.of_record().exists()
    last = run_history(run=retracted)[-1]
    assert last["who"] == members["analyst2"]
    assert last["what"] == "review → pending"
    assert last["why"] == "retracted: q range cut the form factor minimum"


def test_key_results_give_one_row_per_sample_fresh_before_aged(lab, members):
    run_accept(run=_fit(lab["aged_saxs"], members["chemist"], value=14.1), reviewer=members["analyst"])
    run_accept(run=_fit(lab["saxs"], members["chemist"], value=12.8), reviewer=members["analyst"])
    rows = [k for k in key_results(batch=lab["batch"]) if k.routine == "saxs.size_distribution"]
    assert [(k.sample_code, k.aged, k.quantities[0].value) for k in rows] == [
        ("NC12.8-P", False, 12.8), ("NC12.8-P-AGED", True, 14.1)]
    assert round(rows[1].sample_age_days) == 180 and all(k.accepted for k in rows)


def test_saxs_and_tem_diameters_are_separable_in_the_api_and_trends(lab, members):
    run_accept(run=_fit(lab["saxs"], members["chemist"], value=12.8), reviewer=members["analyst"])
    run_accept(run=_fit(lab["tem"], members["chemist"], value=11.9, routine="tem.particle_sizes"),
               reviewer=members["analyst"])
    api = APIClient()
    api.force_authenticate(members["viewer"])
    rows = api.get("/api/v1/quantities/?name=mean_diameter_nm&accepted=1").json()["results"]
    assert sorted((r["technique"], r["routine"], r["sample"], r["value"]) for r in rows) == [
        ("saxs", "saxs.size_distribution", "NC12.8-P", 12.8), ("tem", "tem.particle_sizes", "NC12.8-P", 11.9)]
    assert all(r["of_record"] and r["sample_age_days"] is not None for r in rows)
    only_tem = api.get("/api/v1/quantities/?name=mean_diameter_nm&technique=tem").json()["results"]
    assert [r["value"] for r in only_tem] == [11.9]
    points = quantity_points(user=members["viewer"], name="mean_diameter_nm", routine="tem.particle_sizes")
    assert [(p.technique, p.value) for p in points] == [("tem", 11.9)]


def test_derived_run_is_named_by_its_inputs_and_requested_once(lab, members, django_capture_on_commit_callbacks):
    from analysis.synthetic import paper

    nmr = Measurement.objects.create(sample=lab["fresh"], technique="nmr", measured_at=lab["saxs"].measured_at)
    components = [{"label": f"c{i}", "assignment": line.assignment,
                   "quantities": {"integral_percent": {"value": line.integral_percent, "stderr": 1.0}}}
                  for i, line in enumerate(paper.TABLE2["NC12.8"], start=1)]
    deconvolution = AnalysisRun.objects.create(
        project=lab["batch"].project, batch=lab["batch"], measurement=nmr, routine="nmr.deconvolve",
        requested_by=members["chemist"], status=RunStatus.SUCCEEDED,
        result={"routine": "nmr.deconvolve", "components": components})
    with django_capture_on_commit_callbacks(execute=False):
        run_accept(run=_fit(lab["saxs"], members["chemist"], value=12.8), reviewer=members["analyst"])
        run_accept(run=deconvolution, reviewer=members["analyst"])
        assert derived_runs_request(batch=lab["batch"], user=members["analyst"]) == []
    (layer,) = AnalysisRun.objects.filter(routine="nmr.layer_model")
    assert len(layer.inputs_key) == 64
    assert set(layer.derived_from.values_list("routine", flat=True)) == {"nmr.deconvolve", "saxs.size_distribution"}


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


def test_admin_shows_runs_read_only_even_to_a_superuser(lab, members, client, superuser):
    run = _fit(lab["saxs"], members["chemist"], value=12.0)
    run_reject(run=run, reviewer=members["analyst"], reason="Background poorly modelled")
    client.force_login(superuser)
    page = client.get(reverse("admin:analyses_analysisrun_change", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="review_state"' not in html
    assert "Background poorly modelled" in html  # shown, as read-only text
    client.post(reverse("admin:analyses_analysisrun_change", args=[run.pk]),
                {"review_state": "accepted", "review_reason": ""})
    run.refresh_from_db()
    assert run.review_state == ReviewState.REJECTED
    assert client.get(reverse("admin:analyses_analysisrun_delete", args=[run.pk])).status_code == 403
    for name in ("analyses_quantity", "measurements_rawfile", "samples_batch", "samples_sample",
                 "measurements_measurement"):
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403


def test_admin_history_cannot_revert_a_run(lab, members, client, superuser):
    run = _fit(lab["saxs"], members["chemist"], value=12.0)
    run_accept(run=run, reviewer=members["analyst"])
    record = run.history.order_by("history_id").first()
    client.force_login(superuser)
    url = reverse("admin:analyses_analysisrun_simple_history", args=[run.pk, record.history_id])
    client.post(url, {})
    run.refresh_from_db()
    assert run.review_state == ReviewState.ACCEPTED


def test_retracting_an_input_retracts_the_accepted_result_derived_from_it(lab, members,
                                                                          django_capture_on_commit_callbacks):
    saxs = _fit(lab["saxs"], members["chemist"], value=12.8)
    run_accept(run=saxs, reviewer=members["analyst"])
    layer = AnalysisRun.objects.create(
        project=lab["batch"].project, batch=lab["batch"], measurement=lab["saxs"], routine="nmr.layer_model",
        requested_by=members["chemist"], status=RunStatus.SUCCEEDED)
    layer.derived_from.set([saxs])
    run_accept(run=layer, reviewer=members["analyst"])
    run_retract(run=AnalysisRun.objects.get(pk=saxs.pk), user=members["analyst2"], reason="wrong q unit")
    layer.refresh_from_db()
    assert layer.review_state == ReviewState.PENDING
    assert run_history(run=layer)[-1]["why"] == f"retracted: its input run #{saxs.pk} was retracted: wrong q unit"
    assert not AnalysisRun.objects.of_record().exists()
