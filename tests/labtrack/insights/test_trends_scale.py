"""Trends at scale (issue 16) and its presentation (issue 12 item 5): the picker from
QuantityKind rows, defaults that show data, a capped table with every point as CSV, a
figure without per-batch artists past a dozen batches, SVG/PNG downloads."""
import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from labtrack.analyses.models import AnalysisRun, Quantity, QuantityKind, ReviewState, RunStatus
from labtrack.analyses.services import quantity_kinds_rebuild, quantity_kinds_record
from labtrack.insights.selectors import quantity_choices
from labtrack.measurements.models import Measurement
from labtrack.web.views import trends as trends_view
from tests.labtrack.factories import make_batch, make_sample, make_succeeded_run


def _bulk_fraction(batch, sample, requester, days, percent, review=ReviewState.ACCEPTED):
    measurement = Measurement.objects.create(sample=sample, technique="nmr",
                                             measured_at=sample.age_started_at + timedelta(days=days))
    run = AnalysisRun.objects.create(project=batch.project, batch=batch, measurement=measurement,
                                     routine="nmr.deconvolve", requested_by=requester, status=RunStatus.SUCCEEDED,
                                     review_state=review, reviewer=None if review == ReviewState.PENDING else requester)
    rows = [{"name": "integral_percent", "value": percent, "stderr": 0.5, "unit": "%", "component_label": "c2",
             "assignment": "bulk"}]
    Quantity.objects.bulk_create(Quantity(run=run, **r) for r in rows)
    quantity_kinds_record(run=run, rows=rows)  # what run_execute does after storing
    return run


@pytest.fixture
def lab(members, project):
    chemist = members["chemist"]
    runs = []
    for i, code in enumerate(("NC10.4", "NC6.4", "NC8.3")):
        batch = make_batch(chemist, project, code=code)
        aged = make_sample(chemist, batch, code=f"{code}-P-AGED", ageing_started_at=batch.synthesised_at)
        runs.append(_bulk_fraction(batch, aged, chemist, 10 + i, 15.0 + i))
        runs.append(_bulk_fraction(batch, aged, chemist, 100 + i, 25.0 + i, review=ReviewState.PENDING))
    return runs


def test_picker_lists_kinds_grouped_by_technique_with_labels(members, project, lab):
    saxs = make_succeeded_run(make_batch(members["chemist"], project, code="NC12.8"), members["chemist"])
    assert not QuantityKind.objects.filter(routine="saxs.size_distribution").exists()  # written past the service
    assert quantity_kinds_rebuild() >= 2
    choices = {(c.technique_label, c.label, c.routine) for c in quantity_choices(user=members["viewer"])}
    assert ("Solid-state NMR", "Integral — bulk", "nmr.deconvolve") in choices
    assert ("SAXS", "Mean diameter", saxs.routine) in choices


def test_other_projects_kinds_are_not_offered(lab, make_user):
    assert quantity_choices(user=make_user("outsider")) == []


def test_first_open_shows_the_bulk_fraction_with_pending_fits(client, members, lab):
    client.force_login(members["viewer"])
    html = client.get(reverse("trends")).content.decode()
    assert 'value="integral_percent|bulk|nmr.deconvolve" selected' in html
    assert "6 values: 3 accepted (filled circles), 3 pending review (open circles)" in html
    # natural order: NC6.4 before NC8.3 before NC10.4
    assert html.index("NC6.4-P-AGED") < html.index("NC8.3-P-AGED") < html.index("NC10.4-P-AGED")


def test_table_is_capped_and_the_csv_has_every_point(client, members, lab, monkeypatch):
    monkeypatch.setattr(trends_view, "TABLE_ROWS", 4)
    client.force_login(members["viewer"])
    query = {"quantity": "integral_percent|bulk|nmr.deconvolve", "x": "age_days", "accepted": "0"}
    html = client.get(reverse("trends"), query).content.decode()
    assert "the first 4 of 6 values" in html and html.count("review-pending") <= 4
    response = client.get(reverse("trends_csv"), query)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 6 and {r["batch"] for r in rows} == {"NC6.4", "NC8.3", "NC10.4"}
    assert sorted(round(float(r["x"])) for r in rows) == [10, 11, 12, 100, 101, 102]
    assert {r["of_record"] for r in rows} == {"True", "False"}


def test_figure_downloads_as_svg_and_png(client, members, lab):
    client.force_login(members["viewer"])
    query = {"quantity": "integral_percent|bulk|nmr.deconvolve", "x": "age_days", "download": "1"}
    svg = client.get(reverse("trends_figure"), query)
    assert svg["Content-Type"] == "image/svg+xml" and "attachment" in svg["Content-Disposition"]
    assert b"NC6.4, pending review" in svg.content  # per-batch legend with a few batches
    png = client.get(reverse("trends_figure_png"), query)
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_many_batches_draw_without_a_legend_entry_per_batch(client, members, project):
    chemist = members["chemist"]
    for i in range(14):
        batch = make_batch(chemist, project, code=f"B{i}")
        sample = make_sample(chemist, batch, code=f"B{i}-P-AGED", ageing_started_at=batch.synthesised_at)
        _bulk_fraction(batch, sample, chemist, 5 + i, 20.0, review=ReviewState.PENDING if i % 2 else ReviewState.ACCEPTED)
    client.force_login(members["viewer"])
    svg = client.get(reverse("trends_figure"), {"quantity": "integral_percent|bulk|nmr.deconvolve"}).content
    assert b"accepted (7)" in svg and b"pending review (7)" in svg
    assert b"B13" not in svg


@pytest.mark.parametrize("x", ["age_days", "opa_concentration_molar"])
def test_summary_gives_the_counts_and_first_points_of_every_point(members, project, x):
    """trend_summary reads per-batch counts and then only the batches holding the first
    rows: the same numbers and rows as slicing quantity_points, for any cut."""
    from labtrack.insights.selectors import quantity_points, trend_summary

    chemist = members["chemist"]
    for i, code in enumerate(("NC10.4", "NC6.4", "NC8.3", "NC9", "NC11.2")):
        batch = make_batch(chemist, project, code=code, opa_concentration_molar=None if i == 3 else 0.01 * i)
        aged = make_sample(chemist, batch, code=f"{code}-P-AGED", ageing_started_at=batch.synthesised_at)
        for k in range(i + 1):  # 1 … 5 points; every third one measured "before" its ageing
            days = -20 - k if (i + k) % 3 == 0 else 10 + k
            _bulk_fraction(batch, aged, chemist, days, 15.0 + k,
                           review=ReviewState.PENDING if k % 2 else ReviewState.ACCEPTED)
    query = {"user": members["viewer"], "name": "integral_percent", "assignment": "bulk", "x": x,
             "accepted_only": False, "routine": "nmr.deconvolve"}
    every = quantity_points(**query)
    negative = [p for p in every if x == "age_days" and p.x < 0]
    assert len(every) == (15 if x == "age_days" else 11) and (x != "age_days" or len(negative) >= 3)
    for limit in (1, 2, 4, 7, 15, 50):
        summary = trend_summary(**query, limit=limit, negative_limit=2)
        assert summary.points == every[:limit]
        assert (summary.n_points, summary.n_accepted) == (len(every), sum(p.accepted for p in every))
        assert summary.negative_ages == negative[:2] and summary.n_negative_ages == len(negative)
