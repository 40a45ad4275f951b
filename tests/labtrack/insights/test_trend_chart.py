"""The trends chart's data (issue 16): /trends/data.json carries every plotted point as
compact arrays — the same points, x, values, errors and review states as the table and
CSV (quantity_points) — one series per colour and review state, accepted before pending
(pending rings are drawn on top); the server figure draws pending above accepted too."""
import json
import re

import pytest
from django.urls import reverse

from labtrack.analyses.models import ReviewState
from labtrack.insights.selectors import quantity_points
from labtrack.insights.trend_data import trend_arrays
from tests.labtrack.factories import make_batch, make_sample
from tests.labtrack.insights.test_trends_scale import _bulk_fraction

BULK = {"quantity": "integral_percent|bulk|nmr.deconvolve", "x": "age_days", "accepted": "0"}


@pytest.fixture
def lab(members, project):
    chemist = members["chemist"]
    for i, code in enumerate(("NC10.4", "NC6.4", "NC8.3")):
        batch = make_batch(chemist, project, code=code, opa_concentration_molar=0.01 * (i + 1))
        aged = make_sample(chemist, batch, code=f"{code}-P-AGED", ageing_started_at=batch.synthesised_at)
        _bulk_fraction(batch, aged, chemist, 10.25 + i, 15.123456 + i)
        _bulk_fraction(batch, aged, chemist, 100 + i, 25.0 + i, review=ReviewState.PENDING)


def _points_of(data: dict) -> set[tuple]:
    out = set()
    for s in data["series"]:
        for k in range(len(s["x"])):
            out.add((s["run"][k], data["batches"][s["batch"][k]], data["samples"][s["sample"][k]], s["x"][k],
                     s["y"][k], s["yerr"][k] if s["yerr"] else None, s["state"] == "accepted"))
    return out


def test_data_json_has_every_point_of_the_table_rounded_for_plotting(client, members, lab):
    client.force_login(members["viewer"])
    response = client.get(reverse("trends_data"), BULK)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert (data["n_points"], data["n_accepted"], data["unit"]) == (6, 3, "%")
    assert data["x_label"] == "Sample age at measurement (days)" and data["y_label"] == "Integral — bulk (%)"
    points = quantity_points(user=members["viewer"], name="integral_percent", assignment="bulk",
                             routine="nmr.deconvolve", accepted_only=False)
    # Rounded to 6 significant figures of the largest x and 5 of the largest value.
    expected = {(p.run_id, p.batch, p.sample, round(p.x, 3), round(p.value, 3), p.stderr, p.accepted) for p in points}
    assert _points_of(data) == expected
    assert any(str(v) == "15.123" for s in data["series"] for v in s["y"])


def test_an_unchanged_chart_is_not_sent_again_and_a_review_changes_its_tag(client, members, lab):
    from labtrack.analyses.models import AnalysisRun
    from labtrack.analyses.review import run_review

    client.force_login(members["viewer"])
    first = client.get(reverse("trends_data"), BULK)
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache" and etag.startswith('"')
    again = client.get(reverse("trends_data"), BULK, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    run_review(run=AnalysisRun.objects.filter(review_state=ReviewState.PENDING).first(), reviewer=members["analyst"],
               accept=True)
    after = client.get(reverse("trends_data"), BULK, HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after["ETag"] != etag and json.loads(after.content)["n_accepted"] == 4


def test_few_batches_are_a_series_each_with_pending_after_accepted(client, members, lab):
    client.force_login(members["viewer"])
    data = json.loads(client.get(reverse("trends_data"), BULK).content)
    labels = [s["label"] for s in data["series"]]
    assert labels == ["NC6.4", "NC8.3", "NC10.4", "NC6.4, pending review", "NC8.3, pending review",
                      "NC10.4, pending review"]
    assert [s["state"] for s in data["series"]] == ["accepted"] * 3 + ["pending"] * 3
    assert data["per_batch"] and data["join_samples"]


def test_many_batches_are_one_series_per_review_state(client, members, project):
    chemist = members["chemist"]
    for i in range(14):
        batch = make_batch(chemist, project, code=f"B{i}")
        sample = make_sample(chemist, batch, code=f"B{i}-P-AGED", ageing_started_at=batch.synthesised_at)
        review = ReviewState.PENDING if i % 2 else ReviewState.ACCEPTED
        _bulk_fraction(batch, sample, chemist, 1, 20.0 + i, review=review)
    client.force_login(members["viewer"])
    data = json.loads(client.get(reverse("trends_data"), BULK).content)
    assert [(s["label"], s["state"], len(s["x"])) for s in data["series"]] == [
        ("accepted (7)", "accepted", 7), ("pending review (7)", "pending", 7)]
    assert not data["per_batch"] and data["groups"] == [""]


@pytest.mark.parametrize("x", ["age_days", "opa_concentration_molar"])
def test_arrays_are_the_points_of_quantity_points(members, lab, x):
    query = {"user": members["viewer"], "name": "integral_percent", "assignment": "bulk", "x": x,
             "accepted_only": False, "routine": "nmr.deconvolve"}
    arrays = trend_arrays(**query)
    got = sorted(zip(arrays.run.tolist(), arrays.x.tolist(), arrays.y.tolist(), arrays.accepted.tolist(),
                     [arrays.batches[b] for b in arrays.batch]))
    assert got == sorted((p.run_id, p.x, p.value, p.accepted, p.batch) for p in quantity_points(**query))
    accepted_only = trend_arrays(**{**query, "accepted_only": True})
    assert len(accepted_only) == 3 and accepted_only.accepted.all()


def test_unknown_quantity_is_an_empty_chart_not_an_error(client, members, lab):
    client.force_login(members["viewer"])
    response = client.get(reverse("trends_data"), {"quantity": "no_such_thing||", "x": "nonsense"})
    data = json.loads(response.content)
    assert response.status_code == 200 and data["n_points"] == 0 and data["series"] == []
    assert data["x_label"].startswith("Sample age")  # an unknown axis falls back to the default


def test_other_projects_points_are_not_sent(client, lab, make_user):
    client.force_login(make_user("outsider"))
    assert json.loads(client.get(reverse("trends_data"), BULK).content)["n_points"] == 0


def test_page_draws_the_chart_from_the_data_url_and_keeps_downloads(client, members, lab):
    client.force_login(members["viewer"])
    html = client.get(reverse("trends"), BULK).content.decode()
    assert 'data-trend-plot data-data-url="/trends/data.json?' in html
    assert "labtrack/js/trends.js" in html and "<script>" not in html  # CSP: no inline script
    assert re.search(r'href="/trends/figure.svg\?[^"]*download=1"', html)
    assert re.search(r'href="/trends/figure.png\?[^"]*download=1"', html)


@pytest.mark.parametrize("n_batches", [3, 14])
def test_server_figure_draws_pending_above_accepted(members, project, n_batches):
    """Open (pending) markers have a higher z-order than every filled (accepted) one, with
    a few batches (vector markers) and with many (markers rasterised below the grid): a
    pending fit at the same place as an accepted one is drawn on top, never hidden."""
    from labtrack.web.views import trends_figure

    chemist = members["chemist"]
    for i in range(n_batches):
        batch = make_batch(chemist, project, code=f"B{i}")
        sample = make_sample(chemist, batch, code=f"B{i}-P", ageing_started_at=batch.synthesised_at)
        _bulk_fraction(batch, sample, chemist, 1, 20.0)
        _bulk_fraction(batch, sample, chemist, 1, 20.0, review=ReviewState.PENDING)  # same place
    arrays = trend_arrays(user=members["viewer"], name="integral_percent", assignment="bulk", routine="nmr.deconvolve",
                          accepted_only=False)
    query = {"name": "integral_percent", "assignment": "bulk", "routine": "nmr.deconvolve", "x": "age_days"}
    ax = trends_figure.trend_matplotlib_figure(arrays, query).axes[0]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    filled = [m.get_zorder() for m in markers if m.get_markerfacecolor() != "none"]
    open_ = [m.get_zorder() for m in markers if m.get_markerfacecolor() == "none"]
    assert sum(len(m.get_xdata()) for m in markers) == 2 * n_batches and filled and open_
    assert max(filled) < min(open_)
    assert trends_figure.trend_figure(arrays, query, "png").startswith(b"\x89PNG")
