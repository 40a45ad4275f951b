"""Pipeline benchmarks (issue 6): upload-to-result latency and worker throughput.

They run on whatever the environment configures (PostgreSQL + Redis when DATABASE_URL and
CELERY_BROKER_URL are set, else the embedded SQLite + SQLAlchemy broker) but always in a
throw-away database and media folder, with real `celery worker` processes.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

from bench import benchmark, isolated_var_dir

# Isolate everything file-based before Django reads its settings.
_VAR = isolated_var_dir("labtrack-bench-")
if not os.environ.get("CELERY_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = f"sqla+sqlite:///{_VAR}/bench-broker.sqlite3"


@contextmanager
def bench_database():
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0)


def _lab():
    from labtrack.operations.demo import _users
    from labtrack.samples.services import batch_create, project_create, sample_create
    from labtrack.samples.models import Membership

    users = _users()
    project = project_create(name=f"bench-{time.time_ns()}")
    for role, user in users.items():
        Membership.objects.create(project=project, user=user, role=role)
    batch = batch_create(user=users["chemist"], project=project, code=f"B{time.time_ns()}")
    # Prepared before the synthetic TopSpin files' acquisition date (2023-11-14): a
    # measurement may not predate its sample.
    sample = sample_create(user=users["chemist"], batch=batch, code=f"S{time.time_ns()}", form="powder",
                           prepared_at=datetime(2023, 1, 1, tzinfo=dt_timezone.utc))
    return users, sample


def _wait(run_ids, timeout=1800.0, interval=0.02):
    from labtrack.analyses.models import AnalysisRun, RunStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = AnalysisRun.objects.filter(pk__in=run_ids).exclude(
            status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).count()
        if not pending:
            return
        time.sleep(interval)
    raise TimeoutError(f"runs not finished after {timeout} s")


def _upload_cs133(users, sample, tmp: Path, i: int):
    from analysis.synthetic import nmr, topspin
    from labtrack.analyses.pipeline import Upload, measurement_upload

    folder = topspin.write_topspin_1d(tmp / f"e{i}", nmr.cs133_spectrum("NC8.3", seed=i))
    path = topspin.zip_folder(folder, tmp / f"cs133-{i}.zip")
    with open(path, "rb") as fh:
        m = measurement_upload(user=users["chemist"], sample=sample, technique="nmr", uploads=[Upload(path.name, fh)])
    return m.runs.get().pk


@benchmark("pipeline.upload_to_result_latency", target_s=2.0)
def upload_to_result_latency() -> dict:
    """Upload a 133Cs TopSpin zip and wait for the stored fit, warm worker (median of 9)."""
    from labtrack.operations.worker_process import WorkerProcess, purge_broker

    with bench_database(), tempfile.TemporaryDirectory() as tmp:
        users, sample = _lab()
        purge_broker()
        worker = WorkerProcess(concurrency=1).start()
        try:
            _wait([_upload_cs133(users, sample, Path(tmp), 0)], timeout=120)  # warm-up: imports, first fit
            times = []
            for i in range(1, 10):
                t0 = time.perf_counter()
                run_id = _upload_cs133(users, sample, Path(tmp), i)
                _wait([run_id], timeout=120)
                times.append(time.perf_counter() - t0)
        finally:
            worker.stop()
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeat": len(times),
            "meets_target": statistics.median(times) < 2.0, "broker": os.environ["CELERY_BROKER_URL"].split(":")[0]}


def _throughput(n_runs: int, concurrency: int, users, sample, measurement) -> float:
    from labtrack.analyses.services import run_request
    from labtrack.operations.worker_process import WorkerProcess, purge_broker

    purge_broker()
    worker = WorkerProcess(concurrency=concurrency).start()
    try:
        # Let the worker's processes import the science stack before timing.
        _wait([run_request(user=users["chemist"], measurement=measurement, routine="nmr.deconvolve").pk
               for _ in range(concurrency * 2)], timeout=120)
        t0 = time.perf_counter()
        ids = [run_request(user=users["chemist"], measurement=measurement, routine="nmr.deconvolve").pk
               for _ in range(n_runs)]
        # Poll gently: the benchmark process shares the 2 cores with the workers.
        _wait(ids, interval=0.5)
        return n_runs / (time.perf_counter() - t0)
    finally:
        worker.stop()


@benchmark("pipeline.reanalyse_500_throughput")
def reanalyse_500_throughput() -> dict:
    """Re-analyse 500 133Cs measurements' worth of runs with 1 and with 2 worker processes."""
    n_runs = int(os.environ.get("BENCH_REANALYSE_N", "500"))
    with bench_database(), tempfile.TemporaryDirectory() as tmp:
        users, sample = _lab()
        from labtrack.measurements.models import Measurement

        _upload_cs133(users, sample, Path(tmp), 0)
        measurement = Measurement.objects.get(sample=sample)
        one = _throughput(n_runs, 1, users, sample, measurement)
        two = _throughput(n_runs, 2, users, sample, measurement)
    return {"runs": n_runs, "runs_per_s_1_worker": one, "runs_per_s_2_workers": two, "speedup": two / one,
            "target_speedup": 1.7, "meets_target": two / one >= 1.7,
            "broker": os.environ["CELERY_BROKER_URL"].split(":")[0]}
