"""Personal API tokens: stored hashed, shown once, scoped, expiring, revocable, and the
page where a user manages them."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labtrack.accounts.models import ApiToken
from labtrack.accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db


def test_only_a_hash_is_stored_and_the_key_works(members, token_client):
    api = token_client(members["viewer"], scope="read")
    token = ApiToken.objects.get(user=members["viewer"])
    assert token.key_sha256 == hashlib.sha256(api.key.encode()).hexdigest()
    assert api.key not in str(list(ApiToken.objects.values_list()))
    assert token.key_prefix == api.key[:10] and api.key.startswith("lt_")
    response = api.get("/api/v1/batches/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_read_only_token_cannot_write(members, project, token_client):
    api = token_client(members["chemist"], scope="read")
    response = api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC1.0"}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert response.json()["errors"] == {}
    from labtrack.samples.models import Batch

    assert not Batch.objects.exists()
    # the same user with a read-and-write token may
    write = token_client(members["chemist"], scope="write")
    assert write.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC1.0"}, format="json").status_code == 201


def test_a_revoked_token_is_refused(members, token_client):
    api = token_client(members["viewer"])
    token = ApiToken.objects.get(user=members["viewer"])
    token_revoke(user=members["viewer"], token_id=token.pk)
    response = api.get("/api/v1/batches/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_refused(members, token_client):
    api = token_client(members["viewer"], expires_in_days=1)
    ApiToken.objects.filter(user=members["viewer"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get("/api/v1/batches/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_an_unknown_or_malformed_token_is_refused(members):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token lt_not-a-real-key")
    assert api.get("/api/v1/batches/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert api.get("/api/v1/batches/").status_code == 401
    api.credentials()
    assert api.get("/api/v1/batches/").status_code == 401


def test_a_disabled_account_cannot_use_its_token(members, token_client):
    api = token_client(members["viewer"])
    members["viewer"].is_active = False
    members["viewer"].save()
    assert api.get("/api/v1/batches/").status_code == 401


def test_someone_elses_token_cannot_be_revoked(members):
    from django.core.exceptions import ValidationError

    token, _ = token_create(user=members["viewer"], name="mine")
    with pytest.raises(ValidationError):
        token_revoke(user=members["chemist"], token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_create_checks_its_input(members):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        token_create(user=members["viewer"], name=" ", scope="admin", expires_in_days=0)
    assert set(exc.value.message_dict) == {"name", "scope", "expires_in_days"}


def test_page_creates_shows_once_and_revokes(client, members):
    client.force_login(members["chemist"])
    page = client.get(reverse("api_tokens"))
    assert page.status_code == 200 and b"You have no tokens yet" in page.content
    response = client.post(reverse("api_tokens"), {"name": "NMR notebook", "scope": "write", "expires_in_days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=members["chemist"])
    body = response.content.decode()
    key = body.split('id="new-token-key"')[1].split('value="')[1].split('"')[0]
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_sha256
    assert token.scope == "write" and token.expires_at is not None
    # shown once: the list page afterwards has the prefix only
    again = client.get(reverse("api_tokens")).content.decode()
    assert key not in again and token.key_prefix in again
    assert "no-store" in client.get(reverse("api_tokens"))["Cache-Control"]
    response = client.post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_page_refuses_bad_input_with_messages(client, members):
    client.force_login(members["chemist"])
    response = client.post(reverse("api_tokens"), {"name": "", "scope": "write", "expires_in_days": "-3"})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert b"field-error" in response.content


def test_page_needs_login(client):
    assert client.get(reverse("api_tokens")).status_code == 302


def test_session_login_still_works_for_the_api(client, members):
    client.force_login(members["viewer"])
    assert client.get("/api/v1/batches/").status_code == 200


def test_throttling_answers_429_with_retry_after(members, token_client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    api = token_client(members["viewer"])
    codes = [api.get("/api/v1/projects/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/projects/")
    assert "Retry-After" in response and "throttled" in response.json()["detail"].lower()
    cache.clear()
