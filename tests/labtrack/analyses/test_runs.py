"""Run lifecycle without a worker: claim, redelivery, fencing, re-fit, sweep, audit."""
import pytest
from django.core.exceptions import ValidationError

from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.analyses.services import (run_claim, run_fail, run_refit, run_request, run_set_stage,
                                        runs_sweep_stuck)
from labtrack.core.audit import SYSTEM_USERNAME
from tests.labtrack.factories import make_batch, make_succeeded_run


@pytest.fixture
def queued_run(members, project, django_capture_on_commit_callbacks):
    batch = make_batch(members["chemist"], project)
    with django_capture_on_commit_callbacks(execute=False):
        return run_request(user=members["chemist"], measurement=None, batch=batch, routine="pl.peak", raw_files=[])


def test_request_refuses_unknown_parameter(members, project):
    batch = make_batch(members["chemist"], project)
    with pytest.raises(ValidationError) as exc:
        run_request(user=members["chemist"], measurement=None, batch=batch, routine="pl.peak",
                    raw_files=[], parameters={"no_such_param": 1})
    assert "unknown parameter" in exc.value.message_dict["parameters"][0]
    assert not AnalysisRun.objects.exists()


def test_task_is_dispatched_only_on_commit(members, project, django_capture_on_commit_callbacks):
    batch = make_batch(members["chemist"], project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_request(user=members["chemist"], measurement=None, batch=batch, routine="pl.peak", raw_files=[])
    assert len(callbacks) == 1


def test_first_message_claims_a_queued_run(queued_run):
    assert run_claim(run_id=queued_run.pk, task_id="m1") == 1
    queued_run.refresh_from_db()
    assert (queued_run.status, queued_run.attempts, queued_run.task_id) == (RunStatus.RUNNING, 1, "m1")


def test_redelivered_duplicate_from_another_message_does_nothing(queued_run):
    run_claim(run_id=queued_run.pk, task_id="m1")
    assert run_claim(run_id=queued_run.pk, task_id="m2") is None
    queued_run.refresh_from_db()
    assert queued_run.attempts == 1 and queued_run.task_id == "m1"


def test_redelivery_of_the_same_message_reclaims_after_worker_loss(queued_run):
    run_claim(run_id=queued_run.pk, task_id="m1")
    assert run_claim(run_id=queued_run.pk, task_id="m1") == 2


def test_finished_run_is_never_claimed_again(members, project):
    run = make_succeeded_run(make_batch(members["chemist"], project), members["chemist"])
    assert run_claim(run_id=run.pk, task_id="m1") is None


def test_stale_attempt_cannot_fail_or_advance_the_run(queued_run):
    run_claim(run_id=queued_run.pk, task_id="m1")
    run_claim(run_id=queued_run.pk, task_id="m1")  # attempt 2 now holds the claim
    assert not run_fail(run_id=queued_run.pk, attempt=1, error="late news")
    run_set_stage(run_id=queued_run.pk, attempt=1, stage="plotting")
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.RUNNING and queued_run.stage == "reading"


def test_poison_message_fails_after_max_attempts(queued_run, settings):
    settings.LABTRACK_RUN_MAX_ATTEMPTS = 3
    for _ in range(3):
        assert run_claim(run_id=queued_run.pk, task_id="m1") is not None
    assert run_claim(run_id=queued_run.pk, task_id="m1") is None
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.FAILED
    assert "Gave up after 3 attempts" in queued_run.error
    record = queued_run.history.first()
    assert record.history_user.username == SYSTEM_USERNAME
    assert record.history_change_reason == f"analysis run #{queued_run.pk}: failed"
    assert record.status == RunStatus.FAILED


def test_sweep_requeues_a_run_whose_worker_died(queued_run, settings, django_capture_on_commit_callbacks):
    settings.LABTRACK_RUN_DEADLINE_S = 0
    run_claim(run_id=queued_run.pk, task_id="m1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = runs_sweep_stuck()
    assert counts["redispatched"] == 1 and len(callbacks) == 1
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.QUEUED and queued_run.task_id == ""


def test_sweep_fails_a_run_out_of_attempts(queued_run, settings):
    settings.LABTRACK_RUN_DEADLINE_S = 0
    settings.LABTRACK_RUN_MAX_ATTEMPTS = 1
    run_claim(run_id=queued_run.pk, task_id="m1")
    assert runs_sweep_stuck()["failed"] == 1
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.FAILED


def test_refit_keeps_the_old_run_and_links_the_new(members, project, django_capture_on_commit_callbacks):
    old = make_succeeded_run(make_batch(members["chemist"], project), members["chemist"], routine="pl.peak")
    old.parameters = {"model": "gaussian"}
    old.save()
    with django_capture_on_commit_callbacks(execute=False):
        new = run_refit(run=old, user=members["analyst"], parameters={"model": "voigt"})
    old.refresh_from_db()
    assert old.status == RunStatus.SUCCEEDED and old.quantities.count() == 1
    assert new.supersedes == old and new.status == RunStatus.QUEUED
    assert new.parameters["model"] == "voigt" and new.requested_by == members["analyst"]
    assert list(old.superseded_by.all()) == [new]


def test_fit_error_names_the_file_as_uploaded(tmp_path):
    """A routine's complaint about its input names the upload, not the worker's temp path."""
    from analysis.result import InputError
    from analysis.synthetic.saxs import write_saxs_curve
    from labtrack import engine

    blob = write_saxs_curve(tmp_path / "blob", "NC8.3")
    with pytest.raises(InputError) as exc:
        engine.execute("saxs.size_distribution", [(str(blob), "NC8.3.dat")], {"q_min_per_nm": 50.0})
    assert str(exc.value) == "NC8.3.dat: only 0 points in the chosen q-range; at least 10 are needed"


def _age(run, *, queued_s: float, dispatched_s: float | None, dispatches: int = 1):
    from datetime import timedelta

    from django.utils import timezone

    from labtrack.analyses.models import AnalysisRun

    now = timezone.now()
    AnalysisRun.objects.filter(pk=run.pk).update(
        queued_at=now - timedelta(seconds=queued_s), dispatches=dispatches,
        dispatched_at=None if dispatched_s is None else now - timedelta(seconds=dispatched_s))


def test_sweep_leaves_a_queued_run_waiting_behind_a_backlog(queued_run, settings,
                                                            django_capture_on_commit_callbacks):
    settings.LABTRACK_RUN_DEADLINE_S = 360
    _age(queued_run, queued_s=3600, dispatched_s=100)  # sent 100 s ago: still in the queue
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert runs_sweep_stuck()["redispatched"] == 0
    assert callbacks == []


def test_sweep_resends_a_run_whose_send_failed_and_then_backs_off(queued_run, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.LABTRACK_RUN_DEADLINE_S = 360
    _age(queued_run, queued_s=60, dispatched_s=None, dispatches=0)  # the broker was down
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert runs_sweep_stuck()["redispatched"] == 1
        assert runs_sweep_stuck()["redispatched"] == 0  # a second sweep at once sends nothing more
    assert len(callbacks) == 1
    # Re-sent twice already and last sent 500 s ago: the back-off (360 s × 2) is not over.
    _age(queued_run, queued_s=3600, dispatched_s=500, dispatches=2)
    with django_capture_on_commit_callbacks(execute=False):
        assert runs_sweep_stuck()["redispatched"] == 0
    _age(queued_run, queued_s=3600, dispatched_s=800, dispatches=2)
    with django_capture_on_commit_callbacks(execute=False):
        assert runs_sweep_stuck()["redispatched"] == 1


def test_sweep_sends_at_most_its_budget(members, project, settings, django_capture_on_commit_callbacks):
    settings.LABTRACK_SWEEP_MAX_REDISPATCH = 3
    batch = make_batch(members["chemist"], project)
    with django_capture_on_commit_callbacks(execute=False):
        runs = [run_request(user=members["chemist"], measurement=None, batch=batch, routine="pl.peak", raw_files=[])
                for _ in range(5)]
    for run in runs:
        _age(run, queued_s=60, dispatched_s=None, dispatches=0)
    with django_capture_on_commit_callbacks(execute=False):
        assert runs_sweep_stuck()["redispatched"] == 3
        assert runs_sweep_stuck()["redispatched"] == 2


def test_a_sweep_deadline_below_the_hard_time_limit_is_refused_at_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "LABTRACK_RUN_DEADLINE_S": "200", "DJANGO_SETTINGS_MODULE": "labtrack.settings"}
    proc = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "LABTRACK_RUN_DEADLINE_S=200 must exceed the analysis hard time limit (300 s" in proc.stderr
