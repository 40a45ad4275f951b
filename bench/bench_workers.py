"""Worker scaling (issue 16 item 5): re-analysis throughput with 1, 2 and 4 worker
processes — separate `celery worker` processes (one pool process each), as on separate
machines, against the same PostgreSQL and Redis. This machine has 2 CPUs, so 4 workers
are simulated (oversubscribed): the figure shows what contention costs, not 4 machines.

The runs are 133Cs deconvolutions of one stored spectrum, requested all at once; the
clock stops when the last is stored. Set BENCH_REANALYSE_N (default 200).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench import benchmark
from bench.bench_pipeline import _lab, _upload_cs133, _wait, bench_database


def _throughput(n_runs: int, n_workers: int, users, measurement) -> dict:
    from labtrack.analyses.services import run_request
    from labtrack.operations.worker_process import WorkerProcess, purge_broker

    purge_broker()
    t_start = time.perf_counter()
    workers = [WorkerProcess(concurrency=1).start() for _ in range(n_workers)]
    try:
        # Warm every worker: each imports the science stack and fits once before timing.
        _wait([run_request(user=users["chemist"], measurement=measurement, routine="nmr.deconvolve").pk
               for _ in range(n_workers * 3)], timeout=300)
        warm_s = time.perf_counter() - t_start
        t0 = time.perf_counter()
        ids = [run_request(user=users["chemist"], measurement=measurement, routine="nmr.deconvolve").pk
               for _ in range(n_runs)]
        _wait(ids, interval=0.5)  # poll gently: this process shares the CPUs with the workers
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            w.stop()
    return {"workers": n_workers, "runs": n_runs, "seconds": round(elapsed, 2),
            "runs_per_s": round(n_runs / elapsed, 3), "start_and_warm_s": round(warm_s, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2)}


@benchmark("pipeline.worker_scaling")
def worker_scaling() -> dict:
    """Re-analysis throughput with 1, 2 and (simulated) 4 separate worker processes."""
    n_runs = int(os.environ.get("BENCH_REANALYSE_N", "200"))
    with bench_database(), tempfile.TemporaryDirectory() as tmp:
        users, sample = _lab()
        from labtrack.measurements.models import Measurement

        _upload_cs133(users, sample, Path(tmp), 0)
        measurement = Measurement.objects.get(sample=sample)
        load_before = [round(v, 2) for v in os.getloadavg()]
        results = {n: _throughput(n_runs, n, users, measurement) for n in (1, 2, 4)}
    one = results[1]["runs_per_s"]
    return {"runs": n_runs, "by_workers": results,
            "speedup_2_workers": round(results[2]["runs_per_s"] / one, 3),
            "speedup_4_workers_on_2_cpus": round(results[4]["runs_per_s"] / one, 3),
            "target_speedup_2_workers": 1.9, "meets_target": results[2]["runs_per_s"] / one >= 1.9,
            "load_average_before": load_before, "cpus": os.cpu_count(),
            "broker": os.environ["CELERY_BROKER_URL"].split(":")[0]}
