"""Review queue (issue 12, item 4): filters by project, requester and age of request;
every quantity with its assignment and the fit quality; one signature meaning recorded on
each run of a bulk accept; empty states that say why; the undo window's markup."""
from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.analyses.review import ACCEPT_MEANING
from labtrack.measurements.models import Measurement
from labtrack.samples.models import Membership
from tests.labtrack.factories import make_batch, make_sample


def _run(batch, user, technique="saxs", routine="saxs.size_distribution", queued_days_ago=0.0, fit=None):
    sample = batch.samples.first() or make_sample(user, batch)
    m = Measurement.objects.create(sample=sample, technique=technique)
    return AnalysisRun.objects.create(
        project=batch.project, batch=batch, measurement=m, routine=routine, requested_by=user,
        status=RunStatus.SUCCEEDED, queued_at=timezone.now() - timedelta(days=queued_days_ago),
        result={"fit": fit or {}, "quantities": {}}, result_sha256="cd" * 32)


def _shown(client, **query):
    return {r.pk for r in client.get(reverse("review_queue"), query).context["runs"]}


def test_filters_by_project_requester_and_age(login, members, project, other_project, make_user):
    analyst, chemist = members["analyst"], members["chemist"]
    Membership.objects.create(project=other_project, user=analyst, role="analyst")
    chemist2 = make_user("chemist2")
    for p in (project, other_project):
        Membership.objects.create(project=p, user=chemist2, role="chemist")
    Membership.objects.create(project=other_project, user=chemist, role="chemist")
    mine = make_batch(chemist, project, code="NC8.3")
    theirs = make_batch(chemist, other_project, code="OT1")
    fresh = _run(mine, chemist)
    old = _run(mine, chemist2, queued_days_ago=40)
    other = _run(theirs, chemist, queued_days_ago=3)
    client = login(analyst)
    assert _shown(client) == {fresh.pk, old.pk, other.pk}
    assert _shown(client, project=other_project.pk) == {other.pk}
    assert _shown(client, project="junk") == {fresh.pk, old.pk, other.pk}
    assert _shown(client, requester="CHEMIST2") == {old.pk}
    assert _shown(client, age="day") == {fresh.pk}
    assert _shown(client, age="week") == {fresh.pk, other.pk}
    assert _shown(client, age="over_week") == {old.pk}
    assert _shown(client, age="over_month") == {old.pk}
    assert _shown(client, age="nonsense") == {fresh.pk, old.pk, other.pk}
    page = client.get(reverse("review_queue")).content.decode()
    assert 'name="project"' in page and '<option value="chemist2"' in page


def test_every_quantity_with_assignment_and_fit_quality(login, members, project):
    batch = make_batch(members["chemist"], project, code="NC8.3")
    run = _run(batch, members["chemist"], technique="nmr", routine="nmr.deconvolve",
               fit={"reduced_chi2": 1.0423, "r_squared": 0.9987, "n_points": 2048, "noise_sigma": 3.0})
    for i in range(1, 12):  # 11 components x 3 quantities: far more than the old 8
        for name, value in (("shift_ppm", 100.0 + i), ("fwhm_hz", 500.0 + i), ("integral_percent", 9.0)):
            Quantity.objects.create(run=run, component_label=f"c{i}", assignment=f"site {i}", name=name,
                                    value=value, unit={"shift_ppm": "ppm", "fwhm_hz": "Hz"}.get(name, "%"))
    Quantity.objects.create(run=run, name="n_components", value=11)
    response = login(members["analyst"]).get(reverse("review_queue"))
    (shown,) = response.context["runs"]
    assert [c.label for c in shown.components] == [f"c{i}" for i in range(1, 12)]  # c2 before c10
    assert sum(len(c.quantities) for c in shown.components) == 33
    html = response.content.decode()
    assert "<td>site 11</td>" in html and "111 ppm" in html and "9 %" in html
    assert "reduced χ² <strong>1.042</strong>" in html and "R² <strong>0.9987</strong>" in html
    assert "noise_sigma" not in html


def test_bulk_accept_records_the_signature_meaning_on_each_run(login, members, project):
    batch = make_batch(members["chemist"], project, code="NC9.9")
    runs = [_run(batch, members["chemist"]) for _ in range(3)]
    client = login(members["analyst"])
    page = client.get(reverse("review_queue"), {"batch": "NC9.9"}).content.decode()
    assert ACCEPT_MEANING in page
    client.post(reverse("review_accept_many"), {"run": [r.pk for r in runs]})
    for run in AnalysisRun.objects.filter(pk__in=[r.pk for r in runs]):
        assert run.review_state == "accepted" and run.reviewer == members["analyst"]
        assert run.review_meaning == ACCEPT_MEANING and run.reviewed_result_sha256 == "cd" * 32


def test_empty_states_say_why(login, members, project):
    batch = make_batch(members["chemist"], project, code="NC9.9")
    _run(batch, members["chemist"])
    analyst = login(members["analyst"])
    html = analyst.get(reverse("review_queue"), {"technique": "xps"}).content.decode()
    assert "Nothing awaits your review with these filters; 1 run waits without them" in html
    _run(batch, members["analyst2"])
    AnalysisRun.objects.exclude(requested_by=members["analyst2"]).delete()
    html = login(members["analyst2"]).get(reverse("review_queue")).content.decode()
    assert "the runs waiting are yours and need another analyst" in html


def test_keyboard_undo_markup(login, members, project):
    _run(make_batch(members["chemist"], project, code="NC9.9"), members["chemist"])
    html = login(members["analyst"]).get(reverse("review_queue")).content.decode()
    assert 'data-undo-seconds="5"' in html and "data-undo-bar" in html and "<kbd>u</kbd> undo" in html
