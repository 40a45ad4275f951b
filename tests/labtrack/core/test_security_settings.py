"""Safe defaults: DEBUG off when unset, placeholder secrets refused, headers and a CSP."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from labtrack.settings import check_secret_key

ROOT = Path(__file__).resolve().parents[3]
PROBE = ("import django; django.setup(); from django.conf import settings; "
         "print('DEBUG', settings.DEBUG)")


def start_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings as a server would: outside pytest, with only `env` set."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTEST_VERSION", "DEBUG", "SECRET_KEY", "PYTEST_CURRENT_TEST")}
    base.update(DJANGO_SETTINGS_MODULE="labtrack.settings", LABTRACK_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=60)


def test_debug_unset_and_no_secret_refuses_to_start(tmp_path):
    proc = start_settings(tmp_path)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "SECRET_KEY is missing" in proc.stderr


def test_env_example_placeholder_secret_refuses_to_start(tmp_path):
    example = (ROOT / "deploy" / "labtrack.env.example").read_text()
    placeholder = re.search(r"^SECRET_KEY=(.*)$", example, re.M).group(1)
    proc = start_settings(tmp_path, SECRET_KEY=placeholder, DEBUG="0")
    assert proc.returncode != 0
    assert "placeholder from deploy/labtrack.env.example" in proc.stderr


def test_debug_unset_with_a_real_secret_starts_with_debug_off(tmp_path):
    proc = start_settings(tmp_path, SECRET_KEY="x7Hq-" * 10)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "DEBUG False"


def test_demo_debug_on_starts_with_the_embedded_key(tmp_path):
    proc = start_settings(tmp_path, DEBUG="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "DEBUG True"


@pytest.mark.parametrize("key", ["", "labtrack-embedded-demo-key-not-for-production", "change-me", "short-key"])
def test_unsafe_secret_keys_are_refused_with_debug_off(key):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        check_secret_key(key, debug=False, testing=False)


def test_makefile_and_run_demo_turn_debug_on_explicitly():
    assert "export DEBUG ?= 1" in (ROOT / "Makefile").read_text()
    assert 'export DEBUG="${DEBUG:-1}"' in (ROOT / "deploy" / "run-demo.sh").read_text()


def test_compose_does_not_load_the_env_example():
    compose = (ROOT / "deploy" / "docker-compose.yml").read_text()
    env_files = re.findall(r"^\s*env_file:\s*(\S+)", compose, re.M)
    assert env_files == ["labtrack.env"]


def test_html_pages_carry_a_csp_without_unsafe_inline_and_security_headers(client, db):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_have_nothing_inline_that_the_csp_would_block():
    # The CSP allows scripts and styles from /static/ only: an inline <script>, <style>,
    # style="..." or on*="..." handler would silently stop working in the browser.
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        html = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
            if re.search(pattern, html, re.I):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def test_password_validators_are_djangos_full_set():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("password", "12345678", "123456789012", "password1234"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    with pytest.raises(ValidationError, match="too similar"):
        from django.contrib.auth.models import User
        validate_password("marie.curie.lab", User(username="marie.curie"))
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("Xq7#bR2!")
    validate_password("perovskite-ink-7342-washed")  # a good passphrase passes
