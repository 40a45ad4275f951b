"""The chaos run behind `python -m bench pipeline.chaos` (issue 14): uploads through the API
while real Celery workers are killed with SIGKILL at random and the broker is restarted
(losing every queued message: it runs without persistence); the sweep runs every few
seconds as beat would. It ends when every run has ended, and counts what a lab would
notice: uploads lost or answered 5xx, runs lost (never ended) or duplicated (two automatic
fits of one measurement and routine), and the messages the sweep sent.

Run by bench/bench_chaos.py in its own process, because the broker and time limits are
read from the environment when Django starts. Needs DATABASE_URL (PostgreSQL; a throw-away
test database is created on it) and CELERY_BROKER_URL pointing at the private Redis."""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess  # nosec B404 - our own redis-server and workers
import tempfile
import time
from collections import Counter
from pathlib import Path


def _redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",  # nosec B603 B607
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,  # nosec B603 B607
                          text=True).stdout.strip() == "PONG":
            return proc
        time.sleep(0.05)
    raise RuntimeError("private redis-server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=80)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_databases, teardown_databases

    assert settings.CELERY_BROKER_URL.endswith(f":{args.redis_port}/0"), settings.CELERY_BROKER_URL
    settings.DEBUG = False
    old = setup_databases(verbosity=0, interactive=False)
    redis = _redis(args.redis_port)
    rng = random.Random(14)
    try:
        from analysis.synthetic import nmr, topspin
        from labtrack.accounts.services import token_create
        from labtrack.analyses.models import AnalysisRun, RunStatus
        from labtrack.analyses.services import runs_sweep_stuck
        from labtrack.operations.worker_process import WorkerProcess

        from bench.bench_pipeline import _lab

        users, sample = _lab()
        _, key = token_create(user=users["chemist"], name="chaos", scope="write")
        client = Client(raise_request_exception=False, HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {key}")
        tmp = Path(tempfile.mkdtemp(prefix="labtrack-chaos-"))
        spectra = []
        for i in range(8):  # a few distinct spectra, uploaded in turn (each upload is its own measurement)
            folder = topspin.write_topspin_1d(tmp / f"e{i}", nmr.cs133_spectrum("NC8.3", seed=i))
            spectra.append(topspin.zip_folder(folder, tmp / f"NC8.3_cs133_{i}.zip"))

        workers = [WorkerProcess(concurrency=1).start() for _ in range(args.workers)]
        statuses: Counter = Counter()
        measurement_ids: list[int] = []
        kills = broker_restarts = 0
        first_refusal = ""
        restart_at = {args.uploads // 3, (2 * args.uploads) // 3}
        last_sweep = time.monotonic()
        sweeps = 0
        t0 = time.monotonic()
        for i in range(args.uploads):
            path = spectra[i % len(spectra)]
            with open(path, "rb") as fh:
                response = client.post("/api/v1/measurements/", {"sample": sample.code, "technique": "nmr",
                                                                 "files": fh}, secure=True)
            statuses[response.status_code // 100 * 100] += 1
            if response.status_code == 201:
                measurement_ids.append(response.json()["id"])
            elif not first_refusal:
                first_refusal = f"{response.status_code}: {response.content[:300].decode(errors='replace')}"
            if rng.random() < 0.12:  # about one upload in eight: a worker dies mid-fit
                victim = rng.randrange(len(workers))
                workers[victim].stop(signal.SIGKILL)
                kills += 1
                workers[victim] = WorkerProcess(concurrency=1).start()
            if i in restart_at:  # the broker restarts: every queued message is gone
                redis.kill()
                redis.wait()
                broker_restarts += 1
                time.sleep(1.0)
                redis = _redis(args.redis_port)
            if time.monotonic() - last_sweep > 5:
                runs_sweep_stuck()
                sweeps += 1
                last_sweep = time.monotonic()
            time.sleep(rng.uniform(0.05, 0.4))
        uploaded_s = time.monotonic() - t0

        ids = list(AnalysisRun.objects.filter(measurement_id__in=measurement_ids).values_list("pk", flat=True))
        deadline = time.monotonic() + float(os.environ.get("CHAOS_SETTLE_TIMEOUT_S", "900"))
        while time.monotonic() < deadline:
            open_runs = AnalysisRun.objects.filter(pk__in=ids).exclude(
                status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).count()
            if not open_runs:
                break
            runs_sweep_stuck()
            sweeps += 1
            time.sleep(5)
        for w in workers:
            w.stop()

        runs = AnalysisRun.objects.filter(measurement_id__in=measurement_ids, is_automatic=True)
        per_measurement = Counter(runs.values_list("measurement_id", "routine"))
        by_status = Counter(runs.values_list("status", flat=True))
        messages = sum(runs.values_list("dispatches", flat=True))
        record = {
            "uploads": args.uploads, "workers": args.workers, "worker_kills": kills,
            "broker_restarts": broker_restarts, "http_status_classes": dict(statuses),
            "http_5xx": statuses.get(500, 0), "first_refusal": first_refusal, "measurements_created": len(measurement_ids),
            "runs": runs.count(), "runs_by_status": dict(by_status),
            "runs_lost": sum(1 for _ in runs.exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED])),
            "measurements_without_a_run": len(set(measurement_ids) - {m for m, _ in per_measurement}),
            "runs_duplicated": sum(n - 1 for n in per_measurement.values() if n > 1),
            "messages_sent": messages, "extra_messages": messages - runs.count(),
            "sweeps": sweeps, "upload_phase_s": round(uploaded_s, 1),
            "total_s": round(time.monotonic() - t0, 1),
            "failed_errors": sorted({e[:120] for e in runs.filter(status=RunStatus.FAILED).values_list("error", flat=True)}),
        }
    finally:
        redis.kill()
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0)
    Path(args.out).write_text(json.dumps(record))


if __name__ == "__main__":
    main()
