"""Cross-batch and ageing views of the stored quantities (reads only).

One quantity (e.g. the 133Cs `integral_percent` of the `bulk` line, or `mean_diameter_nm`)
plotted against the sample's age at measurement, the batch's particle diameter, or a
synthesis parameter: the paper's Figure 3(d)/5(a) style plots and degradation trends.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from labtrack.analyses.derived import batch_diameters
from labtrack.analyses.models import Quantity, ReviewState, RunStatus
from labtrack.core.permissions import visible_projects
from labtrack.samples.models import Batch

X_AXES = {
    "age_days": ("Sample age at measurement", "days"),
    "diameter_nm": ("Batch particle diameter (accepted SAXS, else accepted TEM, else SAXS)", "nm"),
    "opa_concentration_molar": ("OPA concentration", "M"),
    "reaction_duration_s": ("Reaction duration", "s"),
}


@dataclass
class Point:
    batch: str
    sample: str
    x: float
    value: float
    stderr: float | None
    unit: str
    run_id: int
    accepted: bool


def _current(quantities, *, accepted_only: bool):
    """Numbers from succeeded, unrejected, latest-version runs (a re-fit replaces its parent)."""
    quantities = quantities.filter(run__status=RunStatus.SUCCEEDED, value__isnull=False,
                                   run__superseded_by__isnull=True).exclude(run__review_state=ReviewState.REJECTED)
    if accepted_only:
        quantities = quantities.filter(run__review_state=ReviewState.ACCEPTED)
    return quantities


def quantity_choices(*, user) -> list[tuple[str, str]]:
    """(name, assignment) pairs with numbers in the user's projects, for the picker."""
    rows = (_current(Quantity.objects.filter(run__project__in=visible_projects(user)), accepted_only=False)
            .values_list("name", "assignment").distinct().order_by("name", "assignment"))
    return list(rows)


def quantity_points(*, user, name: str, assignment: str = "", x: str = "age_days",
                    accepted_only: bool = True) -> list[Point]:
    """Every current value of `name` (for component `assignment`, if given) in the user's
    projects, with its x coordinate; points whose x is unknown are left out."""
    if x not in X_AXES:
        raise ValueError(f"unknown x axis {x!r}")
    quantities = _current(Quantity.objects.filter(run__project__in=visible_projects(user), name=name),
                          accepted_only=accepted_only)
    quantities = quantities.filter(assignment=assignment) if assignment else quantities.filter(
        Q(assignment="") | Q(assignment__isnull=True))
    quantities = quantities.select_related("run__batch", "run__measurement__sample").order_by("run__batch__code", "id")
    # The same diameter the layer model uses (one rule for "the batch's size").
    diameters = (batch_diameters(Batch.objects.filter(project__in=visible_projects(user)).values("pk"))
                 if x == "diameter_nm" else {})
    points = []
    for q in quantities:
        run, measurement = q.run, q.run.measurement
        if x == "age_days":
            xv = measurement.sample_age_days if measurement else None
        elif x == "diameter_nm":
            xv = diameters[run.batch_id][0] if run.batch_id in diameters else None
        else:
            xv = getattr(run.batch, x)
        if xv is None:
            continue
        points.append(Point(batch=run.batch.code, sample=measurement.sample.code if measurement else "",
                            x=float(xv), value=q.value, stderr=q.stderr, unit=q.unit, run_id=run.pk,
                            accepted=run.review_state == ReviewState.ACCEPTED))
    return points
