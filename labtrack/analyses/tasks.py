"""Celery tasks: ids in, claim first, the work in a service (STYLE.md)."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from labtrack.analyses import services

log = logging.getLogger(__name__)

# Faults worth retrying: the database blinked. A bad file is not retried (its error is
# stored), and a crash is retried by redelivery/the sweep, bounded by max attempts.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.LABTRACK_RUN_SOFT_TIME_LIMIT_S, time_limit=settings.LABTRACK_RUN_TIME_LIMIT_S,
             autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, max_retries=5)
def execute_run(self, run_id: int) -> None:
    # A redelivered or duplicate message finds the run claimed or finished and does nothing.
    attempt = services.run_claim(run_id=run_id, task_id=self.request.id or "")
    if attempt is None:
        return
    try:
        services.run_execute(run_id=run_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        services.run_fail(run_id=run_id, attempt=attempt,
                          error=f"The analysis took longer than its {settings.LABTRACK_RUN_SOFT_TIME_LIMIT_S} s "
                                "limit and was stopped (a very large file, or a fit that did not converge).")
    except TRANSIENT:
        # Give the claim back so the retry can take it.
        services.run_release(run_id=run_id, attempt=attempt)
        raise
    except DatabaseError:
        raise
    except Exception as exc:  # a bug in a routine: store it readably, keep the worker alive
        log.exception("run %s failed", run_id)
        services.run_fail(run_id=run_id, attempt=attempt,
                          error=f"The analysis stopped with an internal error ({type(exc).__name__}: {exc}). "
                                "This is a LabTrack bug; the input file is kept unchanged.")


@shared_task(acks_late=True)
def sweep_stuck_runs() -> dict:
    return services.runs_sweep_stuck()
