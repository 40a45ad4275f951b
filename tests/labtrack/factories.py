"""Small builders for rows the tests need (no analysis run required)."""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.samples.services import batch_create, sample_create


def make_batch(user, project, code: str = "NC8.3", **fields):
    return batch_create(user=user, project=project, code=code, **fields)


# Synthetic instrument files carry acquisition dates from 2023 on, and a measurement may
# not predate its sample (measurements.services.check_sample_age): test samples are made
# before them unless a test says otherwise.
SAMPLE_PREPARED_AT = datetime(2023, 1, 1, tzinfo=dt_timezone.utc)


def make_sample(user, batch, code: str | None = None, form: str = "powder", **fields):
    fields.setdefault("prepared_at", SAMPLE_PREPARED_AT)
    return sample_create(user=user, batch=batch, code=code or f"{batch.code}-P", form=form, **fields)


def make_succeeded_run(batch, requested_by, routine: str = "saxs.size_distribution", value: float = 8.3):
    """A finished run as a worker would leave it, with one quantity."""
    result = {"routine": routine, "version": "1.0.0", "quantities": {
        "mean_diameter_nm": {"value": value, "stderr": 0.1, "unit": "nm"}}, "components": []}
    run = AnalysisRun.objects.create(
        project=batch.project, batch=batch, routine=routine, routine_version="1.0.0",
        requested_by=requested_by, status=RunStatus.SUCCEEDED, result=result, result_sha256="ab" * 32)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.1, unit="nm")
    return run


def mark_accepted(run, reviewer):
    """Test shortcut past the review service (its rules are tested on their own); the
    database constraints still apply, so a reviewer is set."""
    from django.utils import timezone

    from labtrack.analyses.models import AnalysisRun, ReviewState

    AnalysisRun.objects.filter(pk=run.pk).update(review_state=ReviewState.ACCEPTED, reviewer=reviewer,
                                                 reviewed_at=timezone.now())
    run.refresh_from_db()
    return run


def measurement_counts_wrong() -> dict[str, tuple[int, int]]:
    """{batch code: (Batch.measurement_count, measurements really counted)} for every batch
    whose kept count is wrong; {} when all are right."""
    from django.db.models import Count

    from labtrack.samples.models import Batch

    return {b.code: (b.measurement_count, b.real) for b in Batch.objects.annotate(real=Count("samples__measurements"))
            if b.measurement_count != b.real}
