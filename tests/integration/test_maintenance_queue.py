"""The sweep travels on its own queue, and a worker started as deployed consumes it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.celery import app
from tests.conftest import wait_for
from tests.labtrack.factories import make_batch, make_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_sweep_sent_to_the_maintenance_queue_is_run_by_a_worker(real_services, members, project,
                                                                    celery_worker_process, tmp_path):
    from analysis.synthetic.saxs import write_saxs_curve
    from labtrack.analyses.pipeline import Upload, measurement_upload

    assert app.amqp.router.route({}, "labtrack.analyses.tasks.sweep_stuck_runs")["queue"].name == "maintenance"
    chemist = members["chemist"]
    sample = make_sample(chemist, make_batch(chemist, project, code="NC8.3"))
    path = write_saxs_curve(tmp_path / "NC8.3.dat", "NC8.3")
    from unittest import mock

    # The upload's own message never reaches the broker (as when Redis was down at that moment).
    with mock.patch("labtrack.analyses.services.current_app.send_task", side_effect=ConnectionError("down")):
        with open(path, "rb") as fh:
            measurement = measurement_upload(user=chemist, sample=sample, technique="saxs",
                                             uploads=[Upload(path.name, fh)])
    run = AnalysisRun.objects.get(measurement=measurement)
    assert run.dispatched_at is None and run.status == RunStatus.QUEUED
    AnalysisRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    app.send_task("labtrack.analyses.tasks.sweep_stuck_runs")  # routed by name, as beat sends it
    wait_for(lambda: AnalysisRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED, timeout=120,
             message="the sweep (maintenance queue) to re-send the run and the worker to analyse it")
