"""One call for a study quantity: baseline, change from it, flags, best trend with its
band, and the time to the threshold with its ICH Q1E bound — as plain data."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from analysis.stability.change import Threshold, ThresholdKind, baseline_of, change_limit, significant_changes
from analysis.stability.fit import DAYS_PER_MONTH, MODELS, TooFewPoints, fit_best, fit_trend, time_to_limit


def _f(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def assess(ages_days: Sequence[float], values: Sequence[float], stderrs: Sequence[float | None],
           baseline_window_days: float, threshold_kind: str, threshold_amount: float,
           model: str | None = None, band_points: int = 60) -> dict[str, Any]:
    """Everything the study page shows for one quantity of one sample.

    Results at ages ≤ `baseline_window_days` make the t0 baseline (for an "appears"
    threshold with no t0 result, the baseline is 0: the line was absent). `model` forces a
    trend model, else AIC chooses among linear, sqrt and exponential. Ages in days, rates
    per month; `problem` explains a missing baseline or fit in words."""
    threshold = Threshold(ThresholdKind(threshold_kind), float(threshold_amount))
    ages = [float(a) for a in ages_days]
    out: dict[str, Any] = {"n": len(ages), "baseline": None, "changes": [], "flags": [], "fit": None,
                           "band": None, "crossing": None, "limit": None, "increasing": None, "problem": ""}
    t0 = [i for i, a in enumerate(ages) if a <= baseline_window_days]
    if t0:
        base = baseline_of([values[i] for i in t0], [stderrs[i] for i in t0])
    elif threshold.kind is ThresholdKind.APPEARS:
        base = baseline_of([0.0])
    else:
        out["problem"] = "No accepted result at t0 yet, so no baseline to measure change from."
        return out
    out["baseline"] = {"value": base.value, "stderr": base.stderr, "n": base.n}
    for a, v, s in zip(ages, values, stderrs):
        out["changes"].append({"age_days": a, "value": float(v), "change": float(v) - base.value,
                               "stderr": math.hypot(float(s or 0.0), base.stderr)})
    out["flags"] = [{"index": f.index, "age_days": f.age_days, "value": f.value, "change": f.change, "first": f.first}
                    for f in significant_changes(ages, values, threshold, base.value)]
    try:
        fit, aics = (fit_trend(ages, values, model), {}) if model else fit_best(ages, values, MODELS)
    except TooFewPoints as exc:
        out["problem"] = str(exc)
        limit, increasing = change_limit(threshold, base.value)
        out.update(limit=limit, increasing=increasing)
        return out
    direction = 1 if fit.slope_per_month_at(max(ages)) >= 0 else -1
    limit, increasing = change_limit(threshold, base.value, direction)
    # A phase that appears is flagged when it does; extrapolating a line from zeros to
    # "the first trace" would be a number without meaning.
    crossing = None if threshold.kind is ThresholdKind.APPEARS else time_to_limit(fit, limit, increasing)
    lo_ci, hi_ci = fit.slope_ci()
    out["fit"] = {"model": fit.model, "slope_per_month": fit.slope_per_month_at(max(ages)),
                  "b": fit.b, "b_ci95": [lo_ci, hi_ci], "b_stderr": fit.slope_stderr, "aic": fit.aic, "aics": aics,
                  "n": fit.n, "residual_sd": fit.s}
    span = max(max(ages), crossing.estimate_days) if crossing and crossing.estimate_days else max(ages)
    grid = np.linspace(0.0, min(span * 1.1, max(ages) + 24 * DAYS_PER_MONTH), band_points)
    lo, hi = fit.band(grid)
    out["band"] = {"age_days": grid.tolist(), "fit": fit.predict(grid).tolist(), "lower": lo.tolist(),
                   "upper": hi.tolist()}
    if crossing is not None:
        out["crossing"] = {"estimate_days": _f(crossing.estimate_days), "bound_days": _f(crossing.bound_days),
                           "extrapolated": crossing.extrapolated}
    out.update(limit=limit, increasing=increasing)
    return out
