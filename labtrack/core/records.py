"""The rule of record: which analysis run's numbers count.

A run is *current* until an accepted newer version (a re-fit, or a derived run on newer
inputs) supersedes it. Its numbers are *of record* when it is current, succeeded and
accepted; the database allows at most one such run per (measurement, routine).
*Candidates* are what a page may show, flagged, while nothing is accepted yet: current,
succeeded and not rejected.

This is the one place the rule is written. QuerySets (`AnalysisRun.objects.of_record()`,
`Quantity.objects.of_record()`), the batch page, trends, the API, exports and the derived
runs all read it from here; lower apps (samples, measurements) use the Q builders through
reverse relations, so they need not import the analyses app.
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


def current_q(prefix: str = "") -> Q:
    """Runs not superseded (prefix e.g. "run__" when filtering quantities)."""
    return Q(**{f"{prefix}is_current": True})


def of_record_q(prefix: str = "") -> Q:
    """Runs whose numbers count: current, succeeded, accepted."""
    return current_q(prefix) & Q(**{f"{prefix}status": RunStatus.SUCCEEDED,
                                    f"{prefix}review_state": ReviewState.ACCEPTED})


def candidate_q(prefix: str = "") -> Q:
    """Runs a page may show before review (flagged as such): current, succeeded, not rejected."""
    return (current_q(prefix) & Q(**{f"{prefix}status": RunStatus.SUCCEEDED})
            & ~Q(**{f"{prefix}review_state": ReviewState.REJECTED}))


def is_of_record(run: Any) -> bool:
    """The same rule as `of_record_q`, for a run already in memory."""
    return (run.is_current and run.status == RunStatus.SUCCEEDED
            and run.review_state == ReviewState.ACCEPTED)


def is_candidate(run: Any) -> bool:
    """The same rule as `candidate_q`, for a run already in memory."""
    return run.is_current and run.status == RunStatus.SUCCEEDED and run.review_state != ReviewState.REJECTED


def record_rank(run: Any) -> tuple:
    """Order candidates for "the best available number": of record first, then the
    newest finished. Key results and the batch diameter both use it."""
    return (is_of_record(run), run.reviewed_at or run.finished_at or run.queued_at, run.pk)
