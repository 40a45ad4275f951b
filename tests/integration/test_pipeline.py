"""The pipeline against real PostgreSQL, Redis and Celery worker processes, with faults.

Run by .ci/run (DATABASE_URL=postgresql://..., CELERY_BROKER_URL=redis://...). On the
embedded default these skip with the reason; with LABTRACK_REQUIRE_SERVICES=1 they fail.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.analyses.pipeline import Upload, measurement_upload
from tests.conftest import WorkerProcess, skip_or_fail, wait_for
from tests.labtrack.factories import make_batch, make_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _files_by_technique(tmp: Path) -> dict[str, Path]:
    """One synthetic raw file per technique, as the instruments write them."""
    from analysis.synthetic import nmr, pl, saxs, tem, topspin, xps, xrd

    one_pulse = topspin.write_topspin_1d(tmp / "cs133", nmr.cs133_spectrum("NC8.3", seed=1))
    series = topspin.write_topspin_pseudo2d(tmp / "t1", nmr.cs133_saturation_recovery("NC8.3", seed=1))
    return {
        "saxs": saxs.write_saxs_curve(tmp / "NC8.3.dat", "NC8.3", q_unit="1/A"),
        "tem": tem.write_tem_tiff(tmp / "NC8.3.tif", "NC8.3", size_px=768),
        "pl": pl.write_pl_spectrum(tmp / "NC8.3_pl.csv", "NC8.3"),
        "xrd": Path(xrd.write_xy(str(tmp / "NC8.3.xy"), xrd.powder_pattern("NC8.3", size_nm=8.3))),
        "xps": xps.write_vamas(tmp / "NC8.3.vms", "NC8.3"),
        "nmr": topspin.zip_folder(one_pulse, tmp / "NC8.3_cs133.zip"),
        "nmr-t1": topspin.zip_folder(series, tmp / "NC8.3_t1.zip"),
    }


def _upload(user, sample, technique: str, path: Path):
    with open(path, "rb") as fh:
        return measurement_upload(user=user, sample=sample, technique=technique.split("-")[0],
                                  uploads=[Upload(path.name, fh)])


def _run_of(measurement) -> AnalysisRun:
    return AnalysisRun.objects.get(measurement=measurement)


def _finished(run_ids, timeout=180.0):
    def done():
        runs = list(AnalysisRun.objects.filter(pk__in=run_ids))
        return runs if all(r.is_finished for r in runs) else None

    return wait_for(done, timeout=timeout, message=f"runs {run_ids} to finish")


@pytest.fixture
def lab(real_services, members, project):
    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC8.3", opa_concentration_molar=0.4, reaction_duration_s=300)
    return {"members": members, "batch": batch, "sample": make_sample(chemist, batch)}


def test_upload_of_each_technique_is_analysed_by_a_real_worker(lab, celery_worker_process, tmp_path):
    chemist = lab["members"]["chemist"]
    measurements = {t: _upload(chemist, lab["sample"], t, p) for t, p in _files_by_technique(tmp_path).items()}
    runs = _finished([_run_of(m).pk for m in measurements.values()], timeout=240)
    failures = {r.routine: r.error for r in runs if r.status != RunStatus.SUCCEEDED}
    assert not failures, f"{failures}\nworker log:\n{celery_worker_process.tail()}"
    expected = {
        "saxs.size_distribution": "mean_diameter_nm", "tem.particle_sizes": "mean_diameter_nm",
        "pl.peak": "peak_wavelength_nm", "xrd.scherrer": "crystallite_size_nm",
        "xps.atomic_ratios": "cs_pb", "nmr.deconvolve": "n_components", "nmr.t1": "t1_s",
    }
    assert {r.routine for r in runs} == set(expected)
    for run in runs:
        assert run.quantities.filter(name=expected[run.routine]).exists(), run.routine
        assert "<svg" in run.figure_svg and bytes(run.figure_png).startswith(b"\x89PNG")
        assert run.result["inputs"][0]["sha256"] == run.input_files[0]["sha256"]
        assert run.attempts == 1 and run.started_at <= run.finished_at
        record = run.history.filter(status=RunStatus.SUCCEEDED).first()
        assert record.history_user.username == "labtrack-system"
        assert record.history_change_reason == f"analysis run #{run.pk}"
    saxs = next(r for r in runs if r.routine == "saxs.size_distribution")
    assert saxs.quantities.get(name="mean_diameter_nm").value == pytest.approx(8.3, rel=0.03)


def _slow_tem_measurement(lab, tmp_path, name="big"):
    from analysis.synthetic import tem

    path = tem.write_tem_tiff(tmp_path / f"{name}.tif", "NC12.8", size_px=2048, seed=3)
    return _upload(lab["members"]["chemist"], lab["sample"], "tem", path)


def _wait_running(run_id: int, attempt: int) -> None:
    wait_for(lambda: AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt,
                                                stage__in=["reading", "fitting"]).exists(),
             timeout=120, interval=0.02, message=f"run {run_id} attempt {attempt} to be running")


def test_worker_killed_mid_run_completes_exactly_once_after_restart(lab, celery_worker_process, tmp_path, settings):
    run = _run_of(_slow_tem_measurement(lab, tmp_path))
    _wait_running(run.pk, 1)
    celery_worker_process.stop(signal.SIGKILL)  # the whole worker, master and child
    assert AnalysisRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    replacement = WorkerProcess().start()
    try:
        settings.LABTRACK_RUN_DEADLINE_S = 1
        time.sleep(1.5)
        from labtrack.analyses.services import runs_sweep_stuck

        assert runs_sweep_stuck()["redispatched"] == 1
        (done,) = _finished([run.pk])
    finally:
        replacement.stop()
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.attempts == 2
    assert AnalysisRun.objects.filter(measurement=run.measurement).count() == 1
    assert Quantity.objects.filter(run=done, name="mean_diameter_nm", component_label="").count() == 1


def test_input_that_kills_the_worker_every_time_fails_after_max_attempts(lab, celery_worker_process, tmp_path, settings):
    run = _run_of(_slow_tem_measurement(lab, tmp_path))
    for attempt in range(1, settings.LABTRACK_RUN_MAX_ATTEMPTS + 1):
        _wait_running(run.pk, attempt)
        for pid in celery_worker_process.child_pids():
            os.kill(pid, signal.SIGKILL)
    (failed,) = _finished([run.pk], timeout=120)
    assert failed.status == RunStatus.FAILED
    assert f"Gave up after {settings.LABTRACK_RUN_MAX_ATTEMPTS} attempts" in failed.error
    # The queue keeps moving: the same worker analyses the next file.
    from analysis.synthetic import pl

    nxt = _run_of(_upload(lab["members"]["chemist"], lab["sample"], "pl", pl.write_pl_spectrum(tmp_path / "pl.csv", "NC8.3")))
    (ok,) = _finished([nxt.pk], timeout=120)
    assert ok.status == RunStatus.SUCCEEDED, f"{ok.error}\n{celery_worker_process.tail()}"


def _redis_answers() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0


def _restart_redis(down_s: float, observed: dict) -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
    observed["was_down"] = not _redis_answers()
    time.sleep(down_s)
    os.makedirs("/var/lib/redis", exist_ok=True)
    os.makedirs("/var/log/redis", exist_ok=True)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True)
    wait_for(_redis_answers, timeout=20, message="redis to come back")


def test_redis_restart_during_50_uploads_loses_and_duplicates_nothing(lab, celery_worker_process, tmp_path, settings, client):
    if not shutil.which("redis-server"):
        skip_or_fail("redis-server is not installed here, so Redis cannot be restarted")
    from analysis.synthetic import pl
    from labtrack.analyses.services import runs_sweep_stuck

    client.force_login(lab["members"]["chemist"])
    data = pl.write_pl_spectrum(tmp_path / "pl.csv", "NC8.3").read_bytes()
    statuses, restarter, observed = [], None, {}
    for i in range(50):
        if i == 10:
            restarter = threading.Thread(target=_restart_redis, args=(3.0, observed))
            restarter.start()
        response = client.post("/api/v1/measurements/", {
            "sample": lab["sample"].code, "technique": "pl", "files": _named(data, f"pl-{i}.csv")})
        statuses.append(response.status_code)
        time.sleep(0.1)
    restarter.join()
    assert observed["was_down"], "Redis never went down: the test proved nothing"
    assert statuses == [201] * 50, statuses

    settings.LABTRACK_RUN_DEADLINE_S = 5
    measurement_ids = list(lab["sample"].measurements.values_list("pk", flat=True))
    assert len(measurement_ids) == 50

    redispatched = []

    def all_done():
        redispatched.append(runs_sweep_stuck()["redispatched"])
        done = AnalysisRun.objects.filter(measurement_id__in=measurement_ids, status=RunStatus.SUCCEEDED).count()
        return done == 50

    wait_for(all_done, timeout=300, interval=3, message="every measurement's run to succeed after the sweep")
    assert sum(redispatched) > 0, "no message was lost, so the sweep was never exercised"
    per_measurement = AnalysisRun.objects.filter(measurement_id__in=measurement_ids).values_list("measurement_id", flat=True)
    assert sorted(per_measurement) == sorted(measurement_ids), "one run per measurement, no duplicates"
    assert Quantity.objects.filter(run__measurement_id__in=measurement_ids, name="peak_wavelength_nm").count() == 50


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_two_analysts_accepting_at_once_record_one_decision(lab):
    from django.db import connection

    from labtrack.analyses.review import run_review
    from labtrack.core.errors import Conflict
    from tests.labtrack.factories import make_succeeded_run

    members = lab["members"]
    run = make_succeeded_run(lab["batch"], requested_by=members["chemist"])
    barrier = threading.Barrier(2)
    outcomes = {}

    def review(who):
        try:
            barrier.wait()
            run_review(run=AnalysisRun.objects.get(pk=run.pk), reviewer=members[who], accept=True)
            outcomes[who] = "accepted"
        except Conflict as exc:
            outcomes[who] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(who,)) for who in ("analyst", "analyst2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v == "accepted" for v in outcomes.values()) == [False, True], outcomes
    loser = next(v for v in outcomes.values() if v != "accepted")
    assert "already accepted by" in loser
    run.refresh_from_db()
    assert run.review_state == ReviewState.ACCEPTED
    assert run.history.filter(history_change_reason="accepted").count() == 1
