"""Cross-batch and ageing views of the stored quantities (reads only).

One quantity (e.g. the 133Cs `integral_percent` of the `bulk` line, or `mean_diameter_nm`)
plotted against the sample's age at measurement, the batch's particle diameter, or a
synthesis parameter: the paper's Figure 3(d)/5(a) style plots and degradation trends.

Issue 16: the points are read as plain rows (`.values_list`, only the columns drawn, one
row per point) — no model instances, no run columns beyond review state and routine — so
20,000 points cost tens of milliseconds; the picker reads the small QuantityKind table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.db import connections
from django.db.models import BooleanField, Count, ExpressionWrapper, FloatField, Func, Q, Value

from labtrack.analyses.derived import batch_diameters_with_errors
from labtrack.analyses.models import QuantityKind
from labtrack.analyses.selectors import quantities_of_record
from labtrack.core.naturalsort import natural_key
from labtrack.core.records import of_record_q
from labtrack.insights.labels import QuantityChoice, quantity_choice
from labtrack.measurements.models import Measurement
from labtrack.samples.models import Batch, sample_age_expression
from labtrack.samples.permissions import visible_projects

X_AXES = {
    "age_days": ("Sample age at measurement", "days"),
    "diameter_nm": ("Batch particle diameter (accepted SAXS, else accepted TEM, else SAXS)", "nm"),
    "opa_concentration_molar": ("OPA concentration", "M"),
    "reaction_duration_s": ("Reaction duration", "s"),
}

# What the trends page shows on first open: the paper's ageing plot (Figure 5b style).
DEFAULT_QUANTITY = ("nmr.deconvolve", "integral_percent", "bulk")


@dataclass(slots=True)
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
    x_stderr: float | None = None


def quantity_choices(*, user) -> list[QuantityChoice]:
    """Kinds of numbers in the user's projects, for the picker (technique, then label in
    natural order): the routine keeps SAXS and TEM diameters apart."""
    rows = (QuantityKind.objects.filter(project__in=visible_projects(user)).order_by()
            .values_list("technique", "routine", "name", "assignment", "unit").distinct())
    choices = {}
    for technique, routine, name, assignment, unit in rows:
        choices.setdefault((routine, name, assignment), quantity_choice(technique, routine, name, assignment, unit))
    return sorted(choices.values(), key=lambda c: (c.technique_label, natural_key(c.label), c.routine))


def default_choice(choices: list[QuantityChoice]) -> QuantityChoice | None:
    """The paper's bulk fraction when the lab has it, else the first kind listed."""
    for c in choices:
        if (c.routine, c.name, c.assignment) == DEFAULT_QUANTITY:
            return c
    return choices[0] if choices else None


_X_COLUMNS = {"opa_concentration_molar": "run__batch__opa_concentration_molar",
              "reaction_duration_s": "run__batch__reaction_duration_s"}
_COLUMNS = ("run__batch__code", "run__measurement__sample__code", "value", "stderr", "unit", "run_id",
            "of_record", "run__routine", "run__measurement__technique", "age_days", "aged", "run__batch_id")


class DurationDays(Func):
    """A database duration (an interval) as float days: 20,000 ages as floats instead of
    20,000 intervals parsed into timedeltas in Python. The age itself is the one rule of
    labtrack.samples.models.sample_age_expression."""

    output_field = FloatField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)", **extra)

    def as_sqlite(self, compiler, connection, **extra):  # Django's SQLite durations are microseconds
        return self.as_sql(compiler, connection, template="(%(expressions)s / 86400000000.0)", **extra)


def sample_age_days(prefix: str = "run__measurement__") -> DurationDays:
    """The sample's age at measurement in days, in SQL (Measurement.sample_age_days)."""
    return DurationDays(sample_age_expression(f"{prefix}sample", f"{prefix}measured_at"))


def plain_rows(rows_query) -> list[tuple]:
    """The rows of a `.values_list` query as the database driver returns them, without
    Django's per-value converters (int() on each count, float() on each age, bool() on
    each flag: ~15 ms for 10,000 rows of three, and these columns need none on
    PostgreSQL; on SQLite flags come back as 0/1)."""
    sql, params = rows_query.query.sql_with_params()
    with connections[rows_query.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@lru_cache(maxsize=65536)
def _batch_key(code: str) -> tuple:
    return natural_key(code)


def _plotted(*, user, name: str, assignment: str, accepted_only: bool, routine: str):
    return quantities_of_record(user=user, accepted_only=accepted_only, name=name, assignment=assignment,
                                routine=routine or None).filter(value__isnull=False)


def point_rows(*, user, name: str, assignment: str, x: str, accepted_only: bool, routine: str,
               batch_ids: list[int] | None = None):
    """The plotted values as plain rows (_COLUMNS, then the x column of a synthesis
    parameter), in no particular order: the one points query behind the table, the CSV,
    the figure and the chart data. The age is computed only for the age axis."""
    if x not in X_AXES:
        raise ValueError(f"unknown x axis {x!r}")
    quantities = _plotted(user=user, name=name, assignment=assignment, accepted_only=accepted_only, routine=routine)
    if batch_ids is not None:
        quantities = quantities.filter(run__batch_id__in=batch_ids)
    columns = _COLUMNS + ((_X_COLUMNS[x],) if x in _X_COLUMNS else ())
    age = sample_age_days() if x == "age_days" else Value(None, output_field=FloatField())
    return (quantities.order_by()
            .annotate(of_record=ExpressionWrapper(of_record_q("run__"), output_field=BooleanField()),
                      aged=ExpressionWrapper(Q(run__measurement__sample__ageing_started_at__isnull=False),
                                             output_field=BooleanField()),
                      age_days=age)
            .values_list(*columns))


def quantity_points(*, user, name: str, assignment: str = "", x: str = "age_days",
                    accepted_only: bool = True, routine: str = "", batch_ids: list[int] | None = None,
                    ordered: bool = True) -> list[Point]:
    """Every value of record of `name` (for component `assignment`, if given; from
    `routine` only, if given) in the user's projects, with its x coordinate, or every
    current candidate with `accepted_only=False`; points whose x is unknown are left out.
    In natural order of batch, then sample, then x (`ordered=False`: in no particular
    order). `batch_ids` narrows to those batches."""
    rows = point_rows(user=user, name=name, assignment=assignment, x=x, accepted_only=accepted_only,
                      routine=routine, batch_ids=batch_ids)
    # The same diameter the layer model uses (one rule for "the batch's size").
    diameters = _diameters(user, batch_ids) if x == "diameter_nm" else {}
    points = []
    # A plain fetch: the rows are small tuples (a server-side cursor costs round trips).
    for (batch, sample, value, stderr, unit, run_id, of_record, run_routine, technique, age_days, aged, batch_id,
         *x_column) in plain_rows(rows):
        x_stderr = None
        if x == "age_days":
            xv = age_days  # None for a derived run without a measurement
        elif x == "diameter_nm":
            xv, x_stderr = diameters.get(batch_id, (None, None, None))[:2]
        else:
            xv = x_column[0]
        if xv is None:
            continue
        points.append(Point(batch=batch, sample=sample or "", x=float(xv), value=value, stderr=stderr, unit=unit,
                            run_id=run_id, accepted=bool(of_record), routine=run_routine,
                            technique=technique or "", aged=bool(aged), x_stderr=x_stderr))
    if ordered:
        # run_id last: a pending re-fit and its accepted parent share batch, sample and x.
        points.sort(key=lambda p: (_batch_key(p.batch), _batch_key(p.sample), p.x, p.run_id))
    return points


def batch_diameters(user, batch_ids: list[int] | None = None) -> dict:
    """{batch id: (diameter, stderr, …)} by the layer model's rule, for the diameter axis."""
    return _diameters(user, batch_ids)


def _diameters(user, batch_ids: list[int] | None = None) -> dict:
    batches = Batch.objects.filter(project__in=visible_projects(user))
    if batch_ids is not None:
        batches = batches.filter(pk__in=batch_ids)
    return batch_diameters_with_errors(batches.values("pk"))


def _negative_age_measurements():
    """Ids of measurements dated before their sample's age clock started (issue 11)."""
    return (Measurement.objects.annotate(age=sample_age_expression("sample", "measured_at"))
            .filter(age__lt=timedelta(0)).values("pk"))


@dataclass
class TrendSummary:
    """What the trends page shows besides the figure: counts, the first rows of the table
    and the first points with a negative sample age (both in quantity_points' order)."""

    n_points: int
    n_accepted: int
    points: list[Point]
    negative_ages: list[Point]
    n_negative_ages: int

    @property
    def n_pending(self) -> int:
        return self.n_points - self.n_accepted


def _first_batches(rows: list[tuple], count_at: int, limit: int) -> list[int]:
    """Batch ids, in natural order of code, until their points (row[count_at]) reach
    `limit`; batches whose code sorts equal to the last one taken come too (a tie could
    interleave their points)."""
    taken: list[int] = []
    total, last_key = 0, None
    for row in rows:
        n = row[count_at]
        if not n:
            continue
        key = _batch_key(row[1])
        if total >= limit and key != last_key:
            break
        taken.append(row[0])
        total += n
        last_key = key
    return taken


def trend_summary(*, user, name: str, assignment: str = "", x: str = "age_days", accepted_only: bool = True,
                  routine: str = "", limit: int = 200, negative_limit: int = 20) -> TrendSummary:
    """The counts of `quantity_points` and its first `limit` points (and first
    `negative_limit` points with a negative age, on the age axis) without reading every
    point: one grouped query gives each batch's counts, then only the batches that hold
    the first points are read. Same points, same order as quantity_points."""
    if x not in X_AXES:
        raise ValueError(f"unknown x axis {x!r}")
    qs = _plotted(user=user, name=name, assignment=assignment, accepted_only=accepted_only, routine=routine).order_by()
    counts = {"n": Count("run_id"), "n_accepted": Count("run_id", filter=of_record_q("run__"))}
    if x == "age_days":
        # The age is known exactly when there is a measurement (its date and the sample's
        # preparation are never null), and negative for the few measurements dated before
        # their sample: counted against that small set (a hashed subplan), so the counts
        # need no join to measurements and samples (63 -> ~25 ms at 10,000 batches).
        qs = qs.filter(run__measurement__isnull=False)
        counts["n_negative"] = Count("run_id", filter=Q(run__measurement__in=_negative_age_measurements()))
    elif x in _X_COLUMNS:
        qs = qs.filter(**{f"{_X_COLUMNS[x]}__isnull": False})
    # In batch id order: batches are mostly recorded in the order of their codes, so the
    # natural sort below finds the rows nearly sorted (2 instead of 13 ms for 10,000).
    rows = plain_rows(qs.values("run__batch_id", "run__batch__code").annotate(**counts)
                      .values_list("run__batch_id", "run__batch__code", *counts).order_by("run__batch_id"))
    if x == "diameter_nm":  # points of batches without a diameter are not plotted
        known = _diameters(user, [r[0] for r in rows])
        rows = [r for r in rows if r[0] in known]
    rows.sort(key=lambda r: _batch_key(r[1]))
    query = {"user": user, "name": name, "assignment": assignment, "x": x, "accepted_only": accepted_only,
             "routine": routine}
    first = _first_batches(rows, 2, limit)
    points = quantity_points(**query, batch_ids=first)[:limit] if first else []
    negative: list[Point] = []
    n_negative = sum(r[4] for r in rows) if x == "age_days" else 0
    if n_negative:
        with_negative = _first_batches(rows, 4, negative_limit)
        negative = [p for p in quantity_points(**query, batch_ids=with_negative) if p.x < 0][:negative_limit]
    return TrendSummary(n_points=sum(r[2] for r in rows), n_accepted=sum(r[3] for r in rows), points=points,
                        negative_ages=negative, n_negative_ages=n_negative)
