"""A real `celery worker` subprocess on the current (test or benchmark) database.

Used by the integration tests, the browser tests and the pipeline benchmarks: they all
need a worker that reads and writes the same database and broker as the calling process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def database_url_for_tests() -> str:
    """The URL of the database the test run is using (the test database, not the real one)."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = f"{auth}@" if auth else ""
    host += s.get("HOST") or "localhost"
    if s.get("PORT"):
        host += f":{s['PORT']}"
    return f"postgresql://{host}/{s['NAME']}"


def _worker_secret_key(settings) -> str:
    """The caller's SECRET_KEY if a non-debug server would accept it, else a random one."""
    import secrets

    from django.core.exceptions import ImproperlyConfigured

    from labtrack.settings import check_secret_key

    debug = os.environ.get("DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        check_secret_key(settings.SECRET_KEY, debug=debug, testing=False)
        return settings.SECRET_KEY
    except ImproperlyConfigured:
        return secrets.token_urlsafe(50)


class WorkerProcess:
    """A real `celery worker` subprocess on the test database and broker."""

    def __init__(self, concurrency: int = 1, extra_env: dict | None = None):
        from django.conf import settings

        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_for_tests(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LABTRACK_VAR_DIR": str(settings.VAR_DIR),
            **(extra_env or {}),
        }
        self.env.pop("PYTEST_VERSION", None)
        # Outside pytest the worker's settings refuse a weak SECRET_KEY when DEBUG is off (as a
        # server should); a test run's key is the embedded one or CI's short one. The worker
        # signs nothing the web process reads, so a throw-away strong key is enough then.
        self.env["SECRET_KEY"] = _worker_secret_key(settings)
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(settings.VAR_DIR) / f"worker-{os.getpid()}-{time.time_ns()}.log"

    def start(self) -> "WorkerProcess":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "labtrack", "worker", "--loglevel=INFO",
             f"--concurrency={self.concurrency}", "--pool=prefork", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"test-{os.getpid()}-{time.time_ns()}@%h"],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def purge_broker() -> None:
    """Drop every message waiting on the queues LabTrack declares (fits, maintenance,
    integrity), so a test or bench starts from an empty broker."""
    from django.conf import settings

    from labtrack.celery import app

    with app.connection_for_write() as conn:
        for queue in settings.CELERY_TASK_QUEUES:
            conn.default_channel.queue_purge(queue)
