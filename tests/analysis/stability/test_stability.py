"""Stability statistics on synthetic series whose truth is known."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.stability import (DAYS_PER_MONTH, Threshold, ThresholdKind, TooFewPoints, baseline_of, change_limit,
                                fit_best, fit_trend, significant_changes, time_to_limit)

# A pull schedule like a real study: 0, 1, 3, 6, 9, 12 months, three replicates each.
MONTHS = np.repeat([0, 1, 3, 6, 9, 12], 3).astype(float)
DAYS = MONTHS * DAYS_PER_MONTH


def series(seed: int, slope: float = 0.8, intercept: float = 15.0, sd: float = 0.4, shape: str = "linear"):
    rng = np.random.default_rng(seed)
    u = np.sqrt(MONTHS) if shape == "sqrt" else MONTHS
    mean = intercept * np.exp(slope * u) if shape == "exponential" else intercept + slope * u
    return mean + rng.normal(0.0, sd, MONTHS.size)


def test_linear_slope_is_per_month_and_its_ci_covers_truth():
    fit = fit_trend(DAYS, series(1), "linear")
    lo, hi = fit.slope_ci()
    assert lo < 0.8 < hi
    assert fit.b == pytest.approx(0.8, abs=0.1)
    assert fit.slope_per_month_at(100.0) == fit.b


def test_slope_ci_covers_truth_about_95_percent_of_the_time():
    covered = sum(lo < 0.8 < hi for lo, hi in (fit_trend(DAYS, series(s), "linear").slope_ci() for s in range(300)))
    assert 0.91 <= covered / 300 <= 0.99


def test_confidence_band_contains_the_true_line_at_most_ages():
    fit = fit_trend(DAYS, series(2), "linear")
    t = np.linspace(0, 12 * DAYS_PER_MONTH, 50)
    lo, hi = fit.band(t)
    truth = 15.0 + 0.8 * t / DAYS_PER_MONTH
    assert np.all(lo < hi)
    assert np.mean((lo <= truth) & (truth <= hi)) > 0.9


def test_time_to_threshold_within_ten_percent_and_bound_conservative():
    # +5 points from 15.0 at 0.8 per month: the truth is 6.25 months.
    truth_days = 5.0 / 0.8 * DAYS_PER_MONTH
    fit = fit_trend(DAYS, series(3), "linear")
    limit, increasing = change_limit(Threshold(ThresholdKind.INCREASE, 5.0), 15.0)
    crossing = time_to_limit(fit, limit, increasing)
    assert crossing.estimate_days == pytest.approx(truth_days, rel=0.10)
    assert crossing.bound_days < crossing.estimate_days
    assert crossing.bound_days <= truth_days
    assert not crossing.extrapolated


def test_bound_is_conservative_in_about_95_percent_of_studies():
    truth_days = 5.0 / 0.8 * DAYS_PER_MONTH
    safe = 0
    for seed in range(200):
        crossing = time_to_limit(fit_trend(DAYS, series(seed), "linear"), 20.0, True)
        safe += crossing.bound_days <= truth_days
    assert safe / 200 >= 0.9


def test_decreasing_quantity_crosses_its_lower_limit():
    y = series(4, slope=-0.5, intercept=10.0, sd=0.1)
    crossing = time_to_limit(fit_trend(DAYS, y, "linear"), 8.0, increasing=False)
    assert crossing.estimate_days == pytest.approx(4.0 * DAYS_PER_MONTH, rel=0.10)
    assert crossing.bound_days < crossing.estimate_days


def test_stable_series_never_reaches_the_limit():
    crossing = time_to_limit(fit_trend(DAYS, series(5, slope=0.0, sd=0.05), "linear"), 20.0, True)
    assert crossing.estimate_days is None


def test_aic_prefers_sqrt_for_diffusion_like_growth():
    best, aics = fit_best(DAYS, series(6, slope=4.0, sd=0.2, shape="sqrt"))
    assert best.model == "sqrt"
    assert set(aics) == {"linear", "sqrt", "exponential"}


def test_aic_prefers_exponential_for_multiplicative_growth():
    best, _ = fit_best(DAYS, series(7, slope=0.25, intercept=2.0, sd=0.05, shape="exponential"))
    assert best.model == "exponential"


def test_aic_keeps_linear_for_linear_data():
    picks = [fit_best(DAYS, series(s, slope=1.5, sd=0.3))[0].model for s in range(20)]
    assert picks.count("linear") >= 12


def test_exponential_needs_positive_values_but_others_still_fit():
    y = series(8, intercept=0.0, slope=0.5, sd=0.3)
    with pytest.raises(TooFewPoints, match="above zero"):
        fit_trend(DAYS, y, "exponential")
    best, aics = fit_best(DAYS, y)
    assert "exponential" not in aics and best.model in ("linear", "sqrt")


def test_too_few_points_is_a_readable_error():
    with pytest.raises(TooFewPoints, match="at least 3 results"):
        fit_trend([0.0, 30.0], [1.0, 2.0])


def test_flag_raised_at_first_crossing_only():
    ages = [0, 30, 91, 183, 274]
    values = [15.0, 16.0, 19.9, 20.1, 21.5]
    flags = significant_changes(ages, values, Threshold(ThresholdKind.INCREASE, 5.0), baseline=15.0)
    assert [f.age_days for f in flags] == [183, 274]
    assert flags[0].first and not flags[1].first
    assert flags[0].change == pytest.approx(5.1)


def test_relative_and_two_sided_thresholds():
    fwhm = Threshold(ThresholdKind.RELATIVE_INCREASE, 20.0)
    assert [f.value for f in significant_changes([0, 1, 2], [20.0, 23.9, 24.0], fwhm, 20.0)] == [24.0]
    shift = Threshold(ThresholdKind.CHANGE, 3.0)
    assert [f.value for f in significant_changes([0, 1], [512.0, 508.9], shift, 512.0)] == [508.9]
    assert change_limit(shift, 512.0, direction=-1) == (509.0, False)


def test_appearing_phase_flags_any_positive_value():
    flags = significant_changes([0, 90, 180], [0.0, 0.0, 0.8], Threshold(ThresholdKind.APPEARS, 0.0), 0.0)
    assert [f.age_days for f in flags] == [180]


def test_baseline_mean_and_error():
    b = baseline_of([15.0, 15.2, 14.8], [0.1, 0.1, 0.1])
    assert b.value == pytest.approx(15.0)
    # replicate scatter (0.2/√3) exceeds the propagated reported errors (√0.03/3)
    assert b.stderr == pytest.approx(0.2 / np.sqrt(3), rel=1e-6)
    with pytest.raises(ValueError, match="no baseline"):
        baseline_of([])


def test_assess_flags_a_phase_appearing_without_extrapolating():
    from analysis.stability import assess

    a = assess([0, 30, 91, 182], [0.0, 0.0, 0.0, 0.7], [None] * 4, 2.0, "appears", 0.0)
    assert [f["age_days"] for f in a["flags"]] == [182]
    assert a["crossing"] is None and a["fit"] is not None


def test_assess_two_sided_threshold_follows_the_trend_direction():
    from analysis.stability import assess

    # PL peak blue-shifting 0.5 nm a month from 512 nm: −3 nm at 6 months.
    ages = list(DAYS)
    values = list(512.0 - 0.5 * MONTHS + np.random.default_rng(9).normal(0, 0.05, MONTHS.size))
    a = assess(ages, values, [None] * len(ages), 2.0, "change", 3.0)
    assert a["increasing"] is False and a["limit"] == pytest.approx(509.0, abs=0.1)
    assert a["crossing"]["estimate_days"] == pytest.approx(6 * DAYS_PER_MONTH, rel=0.10)
    assert a["crossing"]["bound_days"] < a["crossing"]["estimate_days"]


def test_aicc_keeps_linear_when_too_few_points_to_compare():
    best, aics = fit_best([0, 30, 91, 182], [15.0, 15.9, 18.1, 23.5])
    assert best.model == "linear" and all(np.isinf(v) for v in aics.values())
