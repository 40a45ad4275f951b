"""Reads for ageing studies: pull-point status (derived from measurements), the due
list, and the per-quantity degradation analysis on results of record."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from labtrack import engine
from labtrack.ageing.models import CalendarToken, PullPoint, Study, StudyQuantity
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.selectors import quantities_of_record
from labtrack.core.errors import NotFoundForUser
from labtrack.measurements.models import Measurement
from labtrack.samples.permissions import visible_projects


class Status:
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    ON_TIME = "on time"
    LATE = "late"
    MISSED = "missed"


OPEN = (Status.DUE, Status.OVERDUE)


@dataclass
class PointStatus:
    point: PullPoint
    status: str
    measurements: list[Measurement] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # technique values still to measure

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def pull_point_status(point: PullPoint, measurements: list[Measurement], now: datetime) -> PointStatus:
    """Where `point` stands at `now`, from the sample's `measurements` (any order).
    A technique is done by a measurement from the window's opening until the point is
    missed: inside the window on time, after it late. A point with no techniques is
    done by any measurement. Measurements before the window never count."""
    wanted = list(point.techniques) or [None]
    chosen: dict[Any, Measurement] = {}
    for m in sorted(measurements, key=lambda m: m.measured_at):
        if m.sample_id != point.sample_id or not (point.opens_at <= m.measured_at < point.missed_at):
            continue
        for t in wanted:
            if t not in chosen and (t is None or m.technique == t):
                chosen[t] = m
    missing = [t for t in wanted if t not in chosen]
    if not missing:
        late = any(m.measured_at > point.closes_at for m in chosen.values())
        status = Status.LATE if late else Status.ON_TIME
    elif now < point.opens_at:
        status = Status.UPCOMING
    elif now <= point.closes_at:
        status = Status.DUE
    elif now < point.missed_at:
        status = Status.OVERDUE
    else:
        status = Status.MISSED
    return PointStatus(point, status, sorted(chosen.values(), key=lambda m: m.measured_at),
                       [t for t in missing if t is not None])


def _measurements_for(points: list[PullPoint]) -> dict[int, list[Measurement]]:
    """{sample id: its measurements within any of the points' spans}, one query."""
    if not points:
        return {}
    earliest = min(p.opens_at for p in points)
    latest = max(p.missed_at for p in points)
    rows = (Measurement.objects.filter(sample_id__in={p.sample_id for p in points},
                                       measured_at__gte=earliest, measured_at__lt=latest)
            .only("id", "sample_id", "technique", "measured_at"))
    out: dict[int, list[Measurement]] = defaultdict(list)
    for m in rows:
        out[m.sample_id].append(m)
    return out


def statuses(points: list[PullPoint], now: datetime | None = None) -> list[PointStatus]:
    now = now or timezone.now()
    by_sample = _measurements_for(points)
    return [pull_point_status(p, by_sample.get(p.sample_id, []), now) for p in points]


def _points() -> QuerySet:
    return PullPoint.objects.select_related("study", "study__project", "sample", "sample__batch")


def due_pull_points(*, user=None, study: Study | None = None, now: datetime | None = None) -> list[PointStatus]:
    """Open pull points (due or overdue, not yet done), earliest first, in the user's
    projects (every project when `user` is None: the reminder task). Two queries."""
    now = now or timezone.now()
    qs = _points().filter(opens_at__lte=now, missed_at__gt=now)
    if user is not None:
        qs = qs.filter(study__project__in=visible_projects(user))
    if study is not None:
        qs = qs.filter(study=study)
    return [s for s in statuses(list(qs.order_by("due_at", "id")), now) if s.is_open]


def studies_for(*, user) -> list[Study]:
    return list(Study.objects.filter(project__in=visible_projects(user)).select_related("project")
                .prefetch_related("samples").order_by("-created_at", "name"))


def study_get(*, user, pk: int) -> Study:
    study = (Study.objects.filter(pk=pk, project__in=visible_projects(user)).select_related("project", "created_by")
             .prefetch_related(Prefetch("samples"), Prefetch("quantities", queryset=StudyQuantity.objects.order_by("id")))
             .first())
    if study is None:
        raise NotFoundForUser(f"No ageing study #{pk} in your projects.")
    return study


@dataclass
class QuantitySeries:
    """One quantity of one sample: the results of record and their assessment."""

    quantity: StudyQuantity
    sample_code: str
    points: list[dict[str, Any]]
    assessment: dict[str, Any]


def _series_rows(user, study: Study, quantities: list[StudyQuantity]) -> dict[tuple[int, int], list[dict]]:
    """{(study quantity id, sample id): [{age_days, value, stderr, run, reviewer, measured_at}]}
    from the results of record, two queries for every quantity and sample of the study."""
    samples = list(study.samples.all())
    sample_ids = [s.pk for s in samples]
    routines = {q.routine for q in quantities}
    names = {q.name for q in quantities}
    rows = (quantities_of_record(user=user, accepted_only=True)
            .filter(run__measurement__sample_id__in=sample_ids, run__routine__in=routines, name__in=names)
            .select_related("run__reviewer"))
    found: dict[tuple[int, int], dict[int, dict]] = defaultdict(dict)
    for q in rows:
        m = q.run.measurement
        for sq in quantities:
            if sq.routine != q.run.routine or sq.name != q.name or (sq.assignment or "") != (q.assignment or ""):
                continue
            if q.value is None:
                continue
            entry = found[(sq.pk, m.sample_id)].get(q.run_id)
            if entry is None:
                found[(sq.pk, m.sample_id)][q.run_id] = {
                    "age_days": m.sample_age_days, "value": float(q.value), "stderr": q.stderr,
                    "run": q.run, "reviewer": q.run.reviewer, "measured_at": m.measured_at}
            elif sq.assignment:
                # Two lines with the same assignment (a split bulk line): their fractions add.
                entry["value"] += float(q.value)
    # A component that is absent from an accepted deconvolution is 0 %: what makes
    # "Cs4PbBr6 appears" measurable before it appears.
    appears = [sq for sq in quantities if sq.assignment and sq.threshold_kind == "appears"]
    if appears:
        runs = (AnalysisRun.objects.light().of_record().filter(measurement__sample_id__in=sample_ids,
                                                              routine__in={sq.routine for sq in appears})
                .select_related("measurement__sample", "reviewer"))
        for run in runs:
            for sq in appears:
                if sq.routine == run.routine:
                    found[(sq.pk, run.measurement.sample_id)].setdefault(run.pk, {
                        "age_days": run.measurement.sample_age_days, "value": 0.0, "stderr": None, "run": run,
                        "reviewer": run.reviewer, "measured_at": run.measurement.measured_at})
    return {k: sorted(v.values(), key=lambda r: r["age_days"]) for k, v in found.items()}


def trend_models() -> tuple[str, ...]:
    """The trend models a reader may force (else AICc chooses)."""
    return engine.stability_models()


def study_series(*, user, study: Study, model: str | None = None) -> list[QuantitySeries]:
    """Per quantity and sample: its results of record (ages from Measurement.sample_age_days)
    and engine.stability_assess of them; the t0 baseline is the results inside the
    first pull point's window. `model` forces a trend model (one of trend_models())."""
    if model is not None and model not in trend_models():
        raise ValueError(f"unknown trend model {model!r}")
    quantities = list(study.quantities.all())
    samples = list(study.samples.all())
    first = study.pull_points.order_by("offset_days").values_list("offset_days", "tolerance_days").first()
    window = (first[0] + first[1]) if first else 1.0
    rows = _series_rows(user, study, quantities)
    out = []
    for sq in quantities:
        for sample in samples:
            pts = rows.get((sq.pk, sample.pk), [])
            assessment = engine.stability_assess(
                ages_days=[p["age_days"] for p in pts], values=[p["value"] for p in pts],
                stderrs=[p["stderr"] for p in pts], baseline_window_days=window,
                threshold_kind=sq.threshold_kind, threshold_amount=sq.threshold_amount, model=model)
            if not pts:
                assessment["problem"] = "No accepted result yet."
            flagged = {f["index"] for f in assessment["flags"]}
            for i, p in enumerate(pts):
                p["change"] = assessment["changes"][i] if i < len(assessment["changes"]) else None
                p["flagged"] = i in flagged
            out.append(QuantitySeries(sq, sample.code, pts, assessment))
    return out


def study_detail(*, user, pk: int, now: datetime | None = None, model: str | None = None) -> dict[str, Any]:
    """Everything the study page and report show: the study, its pull points with their
    status, the open ones, and the series per quantity and sample (trend `model` forced,
    or None for AICc's choice)."""
    study = study_get(user=user, pk=pk)
    points = statuses(list(_points().filter(study=study).order_by("sample__code_sort_key", "due_at")), now)
    series = study_series(user=user, study=study, model=model)
    flags = [(s, f) for s in series for f in s.assessment["flags"] if f["first"]]
    return {"study": study, "points": points, "open": [p for p in points if p.is_open], "series": series,
            "flags": flags, "model": model, "models": trend_models()}


def calendar_token_for(*, user) -> str:
    """The user's feed token (created on first use)."""
    return CalendarToken.objects.get_or_create(user=user)[0].token


def calendar_points(*, token: str) -> tuple[Any, list[PullPoint]]:
    """(user, pull points of their projects) for a feed token; NotFoundForUser if unknown."""
    row = CalendarToken.objects.select_related("user").filter(token=token).first()
    if row is None or not row.user.is_active:
        raise NotFoundForUser("No calendar with this address.")
    return row.user, list(_points().filter(study__project__in=visible_projects(row.user)).order_by("due_at"))


SPECTRUM_ROUTINE = "nmr.deconvolve"


def study_spectra_sample_codes(*, user, study: Study) -> list[str]:
    """Codes of the study's samples (in the study's order) that have an accepted 133Cs
    deconvolution, so have fresh-against-aged spectra to show. One query."""
    with_spectra = set(AnalysisRun.objects.visible_to(user).of_record()
                       .filter(measurement__sample__in=study.samples.all(), routine=SPECTRUM_ROUTINE)
                       .values_list("measurement__sample_id", flat=True))
    return [s.code for s in study.samples.all() if s.pk in with_spectra]


def study_spectra(*, user, study: Study, sample_code: str) -> list[dict[str, Any]]:
    """The freshest and the most aged accepted 133Cs deconvolutions of one study sample
    (the paper's Figure 3c): [{label, age_days, run_id, curves, assignments}], fresh
    first; one entry when there is one, none when there is none. Three queries."""
    sample = next((s for s in study.samples.all() if s.code.lower() == sample_code.lower()), None)
    if sample is None:
        raise NotFoundForUser(f"Sample {sample_code} is not in study {study.name}.")
    runs = list(AnalysisRun.objects.light().visible_to(user).of_record()
                .filter(measurement__sample=sample, routine=SPECTRUM_ROUTINE)
                .select_related("measurement__sample").order_by("measurement__measured_at", "id"))
    chosen = runs[:1] + runs[-1:] if len(runs) > 1 else runs
    curves = dict(AnalysisRun.objects.filter(pk__in=[r.pk for r in chosen]).values_list("id", "curves"))
    assignments: dict[int, dict[str, str]] = defaultdict(dict)
    for run_id, label, assignment in (Quantity.objects.filter(run_id__in=[r.pk for r in chosen], name="shift_ppm")
                                      .exclude(component_label="").values_list("run_id", "component_label", "assignment")):
        assignments[run_id][label] = assignment
    out = []
    for i, run in enumerate(chosen):
        age = run.measurement.sample_age_days
        out.append({"label": ("fresh" if i == 0 else "aged") + f", {age:.0f} d", "age_days": age, "run_id": run.pk,
                    "curves": (curves.get(run.pk) or {}).get("spectrum") or {}, "assignments": assignments[run.pk]})
    return out
