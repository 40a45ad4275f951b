"""The degradation table and the flag banner follow the one precision rule (two significant
figures of the error, the value to match) and name where each quantity comes from."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from labtrack.ageing import presentation, selectors
from tests.labtrack.ageing.helpers import aged_sample, make_study, result

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(members, project):
    sample = aged_sample(members["chemist"], project)
    study = make_study(members["chemist"], project, [sample])
    for days, bulk in ((0.5, 15.0), (30, 16.2), (91, 22.2)):
        result(sample, days, bulk, reviewer=members["analyst"], requested_by=members["chemist"])
    return study


def test_the_row_reads_at_the_precision_of_its_errors(study, members):
    series = selectors.study_series(user=members["viewer"], study=study)
    row = presentation.series_row(series[0])
    assert row.baseline == "15.00\u00a0±\u00a00.30\u00a0%"               # never split: a short unit stays too
    assert row.latest_change == "+7.20\u00a0±\u00a00.42 percentage points"      # 0.42 = √(0.3² + 0.3²)
    assert row.source == "NMR deconvolution · Integral (bulk)"
    fit = series[0].assessment["fit"]
    err = presentation.slope_stderr_per_month(fit)
    assert err == pytest.approx(fit["b_stderr"])                          # linear: the slope is b
    slope = row.slope.replace("\u00a0", " ")
    decimals = len(slope.split(" ± ")[1].split(" ")[0].split(".")[1])
    assert re.fullmatch(r"\+\d+\.\d+ ± \d+\.\d+ percentage points per month", slope)
    assert re.fullmatch(rf"−?\d+\.\d{{{decimals}}} to \d+\.\d{{{decimals}}}", row.slope_ci)


def test_the_page_shows_them_and_the_flag_with_its_error(study, members, client):
    client.force_login(members["viewer"])
    html = client.get(reverse("study_detail", args=[study.pk])).content.decode().replace("\u00a0", " ")
    assert "15.00 ± 0.30 %" in html and "+7.20 ± 0.42 percentage points" in html
    assert "(+7.20 ± 0.42 percentage points from t0; threshold +5 percentage points)" in html
    assert "7.2 ±" not in html.replace("7.20 ±", "")  # no other precision of the same number
    report = client.get(reverse("study_report", args=[study.pk])).content.decode().replace("\u00a0", " ")
    assert "22.20 ± 0.30 %" in report and "+7.20 ± 0.42 percentage points" in report
