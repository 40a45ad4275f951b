"""Login throttling (django-axes): 10 wrong passwords lock the account for the web login
and for HTTP basic on the API; the right password is then refused until cool-off or reset."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

LIMIT = 10


def test_limit_is_ten():
    assert settings.AXES_FAILURE_LIMIT == LIMIT


def _login(client, password):
    return client.post(reverse("login"), {"username": "chemist", "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_ten_wrong_passwords_lock_the_web_login(client, members):
    for _ in range(LIMIT - 1):
        assert _login(client, "wrong").status_code == 200
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert "is locked after 10 wrong passwords" in locked.content.decode()
    # The right password is now refused too: the lockout is not a prompt to keep guessing.
    right = _login(client, "pw-chemist")
    assert right.status_code == 429 and not _logged_in(client)
    assert "Account locked" in right.content.decode()


def test_lockout_ends_after_the_cool_off(client, members):
    for _ in range(LIMIT):
        _login(client, "wrong")
    assert _login(client, "pw-chemist").status_code == 429
    # Age the attempts past the cool-off instead of sleeping 15 minutes.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    response = _login(client, "pw-chemist")
    assert response.status_code == 302 and _logged_in(client)


def test_a_manager_reset_unlocks_at_once(client, members):
    for _ in range(LIMIT):
        _login(client, "wrong")
    reset(username="chemist")
    assert _login(client, "pw-chemist").status_code == 302 and _logged_in(client)


def test_lockout_is_per_username_not_for_everyone(client, members):
    for _ in range(LIMIT):
        _login(client, "wrong")
    other = client.post(reverse("login"), {"username": "viewer", "password": "pw-viewer"})
    assert other.status_code == 302


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def api_url():
    return reverse("api-batch-list")


def test_ten_wrong_basic_auth_passwords_lock_the_api(client, members, api_url):
    assert client.get(api_url, **_basic("chemist", "pw-chemist")).status_code == 200
    for _ in range(LIMIT - 1):
        assert client.get(api_url, **_basic("chemist", "wrong")).status_code in (401, 403)
    locked = client.get(api_url, **_basic("chemist", "wrong"))
    assert locked.status_code == 429
    right = client.get(api_url, **_basic("chemist", "pw-chemist"))
    assert right.status_code == 429
    assert right.json()["detail"].startswith("This account is locked after 10 wrong passwords")
    reset(username="chemist")
    assert client.get(api_url, **_basic("chemist", "pw-chemist")).status_code == 200


def test_web_and_api_failures_count_together(client, members, api_url):
    for _ in range(LIMIT // 2):
        _login(client, "wrong")
        client.get(api_url, **_basic("chemist", "wrong"))
    assert client.get(api_url, **_basic("chemist", "pw-chemist")).status_code == 429
    assert _login(client, "pw-chemist").status_code == 429
