"""A study's degradation table as a chemist reads it: every number through the project's
one precision rule (labtrack.core.numbers: two significant figures of the error, the value
to match), and each study quantity named with the label its routine declares."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from labtrack.analyses import presentation
from labtrack.core.numbers import decimals_for, number_text, unit_shown, with_unit_text


@dataclass(frozen=True)
class SeriesRow:
    series: Any           # selectors.QuantitySeries
    source: str           # "133Cs deconvolution · Integral (bulk)": where the numbers come from
    baseline: str         # "15.0 ± 0.30 %"
    latest_change: str    # "+7.25 ± 0.56 percentage points"
    slope: str            # "+2.48 ± 0.43 percentage points per month"
    slope_ci: str         # "−2.9 to 7.9"


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 else text.replace("-", "−", 1)


def _unbroken(text: str) -> str:
    """'7.25 ± 0.56' never split across lines (the unit after it may wrap)."""
    return text.replace(" ± ", "\u00a0±\u00a0")


def slope_stderr_per_month(fit: dict) -> float | None:
    """The standard error of the slope shown (dy/dt at the latest age, per month). The
    slope is b times a factor fixed by the model and age (1 for linear), so its error is
    b's error times the same factor."""
    b, slope, b_err = fit.get("b"), fit.get("slope_per_month"), fit.get("b_stderr")
    if b is None or slope is None or b_err is None or not b or not math.isfinite(b_err):
        return None
    return abs(b_err * slope / b)


def _range_text(low: float, high: float, like_stderr: float | None) -> str:
    d = min(decimals_for(like_stderr), 8) if like_stderr else 3
    return f"{low:.{d}f} to {high:.{d}f}".replace("-", "−")


def series_row(series) -> SeriesRow:
    sq, a = series.quantity, series.assessment
    source = f"{presentation.routine_title(sq.routine)} · {presentation.name_label(sq.routine, sq.name)}"
    if sq.assignment:
        source += f" ({sq.assignment})"
    base = a.get("baseline")
    baseline = with_unit_text(_unbroken(number_text(base["value"], base["stderr"])), sq.unit) if base else "—"
    if len(unit_shown(sq.unit)) <= 3:     # "15.00 ± 0.30 %" on one line: a short unit stays with its number
        baseline = baseline.replace(" ", "\u00a0")
    changes = a.get("changes") or []
    if changes:
        last = changes[-1]
        latest = with_unit_text(_unbroken(_signed(number_text(last["change"], last["stderr"]), last["change"])),
                                sq.change_unit)
    else:
        latest = "—"
    fit = a.get("fit")
    slope = slope_ci = "—"
    if fit:
        err = slope_stderr_per_month(fit)
        # a change of a percentage is in percentage points: so is its rate
        unit = f"{unit_shown(sq.change_unit)} per month" if sq.change_unit else "per month"
        slope = f"{_unbroken(_signed(number_text(fit['slope_per_month'], err), fit['slope_per_month']))} {unit}"
        if fit.get("b_ci95") and fit.get("b"):
            # the same factor maps b's interval onto the slope's (1 for the linear model)
            factor = fit["slope_per_month"] / fit["b"]
            slope_ci = _range_text(*sorted(v * factor for v in fit["b_ci95"]), err)
    return SeriesRow(series, source, baseline, latest, slope, slope_ci)


def flag_change_text(series, flag: dict) -> str:
    """'+7.25 ± 0.56 percentage points': the flagged result's change from t0 with its error."""
    changes = series.assessment.get("changes") or []
    change = changes[flag["index"]] if flag["index"] < len(changes) else {"change": flag["change"], "stderr": None}
    return with_unit_text(_signed(number_text(change["change"], change["stderr"]), change["change"]),
                          series.quantity.change_unit)
