"""The sweep under a backlog (issue 14): 2,000 runs queued behind one busy worker must not
turn into thousands of extra messages, and messages really lost must still be re-sent.

The broker is modelled as a FIFO list of run ids (Redis lists are one); the worker takes
messages in order through the real claim service; time moves in sweep periods.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.db.models import F

from labtrack.analyses import services
from labtrack.analyses.models import AnalysisRun, RunStatus, Stage
from tests.labtrack.factories import make_batch

START = datetime(2026, 3, 1, 9, 0, tzinfo=dt_timezone.utc)
SWEEP_PERIOD_S = 30


@pytest.fixture
def broker(monkeypatch):
    """Messages in a FIFO; `dispatch` appends and stamps the run as `services.dispatch` does."""
    queue: deque[int] = deque()
    sent = {"messages": 0}

    def dispatch(run):
        queue.append(run.pk)
        sent["messages"] += 1
        AnalysisRun.objects.filter(pk=run.pk).update(dispatched_at=services.timezone.now(),
                                                     dispatches=F("dispatches") + 1)

    monkeypatch.setattr(services, "dispatch", dispatch)
    return queue, sent


def _queue_runs(batch, user, n: int) -> list[int]:
    now = services.timezone.now()
    runs = AnalysisRun.objects.bulk_create(
        AnalysisRun(project=batch.project, batch=batch, routine="pl.peak", routine_version="1", parameters={},
                    requested_by=user, status=RunStatus.QUEUED, stage=Stage.WAITING, queued_at=now)
        for _ in range(n))
    return [r.pk for r in runs]


def _work(queue: deque[int], n: int) -> None:
    """The busy worker takes `n` messages in order; a claim that finds nothing skips."""
    for _ in range(min(n, len(queue))):
        run_id = queue.popleft()
        attempt = services.run_claim(run_id=run_id, task_id=f"task-{run_id}-{services.timezone.now():%s}")
        if attempt is not None:
            AnalysisRun.objects.filter(pk=run_id).update(status=RunStatus.SUCCEEDED, stage=Stage.DONE,
                                                         finished_at=services.timezone.now())


@pytest.mark.slow
def test_2000_runs_behind_a_busy_worker_send_under_ten_percent_extra_and_lost_ones_are_resent(
        members, project, broker, settings):
    settings.LABTRACK_RUN_DEADLINE_S = 360
    queue, sent = broker
    batch = make_batch(members["chemist"], project)
    with time_machine.travel(START, tick=False) as clock:
        run_ids = _queue_runs(batch, members["chemist"], 2000)
        for run in AnalysisRun.objects.filter(pk__in=run_ids).order_by("id"):
            services.dispatch(run)
        lost = set(run_ids[100:120])  # a broker restart dropped 20 messages early in the queue
        for run_id in lost:
            queue.remove(run_id)
        elapsed = 0
        # 15 runs per 30 s: the backlog takes over an hour, ten times the deadline.
        while AnalysisRun.objects.filter(status=RunStatus.QUEUED).exists() and elapsed < 4 * 3600:
            _work(queue, 15)
            clock.shift(timedelta(seconds=SWEEP_PERIOD_S))
            elapsed += SWEEP_PERIOD_S
            services.runs_sweep_stuck()
    statuses = set(AnalysisRun.objects.filter(pk__in=run_ids).values_list("status", flat=True))
    assert statuses == {RunStatus.SUCCEEDED}, "every run, the 20 lost ones too, ends succeeded"
    assert sent["messages"] < 2000 * 1.10, f"{sent['messages']} messages for 2,000 runs"
    assert sent["messages"] >= 2020  # the lost ones were re-sent (the count cannot be cheated)


def test_with_no_worker_taking_messages_the_sweep_still_resends_after_the_deadline(
        members, project, broker, settings):
    settings.LABTRACK_RUN_DEADLINE_S = 360
    queue, sent = broker
    batch = make_batch(members["chemist"], project)
    with time_machine.travel(START, tick=False) as clock:
        run_ids = _queue_runs(batch, members["chemist"], 5)
        for run in AnalysisRun.objects.filter(pk__in=run_ids):
            services.dispatch(run)
        queue.clear()  # every message lost, no worker running
        clock.shift(timedelta(seconds=300))
        assert services.runs_sweep_stuck()["redispatched"] == 0  # within the deadline: waiting
        clock.shift(timedelta(seconds=120))
        assert services.runs_sweep_stuck()["redispatched"] == 5
    assert sent["messages"] == 10
