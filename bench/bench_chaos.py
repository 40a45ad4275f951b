"""`pipeline.chaos` (issue 14 Done-when): uploads through the API with random worker kills
and broker restarts must end with 0 lost, 0 duplicated and 0 5xx; the sweep's message
count is reported (messages sent per run: 1 is the floor, a kill or a restart costs one
more for each run it hit). See bench/chaos_run.py for what happens.

Needs PostgreSQL (DATABASE_URL) and the `redis-server` binary: a private Redis is started
on a free port, so restarting it disturbs no one else. Set CHAOS_UPLOADS (default 80).
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess  # nosec B404 - runs our own module
import sys
import tempfile
from pathlib import Path

from bench import benchmark

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@benchmark("pipeline.chaos", repeat=1)
def chaos() -> dict:
    """Uploads with SIGKILLed workers and broker restarts: lost, duplicated, 5xx, messages."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("pipeline.chaos needs DATABASE_URL pointing at PostgreSQL")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="labtrack-chaos-var-") as var:
        env = {**os.environ, "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0", "LABTRACK_VAR_DIR": var,
               "MEDIA_ROOT": os.path.join(var, "media"),
               # Short limits so lost messages are re-sent within minutes, in the same
               # proportions as the defaults (deadline > hard limit < visibility timeout).
               "LABTRACK_RUN_SOFT_TIME_LIMIT_S": "20", "LABTRACK_RUN_DEADLINE_S": "90",
               "CELERY_VISIBILITY_TIMEOUT_S": "100",
               # A server's settings refuse to start without a real key; this run signs nothing kept.
               "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)}
        out = os.path.join(var, "chaos.json")
        subprocess.run([sys.executable, "-m", "bench.chaos_run", "--uploads", os.environ.get("CHAOS_UPLOADS", "80"),  # nosec B603
                        "--redis-port", str(port), "--out", out], cwd=REPO, env=env, check=True)
        record = json.loads(Path(out).read_text())
    record["meets_target"] = (record["http_5xx"] == 0 and record["runs_lost"] == 0 and record["runs_duplicated"] == 0
                              and record["measurements_without_a_run"] == 0
                              and record["measurements_created"] == record["uploads"])
    record["load_average_1_5_15"] = [round(v, 2) for v in os.getloadavg()]
    return record
