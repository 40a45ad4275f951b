"""Writes for analysis runs: request, execute, fail, review, re-fit, sweep.

Guarantees (ARCHITECTURE.md): a run row exists before its task is sent, and the task is
sent only after commit; a run's outputs are stored in one transaction, fenced by its
attempt number so a stale worker can never store a second result; nothing is overwritten.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labtrack.analyses import adapters
from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus, Stage
from labtrack.core.audit import acting_as, system_user
from labtrack.core.errors import Conflict
from labtrack.core.permissions import require
from labtrack.core.roles import Action
from labtrack.measurements.models import Measurement, RawFile

log = logging.getLogger(__name__)

ACCEPT_MEANING = "Accepted: I have checked this fit against its data and approve its values for reporting."
REJECT_MEANING = "Rejected: this fit's values must not be reported."


def _audit_run(run_id: int, reason: str, user=None) -> None:
    """Record the run's current state in its history. Conditional `.update()`s (claims,
    fences) bypass simple-history's save signal, so state changes made that way are
    recorded here, attributed to `user` (the system user inside tasks) and the run."""
    run = AnalysisRun.objects.get(pk=run_id)
    AnalysisRun.history.bulk_history_create(
        [run], update=True, default_user=user or system_user(), default_change_reason=reason)


def dispatch(run: AnalysisRun) -> None:
    """Send the run's task once the current transaction commits. A broker that is down
    does not fail the user's request: the run stays queued and the sweep sends it later."""

    def send() -> None:
        from labtrack.analyses.tasks import execute_run

        try:
            execute_run.apply_async((run.pk,), retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
        except Exception as exc:  # broker unreachable: the sweep will re-dispatch
            log.warning("could not dispatch run %s now (%s); the sweep will retry", run.pk, exc)

    transaction.on_commit(send, robust=True)


def _inputs_of(raw_files: list[RawFile]) -> list[dict[str, Any]]:
    return [{"raw_file_id": f.pk, "sha256": f.sha256, "name": f.original_name, "format": f.detected_format}
            for f in raw_files]


def run_request(
    *,
    user,
    measurement: Measurement | None,
    routine: str,
    raw_files: list[RawFile] | None = None,
    parameters: dict[str, Any] | None = None,
    supersedes: AnalysisRun | None = None,
    automatic: bool = False,
    batch=None,
) -> AnalysisRun:
    """Queue `routine` on the measurement's files (or the given ones) with `parameters`.

    Parameters are checked against the routine now, so a typo is the user's error at
    request time, not a failed run later. Instrument calibration fills parameters the
    user did not set (e.g. XRD instrument broadening).
    """
    batch = batch or measurement.sample.batch
    require(user, batch.project, Action.REQUEST_ANALYSIS)
    if routine not in adapters.routine_names():
        raise ValidationError({"routine": f"Unknown routine {routine!r}."})
    params = dict(parameters or {})
    if measurement is not None and measurement.instrument is not None:
        for key in adapters.CALIBRATION_PARAMS.get(routine, ()):
            if key in measurement.instrument.calibration and key not in params:
                params[key] = measurement.instrument.calibration[key]
    try:
        # Store every effective parameter, defaults included: a run says exactly how it ran.
        params = adapters.json_safe(adapters.check_parameters(routine, params))
    except adapters.UserInputError as exc:
        raise ValidationError({"parameters": str(exc)}) from None
    if raw_files is None:
        raw_files = list(measurement.raw_files.all()) if measurement is not None else []
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            project=batch.project, batch=batch, measurement=measurement, routine=routine,
            routine_version=adapters.routine_version(routine), parameters=params,
            input_files=_inputs_of(raw_files), requested_by=user, is_automatic=automatic,
            supersedes=supersedes,
        )
        dispatch(run)
    return run


def runs_request_defaults(*, measurement: Measurement, raw_files: list[RawFile], user) -> list[AnalysisRun]:
    """One run of each file's default routine (a saturation-recovery series gets nmr.t1,
    a one-pulse spectrum nmr.deconvolve, ...)."""
    runs = []
    for raw_file in raw_files:
        routine = adapters.default_routine(raw_file.data_kind)
        if routine:
            runs.append(run_request(user=user, measurement=measurement, routine=routine,
                                    raw_files=[raw_file], automatic=True))
    return runs


def run_claim(*, run_id: int, task_id: str) -> int | None:
    """Claim a run for this task; returns the attempt number that holds the claim, or
    None when there is nothing to do (already running elsewhere, finished, cancelled).

    A queued run is claimed by any message. A running run is re-claimed only by a
    redelivery of the very message that claimed it (its worker died mid-run).
    """
    now = timezone.now()
    max_attempts = settings.LABTRACK_RUN_MAX_ATTEMPTS
    with transaction.atomic():
        claimed = AnalysisRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, stage=Stage.READING, started_at=now, attempts=F("attempts") + 1, task_id=task_id)
        if not claimed:
            claimed = AnalysisRun.objects.filter(
                pk=run_id, status=RunStatus.RUNNING, task_id=task_id, attempts__lt=max_attempts
            ).update(stage=Stage.READING, started_at=now, attempts=F("attempts") + 1)
        if not claimed:
            _fail_exhausted(run_id=run_id, task_id=task_id)
            return None
        attempt = AnalysisRun.objects.values_list("attempts", flat=True).get(pk=run_id)
        _audit_run(run_id, f"analysis run #{run_id}: claimed by a worker (attempt {attempt})")
        return attempt


def _fail_exhausted(*, run_id: int, task_id: str) -> None:
    """A message redelivered after the last allowed attempt: the input kills workers."""
    max_attempts = settings.LABTRACK_RUN_MAX_ATTEMPTS
    run_fail(run_id=run_id, attempt=None, task_id=task_id, only_if_attempts_at_least=max_attempts,
             error=f"Gave up after {max_attempts} attempts: the worker stopped (crashed or was killed) "
                   "every time it analysed this input. The file may be corrupt or too large to analyse.")


def run_set_stage(*, run_id: int, attempt: int, stage: str) -> None:
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt).update(stage=stage)


def run_execute(*, run_id: int, attempt: int) -> AnalysisRun | None:
    """Do the analysis for a claimed run and store its outputs in one transaction.
    Returns the run, or None when this attempt lost its claim meanwhile."""
    from labtrack.measurements.services import blob_full_path

    run = AnalysisRun.objects.get(pk=run_id)
    files = [(blob_full_path(f["sha256"]), f["name"]) for f in run.input_files]
    try:
        outcome = adapters.execute(
            run.routine, files, run.parameters,
            on_stage=lambda stage: run_set_stage(run_id=run_id, attempt=attempt, stage=stage),
        )
    except adapters.UserInputError as exc:
        run_fail(run_id=run_id, attempt=attempt, error=str(exc))
        return None
    run_set_stage(run_id=run_id, attempt=attempt, stage=Stage.SAVING)
    result_hash = result_sha256(outcome.result)
    with transaction.atomic(), acting_as(system_user(), f"analysis run #{run_id}"):
        locked = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if locked.status != RunStatus.RUNNING or locked.attempts != attempt:
            return None  # a newer attempt holds the claim; it will store the result
        locked.result = outcome.result
        locked.result_sha256 = result_hash
        locked.curves = outcome.curves
        locked.figure_svg = outcome.figure_svg
        locked.figure_png = outcome.figure_png
        locked.routine_version = outcome.result.get("version", locked.routine_version)
        locked.status = RunStatus.SUCCEEDED
        locked.stage = Stage.DONE
        locked.finished_at = timezone.now()
        locked.error = ""
        locked.save()
        Quantity.objects.filter(run=locked).delete()
        Quantity.objects.bulk_create(Quantity(run=locked, **row) for row in outcome.quantities)
    return locked


def run_fail(*, run_id: int, error: str, attempt: int | None, task_id: str | None = None,
             only_if_attempts_at_least: int | None = None) -> bool:
    """Mark a run failed with a readable error. Fenced like run_execute."""
    runs = AnalysisRun.objects.filter(pk=run_id, status__in=[RunStatus.RUNNING, RunStatus.QUEUED])
    if attempt is not None:
        runs = runs.filter(attempts=attempt)
    if task_id is not None:
        runs = runs.filter(task_id=task_id)
    if only_if_attempts_at_least is not None:
        runs = runs.filter(attempts__gte=only_if_attempts_at_least)
    if not runs.update(status=RunStatus.FAILED, stage=Stage.DONE, error=error[:4000], finished_at=timezone.now()):
        return False
    _audit_run(run_id, f"analysis run #{run_id}: failed")
    return True


def result_sha256(result: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(result, sort_keys=True, default=str).encode()).hexdigest()


def run_review(*, run: AnalysisRun, reviewer, accept: bool, reason: str = "") -> AnalysisRun:
    """Accept or reject a finished run. The requester may not review their own run; a
    rejection needs a reason; the first decision wins and a second is told (Conflict)."""
    require(reviewer, run.project, Action.REVIEW)
    if run.requested_by_id == reviewer.pk:
        raise PermissionDenied("A run must be reviewed by someone other than the person who requested it.")
    if not accept and not reason.strip():
        raise ValidationError({"reason": "Say why the fit is rejected."})
    if run.status != RunStatus.SUCCEEDED:
        raise ValidationError({"run": f"Run #{run.pk} has not succeeded ({run.get_status_display()}); only finished fits can be reviewed."})
    now = timezone.now()
    with transaction.atomic():
        # One conditional update decides the race: exactly one reviewer changes the row.
        updated = AnalysisRun.objects.filter(pk=run.pk, review_state=ReviewState.PENDING).update(
            review_state=ReviewState.ACCEPTED if accept else ReviewState.REJECTED,
            reviewer=reviewer, reviewed_at=now, review_reason=reason.strip(),
            review_meaning=ACCEPT_MEANING if accept else REJECT_MEANING,
            reviewed_result_sha256=run.result_sha256,
        )
        if not updated:
            current = AnalysisRun.objects.select_related("reviewer").get(pk=run.pk)
            raise Conflict(f"Run #{run.pk} was already {current.get_review_state_display().lower()} by "
                           f"{current.reviewer} at {current.reviewed_at:%Y-%m-%d %H:%M}.")
        _audit_run(run.pk, f"{'accepted' if accept else 'rejected'}{': ' + reason.strip() if reason.strip() else ''}",
                   user=reviewer)
        reviewed = AnalysisRun.objects.get(pk=run.pk)
    if accept:
        from labtrack.analyses.derived import derived_runs_request

        derived_runs_request(batch=reviewed.batch, user=reviewer)
    return reviewed


def run_refit(*, run: AnalysisRun, user, parameters: dict[str, Any]) -> AnalysisRun:
    """A new run of the same routine on the same inputs with changed parameters; the old
    run is kept unchanged and linked through `supersedes`."""
    raw_files = list(RawFile.objects.filter(pk__in=[f["raw_file_id"] for f in run.input_files]))
    by_id = {f.pk: f for f in raw_files}
    ordered = [by_id[f["raw_file_id"]] for f in run.input_files if f["raw_file_id"] in by_id]
    merged = {**run.parameters, **parameters}
    return run_request(user=user, measurement=run.measurement, routine=run.routine, raw_files=ordered,
                       parameters=merged, supersedes=run, batch=run.batch)


def run_cancel(*, run: AnalysisRun, user) -> bool:
    require(user, run.project, Action.REQUEST_ANALYSIS)
    return bool(AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, stage=Stage.DONE, finished_at=timezone.now()))


def runs_sweep_stuck() -> dict[str, int]:
    """Re-dispatch runs stuck queued or running past the deadline (a lost message, a
    dead worker); fail those that used up their attempts. Returns counts."""
    deadline = timezone.now() - timedelta(seconds=settings.LABTRACK_RUN_DEADLINE_S)
    max_attempts = settings.LABTRACK_RUN_MAX_ATTEMPTS
    counts = {"redispatched": 0, "failed": 0}
    stuck_running = AnalysisRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=deadline)
    for run in stuck_running:
        if run.attempts >= max_attempts:
            if run_fail(run_id=run.pk, attempt=run.attempts, error=(
                    f"Gave up after {run.attempts} attempts: each one stopped without finishing "
                    "(worker crash, kill or time-out).")):
                counts["failed"] += 1
        elif AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
                status=RunStatus.QUEUED, stage=Stage.WAITING, queued_at=timezone.now(), task_id=""):
            _audit_run(run.pk, f"analysis run #{run.pk}: re-queued by the sweep after attempt {run.attempts} stalled")
            dispatch(run)
            counts["redispatched"] += 1
    for run in AnalysisRun.objects.filter(status=RunStatus.QUEUED, queued_at__lt=deadline):
        if AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(queued_at=timezone.now()):
            dispatch(run)
            counts["redispatched"] += 1
    return counts


def run_release(*, run_id: int, attempt: int) -> None:
    """Hand a claimed run back to the queue (a transient fault; the task will retry)."""
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt).update(
        status=RunStatus.QUEUED, stage=Stage.WAITING, task_id="")
