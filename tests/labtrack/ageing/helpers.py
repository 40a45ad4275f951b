"""Builders for ageing tests: a study on one sample, measurements, accepted results."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

from labtrack.ageing.services import study_create
from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample, mark_accepted

START = datetime(2026, 1, 5, 9, 0, tzinfo=dt_timezone.utc)
MONTH = 365.25 / 12
SCHEDULE = [{"label": "t0", "offset_days": 0, "tolerance_days": 2, "techniques": ["nmr"]},
            {"label": "1 month", "offset_days": 30, "tolerance_days": 3, "techniques": ["nmr"]},
            {"label": "3 months", "offset_days": 91, "tolerance_days": 5, "techniques": ["nmr", "pl"]},
            {"label": "6 months", "offset_days": 182, "tolerance_days": 7, "techniques": ["nmr"]}]


def aged_sample(user, project, code: str = "NC12.8", start: datetime = START):
    batch = make_batch(user, project, code=code)
    return make_sample(user, batch, code=f"{code}-P-AIR", prepared_at=start, ageing_started_at=start)


def make_study(user, project, samples, name: str = "Air study", quantities=("cs133_bulk_fraction",), **kw):
    return study_create(user=user, project=project, name=name, samples=samples, pull_points=kw.pop("pull_points", SCHEDULE),
                        quantities=list(quantities), atmosphere="air", **kw)


def measure(sample, days: float, technique: str = "nmr") -> Measurement:
    return Measurement.objects.create(sample=sample, technique=technique,
                                      measured_at=sample.age_started_at + timedelta(days=days))


def result(sample, days: float, bulk_percent: float, reviewer=None, requested_by=None, extra: dict | None = None):
    """A measurement at `days` with a succeeded deconvolution reporting the bulk line;
    accepted by `reviewer` when given (else pending)."""
    m = measure(sample, days)
    run = AnalysisRun.objects.create(project=sample.batch.project, batch=sample.batch, measurement=m,
                                     routine="nmr.deconvolve", routine_version="1.0.0", requested_by=requested_by,
                                     status=RunStatus.SUCCEEDED, result={}, result_sha256="ab" * 32)
    Quantity.objects.create(run=run, component_label="c2", assignment="bulk", name="integral_percent",
                            value=bulk_percent, stderr=0.3, unit="%")
    for assignment, value in (extra or {}).items():
        Quantity.objects.create(run=run, component_label="c1", assignment=assignment, name="integral_percent",
                                value=value, stderr=0.1, unit="%")
    if reviewer is not None:
        mark_accepted(run, reviewer)
    return run
