"""Cross-batch and ageing views of the stored quantities (reads only).

One quantity (e.g. the 133Cs `integral_percent` of the `bulk` line, or `mean_diameter_nm`)
plotted against the sample's age at measurement, the batch's particle diameter, or a
synthesis parameter: the paper's Figure 3(d)/5(a) style plots and degradation trends.
"""
from __future__ import annotations

from dataclasses import dataclass

from labtrack.analyses.derived import batch_diameters
from labtrack.analyses.selectors import quantities_of_record
from labtrack.core.naturalsort import natural_key
from labtrack.samples.models import Batch
from labtrack.samples.permissions import visible_projects

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
    routine: str = ""
    technique: str = ""
    aged: bool = False


def quantity_choices(*, user) -> list[tuple[str, str, str]]:
    """(routine, name, assignment) with numbers in the user's projects, for the picker:
    the routine keeps SAXS and TEM diameters apart."""
    rows = (quantities_of_record(user=user, accepted_only=False).filter(value__isnull=False).order_by()
            .values_list("run__routine", "name", "assignment").distinct().order_by("run__routine", "name", "assignment"))
    return list(rows)


def quantity_points(*, user, name: str, assignment: str = "", x: str = "age_days",
                    accepted_only: bool = True, routine: str = "") -> list[Point]:
    """Every value of record of `name` (for component `assignment`, if given; from
    `routine` only, if given) in the user's projects, with its x coordinate, or every
    current candidate with `accepted_only=False`; points whose x is unknown are left out."""
    if x not in X_AXES:
        raise ValueError(f"unknown x axis {x!r}")
    quantities = quantities_of_record(user=user, accepted_only=accepted_only, name=name, assignment=assignment,
                                      routine=routine or None).filter(value__isnull=False)
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
                            accepted=run.is_of_record, routine=run.routine,
                            technique=measurement.technique if measurement else "",
                            aged=bool(measurement and measurement.sample.ageing_started_at is not None)))
    points.sort(key=lambda p: (natural_key(p.batch), natural_key(p.sample), p.x))
    return points
