"""How a run's numbers are laid out for review: every quantity grouped by component with
its assignment (none cut), and the fit-quality figures of its result."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.core.naturalsort import natural_key

# Fit-quality figures a routine's result may report under "fit", in the order shown.
FIT_QUALITY_LABELS = {
    "reduced_chi2": "reduced χ²",
    "longest_delay_reduced_chi2": "reduced χ² (longest delay)",
    "r_squared": "R²",
    "bic": "BIC",
    "peak_snr": "peak S/N",
    "n_points": "points fitted",
}


def fit_quality(fit: Any) -> list[tuple[str, float]]:
    """[(label, value)] of the known fit-quality figures in a result's `fit` block."""
    if not isinstance(fit, dict):
        return []
    return [(label, fit[key]) for key, label in FIT_QUALITY_LABELS.items()
            if isinstance(fit.get(key), (int, float)) and not isinstance(fit.get(key), bool)]


# Within a component, where the line is and how much of it there is come first.
FIRST_NAMES = ("shift_ppm", "two_theta_deg", "position_ev", "position_deg", "integral_percent", "fraction_percent",
               "volume_percent", "t1_s", "size_nm")


@dataclass
class ComponentRows:
    """One component of a run (label, assignment) with every quantity it reports."""

    label: str
    assignment: str
    quantities: list[Quantity]


def quantity_groups(run: AnalysisRun) -> tuple[list[Quantity], list[ComponentRows]]:
    """(top-level quantities, components in natural order each with all its quantities),
    from the run's prefetched quantities: every number, none cut."""
    top, by_label = [], {}
    for q in run.quantities.all():
        if not q.component_label:
            top.append(q)
            continue
        group = by_label.setdefault(q.component_label, ComponentRows(q.component_label, q.assignment, []))
        group.assignment = group.assignment or q.assignment
        group.quantities.append(q)
    components = sorted(by_label.values(), key=lambda g: natural_key(g.label))
    for g in components:
        g.quantities.sort(key=lambda q: (FIRST_NAMES.index(q.name) if q.name in FIRST_NAMES else len(FIRST_NAMES),
                                         natural_key(q.name), q.pk))
    return top, components
