"""Writes for analysis runs: request, execute, fail, re-fit, preview, cancel, sweep.
Review decisions (accept, reject, retract) are the state machine in `review`.

Guarantees (ARCHITECTURE.md): a run row exists before its task is sent, and the task is
sent only after commit; a run's outputs are stored in one transaction, fenced by its
attempt number so a stale worker can never store a second result; nothing is overwritten.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from labtrack import engine
from labtrack.analyses.models import AnalysisRun, Quantity, QuantityKind, RunStatus, Stage
from labtrack.core.audit import acting_as, system_user
from labtrack.core.roles import Action
from labtrack.measurements.blobs import blob_input
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.permissions import require

# The task is sent by name: services do not import the tasks that call them.
EXECUTE_TASK = "labtrack.analyses.tasks.execute_run"

log = logging.getLogger(__name__)

def audit_run(run_id: int, reason: str, user=None) -> None:
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
        try:
            current_app.send_task(EXECUTE_TASK, (run.pk,), retry=True,
                                  retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
        except Exception as exc:  # broker unreachable: the sweep will re-dispatch
            log.warning("could not dispatch run %s now (%s); the sweep will retry", run.pk, exc)
            AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(dispatched_at=None)
            return
        # A message is in the broker: the sweep leaves the run alone while it may be
        # waiting behind a backlog (see runs_sweep_stuck).
        AnalysisRun.objects.filter(pk=run.pk).update(dispatched_at=timezone.now(), dispatches=F("dispatches") + 1)

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
    derived_from: list[AnalysisRun] | None = None,
) -> AnalysisRun:
    """Queue `routine` on the measurement's files (or the given ones) with `parameters`.

    Parameters are checked against the routine now, so a typo is the user's error at
    request time, not a failed run later. Instrument calibration fills parameters the
    user did not set (e.g. XRD instrument broadening).

    A derived run (`derived_from` given) is identified by a hash of its routine, source
    runs and parameters: requesting the same one twice, even at the same instant from
    two transactions, returns the one run (a unique index decides the race).
    """
    batch = batch or measurement.sample.batch
    require(user, batch.project, Action.REQUEST_ANALYSIS)
    if routine not in engine.routine_names():
        raise ValidationError({"routine": f"Unknown routine {routine!r}."})
    params = dict(parameters or {})
    if measurement is not None and measurement.instrument is not None:
        for key in engine.calibration_parameters(routine):
            if key in measurement.instrument.calibration and key not in params:
                params[key] = measurement.instrument.calibration[key]
    try:
        # Store every effective parameter, defaults included: a run says exactly how it ran.
        params = engine.json_safe(engine.check_parameters(routine, params))
    except engine.UserInputError as exc:
        raise ValidationError({"parameters": str(exc)}) from None
    if raw_files is None:
        raw_files = list(measurement.raw_files.all()) if measurement is not None else []
    key = inputs_key(routine, measurement, derived_from, params) if derived_from is not None else ""
    if key:
        existing = AnalysisRun.objects.filter(routine=routine, inputs_key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                project=batch.project, batch=batch, measurement=measurement, routine=routine,
                routine_version=engine.routine_version(routine), parameters=params,
                input_files=_inputs_of(raw_files), requested_by=user, is_automatic=automatic,
                supersedes=supersedes, inputs_key=key,
            )
            if derived_from:
                run.derived_from.set(derived_from)
            dispatch(run)
    except IntegrityError:
        if not key:
            raise
        # Another transaction created the same derived run first: that one counts.
        return AnalysisRun.objects.get(routine=routine, inputs_key=key)
    return run


def inputs_key(routine: str, measurement: Measurement | None, sources: list[AnalysisRun],
               parameters: dict[str, Any]) -> str:
    """SHA-256 naming a derived run by what it is computed from."""
    identity = {"routine": routine, "measurement": measurement.pk if measurement else None,
                "sources": sorted(r.pk for r in sources), "parameters": parameters}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def runs_request_defaults(*, measurement: Measurement, raw_files: list[RawFile], user) -> list[AnalysisRun]:
    """One run of each file's default routine (a saturation-recovery series gets nmr.t1,
    a one-pulse spectrum nmr.deconvolve, ...)."""
    runs = []
    for raw_file in raw_files:
        routine = engine.default_routine(raw_file.data_kind)
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
        audit_run(run_id, f"analysis run #{run_id}: claimed by a worker (attempt {attempt})")
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
    run = AnalysisRun.objects.get(pk=run_id)
    try:
        outcome = engine.execute(
            run.routine, _stored_inputs(run), run.parameters,
            on_stage=lambda stage: run_set_stage(run_id=run_id, attempt=attempt, stage=stage),
        )
    except engine.UserInputError as exc:
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
        locked.curve_arrays = outcome.curve_arrays
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
        quantity_kinds_record(run=locked, rows=outcome.quantities)
    return locked


def quantity_kind_technique(routine: str, measurement_technique: str | None) -> str:
    """The technique a kind is listed under: its measurement's, else the routine's prefix
    (derived runs such as nmr.layer_model)."""
    return measurement_technique or routine.split(".")[0]


def quantity_kinds_record(*, run: AnalysisRun, rows: list[dict[str, Any]]) -> None:
    """Note the numeric (name, assignment) kinds a stored run reports (models.QuantityKind)."""
    technique = quantity_kind_technique(run.routine, run.measurement.technique if run.measurement_id else None)
    kinds = {(r["name"], r.get("assignment", "")): r.get("unit", "") for r in rows if r.get("value") is not None}
    QuantityKind.objects.bulk_create(
        [QuantityKind(project_id=run.project_id, technique=technique, routine=run.routine, name=name,
                      assignment=assignment, unit=unit) for (name, assignment), unit in kinds.items()],
        ignore_conflicts=True)


def quantity_kinds_rebuild(*, project_id: int | None = None) -> int:
    """Re-derive QuantityKind rows from the stored quantities (all projects, or one):
    for data written without run_execute (imports, the scale benchmark's seed). Returns
    the number of kinds."""
    qs = Quantity.objects.filter(value__isnull=False)
    if project_id is not None:
        qs = qs.filter(run__project_id=project_id)
    rows = (qs.order_by().values_list("run__project_id", "run__routine", "run__measurement__technique", "name",
                                      "assignment", "unit").distinct())
    kinds = {}
    for project, routine, technique, name, assignment, unit in rows.iterator(chunk_size=2000):
        kinds.setdefault((project, routine, name, assignment),
                         QuantityKind(project_id=project, technique=quantity_kind_technique(routine, technique),
                                      routine=routine, name=name, assignment=assignment, unit=unit))
    QuantityKind.objects.bulk_create(list(kinds.values()), ignore_conflicts=True)
    return len(kinds)


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
    audit_run(run_id, f"analysis run #{run_id}: failed")
    return True


def result_sha256(result: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(result, sort_keys=True, default=str).encode()).hexdigest()


def _stored_inputs(run: AnalysisRun) -> list[tuple[engine.Source, str]]:
    """(local path or opener of the blob, name as uploaded) of each of the run's input
    files: on object storage the engine streams each blob into the run's temp folder."""
    return [(blob_input(f["sha256"]), f["name"]) for f in run.input_files or []]


def run_refit(*, run: AnalysisRun, user, parameters: dict[str, Any]) -> AnalysisRun:
    """A new run of the same routine on the same inputs with changed parameters; the old
    run is kept unchanged and linked through `supersedes`. It stays current (and, if
    accepted, of record) until the re-fit is accepted (see `review`)."""
    if not run.is_current:
        newest = run_newest_version(run)
        raise ValidationError({"run": f"Run #{run.pk} has been superseded by run #{newest.pk}; re-fit that one."})
    raw_files = list(RawFile.objects.filter(pk__in=[f["raw_file_id"] for f in run.input_files]))
    by_id = {f.pk: f for f in raw_files}
    ordered = [by_id[f["raw_file_id"]] for f in run.input_files if f["raw_file_id"] in by_id]
    merged = {**run.parameters, **parameters}
    return run_request(user=user, measurement=run.measurement, routine=run.routine, raw_files=ordered,
                       parameters=merged, supersedes=run, batch=run.batch)


def run_newest_version(run: AnalysisRun) -> AnalysisRun:
    """The current run at the end of `run`'s chain of versions (itself if current)."""
    node, seen = run, {run.pk}
    while not node.is_current:
        child = (AnalysisRun.objects.light().filter(supersedes=node, is_current=True).first()
                 or AnalysisRun.objects.light().filter(supersedes=node).order_by("-queued_at", "-id").first())
        if child is None or child.pk in seen:
            return node
        seen.add(child.pk)
        node = child
    return node


@dataclass
class Preview:
    """A fit computed now and saved nowhere (the re-fit form's preview)."""

    figure_svg: str
    quantities: list[dict[str, Any]]
    warnings: list[str]


def run_preview(*, run: AnalysisRun, user, parameters: dict[str, Any]) -> Preview:
    """Fit the run's stored inputs with changed parameters and return the figure and
    numbers without saving anything. ValidationError for bad parameters or input; a
    routine bug is reported as a message, not an exception."""
    require(user, run.project, Action.REQUEST_ANALYSIS)
    try:
        checked = engine.check_parameters(run.routine, {**run.parameters, **parameters})
        outcome = engine.execute(run.routine, _stored_inputs(run), checked)
    except engine.UserInputError as exc:
        raise ValidationError({"parameters": str(exc)}) from None
    except Exception as exc:  # a routine bug must not 500 the page; the message helps report it
        log.exception("preview of run %s failed", run.pk)
        raise ValidationError({"parameters": f"The routine stopped: {type(exc).__name__}: {exc}"}) from None
    return Preview(figure_svg=outcome.figure_svg, quantities=outcome.quantities,
                   warnings=list(outcome.result.get("warnings", [])))


def run_cancel(*, run: AnalysisRun, user) -> bool:
    require(user, run.project, Action.REQUEST_ANALYSIS)
    return bool(AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, stage=Stage.DONE, finished_at=timezone.now()))


# A run whose task could not be sent (broker down) is re-sent this long after it was queued.
NEVER_SENT_GRACE_S = 30


def runs_sweep_stuck() -> dict[str, int]:
    """Re-dispatch runs stuck running past the deadline (a dead worker) and queued runs
    whose message is probably lost; fail those that used up their attempts. Returns counts.

    A queued run whose message was sent is usually just waiting behind a backlog, and a
    new message would only join the same queue. The queue is first in, first out: while
    workers are taking messages, a run counts as lost only if messages sent well after its
    own (by more than one run's time limit, for messages a busy worker prefetched) were
    already taken; one sent later is waiting its turn, however long. With no message taken
    within the deadline (no worker, or all lost) a run is re-sent after the deadline and
    then with exponential back-off (deadline × 2^(sends-1)). At most
    LABTRACK_SWEEP_MAX_REDISPATCH per sweep; each re-send is claimed with a conditional
    update, so sweeps running at once never send the same run twice.
    """
    now = timezone.now()
    deadline_s = settings.LABTRACK_RUN_DEADLINE_S
    deadline = now - timedelta(seconds=deadline_s)
    max_attempts = settings.LABTRACK_RUN_MAX_ATTEMPTS
    budget = settings.LABTRACK_SWEEP_MAX_REDISPATCH
    counts = {"redispatched": 0, "failed": 0}
    stuck_running = AnalysisRun.objects.light().filter(status=RunStatus.RUNNING, started_at__lt=deadline)
    for run in stuck_running:
        if run.attempts >= max_attempts:
            if run_fail(run_id=run.pk, attempt=run.attempts, error=(
                    f"Gave up after {run.attempts} attempts: each one stopped without finishing "
                    "(worker crash, kill or time-out).")):
                counts["failed"] += 1
        elif AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
                status=RunStatus.QUEUED, stage=Stage.WAITING, queued_at=now, task_id="", dispatched_at=now):
            audit_run(run.pk, f"analysis run #{run.pk}: re-queued by the sweep after attempt {run.attempts} stalled")
            dispatch(run)
            counts["redispatched"] += 1
    never_sent = Q(dispatched_at__isnull=True, queued_at__lt=now - timedelta(seconds=min(NEVER_SENT_GRACE_S, deadline_s)))
    maybe_lost = Q(dispatched_at__lt=deadline)
    taken_up_to = _newest_message_taken(since=deadline)
    if taken_up_to is not None:
        maybe_lost &= Q(dispatched_at__lt=taken_up_to - timedelta(seconds=settings.LABTRACK_RUN_TIME_LIMIT_S))
    queued = (AnalysisRun.objects.light().filter(status=RunStatus.QUEUED)
              .filter(never_sent | maybe_lost).order_by("queued_at", "id"))
    for run in queued.iterator(chunk_size=500):
        if counts["redispatched"] >= budget:
            break
        if run.dispatched_at is not None and taken_up_to is None:
            backoff_s = deadline_s * 2 ** min(max(run.dispatches - 1, 0), 6)
            if (now - run.dispatched_at).total_seconds() < backoff_s:
                continue
        if AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED, dispatched_at=run.dispatched_at).update(
                dispatched_at=now):
            dispatch(run)
            counts["redispatched"] += 1
    return counts


def _newest_message_taken(*, since):
    """When the newest message a worker took since `since` was sent, or None if workers
    took none (the sweep's evidence that the queue moves, and how far it has got)."""
    return (AnalysisRun.objects.filter(started_at__gte=since, dispatched_at__isnull=False)
            .aggregate(newest=Max("dispatched_at"))["newest"])


def run_release(*, run_id: int, attempt: int) -> None:
    """Hand a claimed run back to the queue (a transient fault; the task will retry)."""
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt).update(
        status=RunStatus.QUEUED, stage=Stage.WAITING, task_id="")
