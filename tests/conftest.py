"""Shared fixtures: users with roles, a project, and a real Celery worker process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def services_required() -> bool:
    """.ci/run sets LABTRACK_REQUIRE_SERVICES=1: a skipped integration test is then a failure."""
    return os.environ.get("LABTRACK_REQUIRE_SERVICES") == "1"


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, **kwargs):
        return django_user_model.objects.create_user(username=username, password="pw-" + username, **kwargs)

    return make


@pytest.fixture
def project(db):
    from labtrack.samples.services import project_create

    return project_create(name="Perovskite NCs")


@pytest.fixture
def other_project(db):
    from labtrack.samples.services import project_create

    return project_create(name="Other team")


@pytest.fixture
def members(db, project, make_user):
    """One user per role in `project`: members["chemist"], members["analyst"], ..."""
    from labtrack.samples.models import Membership

    users = {}
    for role in ("viewer", "chemist", "analyst", "manager"):
        user = make_user(role)
        Membership.objects.create(project=project, user=user, role=role)
        users[role] = user
    users["analyst2"] = make_user("analyst2")
    Membership.objects.create(project=project, user=users["analyst2"], role="analyst")
    return users


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
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None
        self.log_path = REPO / "var" / f"test-worker-{os.getpid()}.log"

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
    from labtrack.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a real worker on the test database; stop it after the test."""
    purge_broker()
    worker = WorkerProcess().start()
    yield worker
    worker.stop()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")


def skip_or_fail(reason: str) -> None:
    """Skip with a stated reason, or fail when CI requires the real services."""
    if services_required():
        pytest.fail(f"LABTRACK_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def real_services(transactional_db):
    """PostgreSQL and Redis, as in production; skipped (stated) on the embedded default."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("integration tests need DATABASE_URL pointing at PostgreSQL")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        skip_or_fail("integration tests need CELERY_BROKER_URL pointing at Redis")
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis does not answer at {settings.CELERY_BROKER_URL} ({exc})")


_REQUIRED_MARKERS = ("integration", "browser")
_ran = {m: 0 for m in _REQUIRED_MARKERS}


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        for marker in _REQUIRED_MARKERS:
            if marker in report.keywords:
                _ran[marker] += 1


def pytest_sessionfinish(session, exitstatus):
    # CI must prove the real-service paths: none of them passing is a failure, not a pass.
    if services_required() and exitstatus == 0 and not session.config.option.collectonly:
        missing = [m for m, n in _ran.items() if n == 0]
        if missing and not session.config.getoption("-k") and not session.config.getoption("-m"):
            print(f"\nLABTRACK_REQUIRE_SERVICES=1 but no {' / '.join(missing)} test passed")
            session.exitstatus = 1
