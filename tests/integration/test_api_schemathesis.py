"""Schemathesis against the live OpenAPI schema: every operation of /api/v1/, with
generated valid and invalid input, authenticated by a read-and-write personal token of an
analyst, must answer no 5xx and conform to its documented status codes, content types,
headers and response schemas (labtrack.api.schema documents every error body).

Bounded: a fixed number of examples per operation and mode (derandomized, so CI is
repeatable), through the WSGI application in-process, inside the test's database
transaction. (Schemathesis' own pytest plugin does not run under pytest 9 yet, so the
operations are walked here with its strategies.)"""
from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from labtrack.accounts.services import token_create

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Examples per operation: valid input, then invalid input (25 in all per operation). An
# operation whose only input is an id in the path gets no invalid ones: they would all be
# "no such id" 404s (tested in tests/labtrack/api), and Hypothesis rejects ~30 invalid
# path segments for each it keeps, which cost more than the rest of the run.
MAX_EXAMPLES = {"positive": 15, "negative": 10}
MAX_NEGATIVE_PATH_ONLY = 0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def api_token(members, project, tmp_path, settings):
    """An analyst's read-and-write token, in a project with a batch, samples, a measurement
    with a raw file, runs (accepted and pending), quantities and an ageing study."""
    from django.core.cache import cache

    from tests.labtrack.api.conftest import build_lab

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()  # throttle counters from earlier tests
    build_lab(project, members["chemist"], members["analyst"], "NC", tmp_path)
    _, key = token_create(user=members["analyst"], name="schemathesis", scope="write")
    return key


def _examples(operation, mode: GenerationMode) -> int:
    path_only = not len(operation.query) and not len(operation.body)
    if mode == GenerationMode.NEGATIVE and path_only:
        return MAX_NEGATIVE_PATH_ONLY
    return MAX_EXAMPLES[mode.value]


REQUESTS_SENT = [0]


def _check_operation(operation, mode: GenerationMode, key: str) -> list[str]:
    failures: list[str] = []
    if not _examples(operation, mode):
        return failures

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=_examples(operation, mode), deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        REQUESTS_SENT[0] += 1
        try:
            case.call_and_validate(headers={"Authorization": f"Token {key}"}, checks=CHECKS)
        except Exception as exc:  # collect every operation's first failure, report all at once
            failures.append(f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:1500]}")
            raise

    try:
        run()
    except Exception:
        pass
    return failures[:1]


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django closes the database connection at the end of each request; inside a test
    that would close the test's own transaction (the test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    import logging

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_log = logging.getLogger("django.request")
    level, request_log.level = request_log.level, logging.ERROR  # thousands of expected 4xx lines
    yield
    request_log.level = level
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_api_conforms_to_its_schema(api_token, wsgi_keeps_the_test_connection, django_capture_on_commit_callbacks):
    from django.core.wsgi import get_wsgi_application

    from schemathesis.config import SchemathesisConfig

    # The token is sent as given; generating Authorization headers and cookies for every
    # security scheme would only cost time (and is covered by tests/labtrack/api/test_tokens.py).
    config = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 29
    only = os.environ.get("LABTRACK_SCHEMATHESIS_ONLY")  # e.g. "GET /api/v1/runs/", to debug one operation
    operations = [op for op in operations if not only or op.label == only]
    started, failures, slowest = time.monotonic(), [], []
    with django_capture_on_commit_callbacks(execute=False):  # no Celery messages for queued runs
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                t0 = time.monotonic()
                failures += _check_operation(operation, mode, api_token)
                slowest.append((time.monotonic() - t0, f"{operation.label} [{mode.value}]"))
    slowest.sort(reverse=True)
    print(f"schemathesis: {REQUESTS_SENT[0]} requests, {len(operations)} operations x 2 modes in {time.monotonic() - started:.0f} s; slowest: "
          + ", ".join(f"{label} {seconds:.1f} s" for seconds, label in slowest[:5]))
    assert not failures, "\n\n".join(failures)
    assert only or REQUESTS_SENT[0] >= 10 * len(operations), "Schemathesis sent too few requests to mean much"
