"""The study's degradation analysis reads results of record only and flags the first
crossing; its numbers are those of analysis.stability on the same series."""
from __future__ import annotations

import numpy as np
import pytest

from labtrack.ageing import selectors
from labtrack.analyses.review import run_reject
from tests.labtrack.ageing.helpers import MONTH, aged_sample, make_study, result

pytestmark = pytest.mark.django_db

# 15 % bulk at t0 growing 0.8 points a month: +5 points (the threshold) at 6.25 months.
TRUTH = {0: 15.0, 1: 15.8, 3: 17.4, 6: 19.8, 9: 22.2}
NOISE = [0.1, -0.15, 0.05, 0.35, -0.1]


@pytest.fixture
def sample(members, project):
    return aged_sample(members["chemist"], project)


@pytest.fixture
def study(members, project, sample):
    return make_study(members["chemist"], project, [sample], quantities=("cs133_bulk_fraction", "cs4pbbr6_fraction"))


def series_of(members, study, key="cs133_bulk_fraction"):
    return next(s for s in selectors.study_series(user=members["viewer"], study=study) if s.quantity.key == key)


def accepted_series(members, sample):
    for (months, value), noise in zip(TRUTH.items(), NOISE):
        result(sample, months * MONTH, value + noise, reviewer=members["analyst"], requested_by=members["chemist"])


def test_trend_slope_baseline_and_time_to_threshold(members, study, sample):
    accepted_series(members, sample)
    a = series_of(members, study).assessment
    assert a["baseline"]["value"] == pytest.approx(15.1)
    assert a["fit"]["model"] == "linear"
    lo, hi = a["fit"]["b_ci95"]
    assert lo < 0.8 < hi
    truth_days = 6.25 * MONTH
    assert a["crossing"]["estimate_days"] == pytest.approx(truth_days, rel=0.10)
    assert a["crossing"]["bound_days"] <= min(a["crossing"]["estimate_days"], truth_days)


def test_flag_raised_at_the_first_accepted_crossing(members, study, sample):
    accepted_series(members, sample)
    flags = series_of(members, study).assessment["flags"]
    # 19.8 + 0.35 at 6 months is the first value ≥ 15.1 + 5 (3 months: 17.45 is not)
    assert [round(f["age_days"] / MONTH) for f in flags] == [6, 9]
    assert flags[0]["first"] and not flags[1]["first"]


def test_pending_and_rejected_results_do_not_count(members, study, sample):
    accepted_series(members, sample)
    result(sample, 10 * MONTH, 40.0, requested_by=members["chemist"])  # pending review
    rejected = result(sample, 11 * MONTH, 45.0, requested_by=members["chemist"])
    run_reject(run=rejected, reviewer=members["analyst"], reason="bad phasing")
    s = series_of(members, study)
    assert [round(p["value"], 2) for p in s.points] == [round(v + n, 2) for v, n in zip(TRUTH.values(), NOISE)]


def test_absent_cs4pbbr6_counts_as_zero_then_flags_when_it_appears(members, study, sample):
    result(sample, 0, 15.0, reviewer=members["analyst"], requested_by=members["chemist"])
    result(sample, MONTH, 15.5, reviewer=members["analyst"], requested_by=members["chemist"])
    result(sample, 3 * MONTH, 17.0, reviewer=members["analyst"], requested_by=members["chemist"],
           extra={"Cs4PbBr6": 0.6})
    s = series_of(members, study, "cs4pbbr6_fraction")
    assert [p["value"] for p in s.points] == [0.0, 0.0, 0.6]
    assert [f["value"] for f in s.assessment["flags"]] == [0.6]
    assert s.assessment["crossing"] is None  # no extrapolation for a phase appearing


def test_two_points_give_a_baseline_but_no_trend_with_the_reason(members, study, sample):
    result(sample, 0, 15.0, reviewer=members["analyst"], requested_by=members["chemist"])
    result(sample, MONTH, 16.0, reviewer=members["analyst"], requested_by=members["chemist"])
    a = series_of(members, study).assessment
    assert a["baseline"]["value"] == 15.0 and a["fit"] is None
    assert "at least 3 results" in a["problem"]


def test_no_t0_result_says_there_is_no_baseline(members, study, sample):
    result(sample, MONTH, 16.0, reviewer=members["analyst"], requested_by=members["chemist"])
    assert "No accepted result at t0" in series_of(members, study).assessment["problem"]


def test_ages_come_from_the_sample_age_function(members, study, sample):
    run = result(sample, 45.5, 15.0, reviewer=members["analyst"], requested_by=members["chemist"])
    point = series_of(members, study).points[0]
    assert point["age_days"] == pytest.approx(run.measurement.sample_age_days) == pytest.approx(45.5)
    assert np.isfinite(point["age_days"])
