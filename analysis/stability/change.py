"""Change from the t0 baseline and significant-change flags.

A threshold is stated as the lab thinks of it ("+5 percentage points", "±3 nm",
"+20 %", "any line appearing") and turned here into a limit on the quantity itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Sequence


class ThresholdKind(str, Enum):
    INCREASE = "increase"                    # value ≥ baseline + amount
    CHANGE = "change"                        # |value − baseline| ≥ amount
    RELATIVE_INCREASE = "relative_increase"  # value ≥ baseline · (1 + amount/100)
    RELATIVE_CHANGE = "relative_change"      # |value/baseline − 1| ≥ amount/100
    APPEARS = "appears"                      # value > baseline + amount: a line absent at t0 (baseline 0)


@dataclass(frozen=True)
class Threshold:
    kind: ThresholdKind
    amount: float


@dataclass(frozen=True)
class Baseline:
    """The t0 value: the mean of the results at the first pull point, with its standard
    error (the scatter of replicates, or the reported uncertainty when that is larger)."""

    value: float
    stderr: float
    n: int


def baseline_of(values: Sequence[float], stderrs: Sequence[float | None] = ()) -> Baseline:
    """Mean of the t0 `values` and its standard error. Raises ValueError when empty."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("No result at the first pull point: the study has no baseline yet.")
    n = len(xs)
    mean = sum(xs) / n
    scatter = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1) / n) if n > 1 else 0.0
    reported = [float(s) for s in stderrs if s is not None]
    propagated = math.sqrt(sum(s * s for s in reported)) / n if reported else 0.0
    return Baseline(mean, max(scatter, propagated), n)


def change_limit(threshold: Threshold, baseline: float, direction: int = 1) -> tuple[float, bool]:
    """(limit on the value, increasing?) for `threshold` from `baseline`. For two-sided
    kinds `direction` (+1 or −1, e.g. the sign of the fitted slope) picks the side."""
    k, amount = threshold.kind, threshold.amount
    up = direction >= 0
    if k is ThresholdKind.INCREASE:
        return baseline + amount, True
    if k is ThresholdKind.RELATIVE_INCREASE:
        return baseline * (1 + amount / 100.0), True
    if k is ThresholdKind.CHANGE:
        return (baseline + amount, True) if up else (baseline - amount, False)
    if k is ThresholdKind.RELATIVE_CHANGE:
        factor = amount / 100.0
        return (baseline * (1 + factor), True) if up else (baseline * (1 - factor), False)
    return baseline + amount, True  # APPEARS


def crosses(threshold: Threshold, baseline: float, value: float) -> bool:
    """True when `value` is a significant change from `baseline` under `threshold`."""
    k, amount = threshold.kind, threshold.amount
    # A tiny tolerance so a value exactly on the limit counts as reaching it despite rounding.
    eps = 1e-9 * max(1.0, abs(baseline), abs(value))
    if k is ThresholdKind.INCREASE:
        return value - baseline >= amount - eps
    if k is ThresholdKind.RELATIVE_INCREASE:
        return baseline != 0 and (value / baseline - 1) * 100 >= amount - eps
    if k is ThresholdKind.CHANGE:
        return abs(value - baseline) >= amount - eps
    if k is ThresholdKind.RELATIVE_CHANGE:
        return baseline != 0 and abs(value / baseline - 1) * 100 >= amount - eps
    return value > baseline + amount


@dataclass(frozen=True)
class Flag:
    """A result that crossed the threshold: its index in the series, age and change."""

    index: int
    age_days: float
    value: float
    change: float
    first: bool


def significant_changes(ages_days: Sequence[float], values: Sequence[float], threshold: Threshold,
                        baseline: float) -> list[Flag]:
    """Every result (taken in order of age) that crosses `threshold` from `baseline`;
    the earliest is marked `first`, the moment the study raises its flag."""
    order = sorted(range(len(values)), key=lambda i: (ages_days[i], i))
    flags: list[Flag] = []
    for i in order:
        if crosses(threshold, baseline, float(values[i])):
            flags.append(Flag(i, float(ages_days[i]), float(values[i]), float(values[i]) - baseline, not flags))
    return flags
