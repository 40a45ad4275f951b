"""The review queue: filters, pages that reach the newest upload, a clear word for
chemists, and accepting a whole batch's fits at once."""
from __future__ import annotations

from django.urls import reverse

from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample


def _pending(batch, user, technique="saxs", routine="saxs.size_distribution", n=1):
    sample = batch.samples.first() or make_sample(user, batch)
    runs = []
    for _ in range(n):
        m = Measurement.objects.create(sample=sample, technique=technique)
        runs.append(AnalysisRun.objects.create(project=batch.project, batch=batch, measurement=m, routine=routine,
                                               requested_by=user, status=RunStatus.SUCCEEDED))
    return runs


def test_queue_filters_by_batch_and_technique(login, members, project):
    chemist = members["chemist"]
    nc83, nc64 = make_batch(chemist, project, code="NC8.3"), make_batch(chemist, project, code="NC6.4")
    (saxs,) = _pending(nc83, chemist)
    (pl,) = _pending(nc83, chemist, technique="pl", routine="pl.peak")
    (other,) = _pending(nc64, chemist)
    client = login(members["analyst"])
    shown = lambda **q: {r.pk for r in client.get(reverse("review_queue"), q).context["runs"]}  # noqa: E731
    assert shown() == {saxs.pk, pl.pk, other.pk}
    assert shown(batch="nc8.3") == {saxs.pk, pl.pk}
    assert shown(batch="NC8.3", technique="pl") == {pl.pk}
    assert shown(technique="not-a-technique") == {saxs.pk, pl.pk, other.pk}  # ignored, not a 500


def test_pages_reach_the_newest_upload(login, members, project):
    batch = make_batch(members["chemist"], project, code="NC9.9")
    runs = _pending(batch, members["chemist"], n=45)
    client = login(members["analyst"])
    last = client.get(reverse("review_queue"), {"page": 3})
    assert last.context["page"] == 3 and runs[-1] in last.context["runs"]
    assert client.get(reverse("review_queue"), {"order": "newest"}).context["runs"][0] == runs[-1]
    assert client.get(reverse("review_queue"), {"page": "abc"}).status_code == 200


def test_a_chemist_is_told_the_runs_wait_for_an_analyst(login, members, project):
    _pending(make_batch(members["chemist"], project, code="NC9.9"), members["chemist"], n=3)
    html = login(members["chemist"]).get(reverse("review_queue")).content.decode()
    assert "You do not review fits in your projects; 3 runs await an analyst." in html


def test_accept_every_fit_of_a_batch_at_once(login, members, project):
    batch = make_batch(members["chemist"], project, code="NC9.9")
    runs = _pending(batch, members["chemist"], n=3)
    own = _pending(batch, members["analyst"])[0]  # requested by the reviewer: refused, the rest accepted
    response = login(members["analyst"]).post(reverse("review_accept_many"),
                                              {"run": [r.pk for r in runs] + [own.pk]}, follow=True)
    html = response.content.decode()
    assert f"Accepted 3 runs: #{runs[0].pk}, #{runs[1].pk}, #{runs[2].pk}." in html
    assert f"Run #{own.pk}: A run must be reviewed by someone other" in html
    assert AnalysisRun.objects.of_record().count() == 3
