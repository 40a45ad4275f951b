"""Trends: a quantity across batches and against sample age, from current, visible fits."""
from datetime import timedelta

import pytest
from django.urls import reverse

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.analyses.review import run_accept
from labtrack.insights.selectors import quantity_points
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import mark_accepted, make_batch, make_sample, make_succeeded_run


def _bulk_fraction(batch, sample, requester, days: float, percent: float, review=ReviewState.ACCEPTED):
    """A 133Cs deconvolution of `sample` measured `days` after its ageing started."""
    measurement = Measurement.objects.create(sample=sample, technique="nmr",
                                             measured_at=sample.age_started_at + timedelta(days=days))
    run = AnalysisRun.objects.create(project=batch.project, batch=batch, measurement=measurement,
                                     routine="nmr.deconvolve", requested_by=requester,
                                     status=RunStatus.SUCCEEDED, review_state=review,
                                     reviewer=None if review == ReviewState.PENDING else requester)
    Quantity.objects.create(run=run, name="integral_percent", value=percent, stderr=0.5, unit="%",
                            component_label="c2", assignment="bulk")
    return run


@pytest.fixture
def ageing(members, project):
    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC12.8")
    aged = make_sample(chemist, batch, code="NC12.8-P-AGED", ageing_started_at=batch.synthesised_at)
    runs = [_bulk_fraction(batch, aged, chemist, days, percent)
            for days, percent in ((1, 15.0), (90, 21.0), (183, 28.0))]
    return batch, aged, runs


def test_ageing_series_has_age_and_value(members, ageing):
    points = quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk")
    assert [(round(p.x), p.value) for p in sorted(points, key=lambda p: p.x)] == [(1, 15.0), (90, 21.0), (183, 28.0)]
    assert {p.sample for p in points} == {"NC12.8-P-AGED"}


def test_rejected_and_superseded_fits_do_not_count(members, ageing):
    batch, aged, runs = ageing
    AnalysisRun.objects.filter(pk=runs[0].pk).update(review_state=ReviewState.REJECTED, review_reason="phase")
    refit = make_succeeded_run(batch, members["chemist"], routine="nmr.deconvolve")
    AnalysisRun.objects.filter(pk=refit.pk).update(supersedes=runs[1], measurement=runs[1].measurement)
    Quantity.objects.create(run=refit, name="integral_percent", value=22.5, stderr=0.5, unit="%",
                            component_label="c2", assignment="bulk")
    # A pending re-fit does not displace its accepted parent ...
    points = quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk")
    assert sorted(p.value for p in points) == [21.0, 28.0]
    # ... its acceptance supersedes it.
    run_accept(run=AnalysisRun.objects.get(pk=refit.pk), reviewer=members["analyst"])
    points = quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk")
    assert sorted(p.value for p in points) == [22.5, 28.0]


def test_pending_fits_only_on_request(members, ageing):
    batch, aged, runs = ageing
    AnalysisRun.objects.filter(pk=runs[2].pk).update(review_state=ReviewState.PENDING, reviewer=None)
    assert len(quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk")) == 2
    assert len(quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk",
                               accepted_only=False)) == 3


def test_against_diameter_uses_the_batch_size_fit(members, project):
    for code, diameter, cs_pb in (("NC12.8", 12.8, 0.96), ("NC6.4", 6.4, 0.84)):
        batch = make_batch(members["chemist"], project, code=code)
        make_succeeded_run(batch, members["chemist"], value=diameter)
        xps = make_succeeded_run(batch, members["chemist"], routine="xps.atomic_ratios")
        Quantity.objects.filter(run=xps).update(name="cs_pb", value=cs_pb, unit="")
        mark_accepted(xps, members["analyst"])
    points = quantity_points(user=members["viewer"], name="cs_pb", x="diameter_nm")
    assert sorted((p.x, p.value) for p in points) == [(6.4, 0.84), (12.8, 0.96)]


def test_other_projects_values_are_invisible(ageing, make_user):
    assert quantity_points(user=make_user("outsider"), name="integral_percent", assignment="bulk") == []


def test_trends_page_and_figure(client, members, ageing):
    client.force_login(members["viewer"])
    html = client.get(reverse("trends"), {"quantity": "integral_percent|bulk", "x": "age_days"}).content.decode()
    assert "NC12.8-P-AGED" in html and "28" in html
    svg = client.get(reverse("trends_figure"), {"quantity": "integral_percent|bulk", "x": "age_days"})
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"Sample age at measurement" in svg.content


def test_quantity_with_mathtext_in_the_url_draws_as_typed(client, members, ageing):
    # `$\foo$` was parsed as a matplotlib formula and raised: a 500 from a query string.
    client.force_login(members["viewer"])
    svg = client.get(reverse("trends_figure"), {"quantity": r"$\foo$|$\bar$", "x": "age_days"})
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert rb"$\foo$ [$\bar$]" in svg.content  # the label, as typed (matplotlib's text comment)


def test_batch_code_with_mathtext_does_not_break_the_figure_for_everyone(client, members, project, ageing):
    chemist = members["chemist"]
    odd = make_batch(chemist, project, code=r"MT$\foo$")
    sample = make_sample(chemist, odd, code="MT-1", ageing_started_at=odd.synthesised_at)
    _bulk_fraction(odd, sample, chemist, 10, 18.0)
    client.force_login(members["viewer"])
    svg = client.get(reverse("trends_figure"), {"quantity": "integral_percent|bulk", "x": "age_days"})
    assert svg.status_code == 200
    assert rb"MT$\foo$" in svg.content and b"NC12.8" in svg.content


def test_negative_age_is_flagged_on_the_trends_page(client, members, project):
    batch = make_batch(members["chemist"], project, code="NC8.9")
    sample = make_sample(members["chemist"], batch, code="NC8.9-P-AGED", ageing_started_at=batch.synthesised_at)
    _bulk_fraction(batch, sample, members["chemist"], -1113, 2.0)  # recorded before dates were checked
    client.force_login(members["viewer"])
    page = client.get(reverse("trends"), {"quantity": "integral_percent|bulk|nmr.deconvolve"}).content.decode()
    assert "1 value has a negative sample age" in page and "NC8.9-P-AGED at -1113 d" in page


def test_a_line_follows_one_sample_never_two_storage_series_of_a_batch():
    import numpy as np

    from labtrack.web.views.trends_figure import sample_lines

    points = sorted([("NC12.8-P", 1, 15.2), ("NC12.8-P-AIR", 30, 17.4), ("NC12.8-P-AIR", 91, 22.7),
                     ("NC12.8-P-N2", 30, 14.3), ("NC12.8-P-N2", 91, 15.0)], key=lambda p: p[1])
    samples = np.array([p[0] for p in points], dtype=object)
    x = np.array([p[1] for p in points], dtype=float)
    y = np.array([p[2] for p in points])
    lines = sample_lines(samples, x, y)
    assert sorted((tuple(lx), tuple(ly)) for lx, ly in lines) == [((30.0, 91.0), (14.3, 15.0)),
                                                                   ((30.0, 91.0), (17.4, 22.7))]
