"""Shared fixtures: users with roles, a project, and a real Celery worker process."""
from __future__ import annotations

import os
import time

import pytest

from labtrack.operations.worker_process import WorkerProcess, purge_broker


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
