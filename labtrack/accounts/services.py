"""Writes and the key check for personal API tokens (labtrack.api's authentication
class and the /account/tokens/ page both call these)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from labtrack.accounts.models import ApiToken, TokenScope

KEY_PREFIX = "lt_"
# last_used_at is written at most this often per token: a script polling a run every
# second must not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 50
MAX_LIFETIME_DAYS = 3650


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user, name: str, scope: str = TokenScope.READ,
                 expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret key (returned once, never stored). ValidationError for
    a missing name, an unknown scope or a lifetime outside 1 day … 10 years."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Say what the token is for, e.g. 'NMR notebook'."
    if scope not in TokenScope.values:
        errors["scope"] = "Choose read only or read and write."
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        errors["expires_in_days"] = f"Give a lifetime from 1 to {MAX_LIFETIME_DAYS} days, or none."
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
        errors["name"] = f"You have {MAX_TOKENS_PER_USER} active tokens; revoke one first."
    if errors:
        raise ValidationError(errors)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, name=name[:100], scope=scope, key_sha256=key_hash(key), key_prefix=key[:10],
        created_at=now, expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    return token, key


def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (idempotent); ValidationError if not theirs."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise ValidationError({"token": "No such token of yours."})
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
    return token


class TokenRefused(Exception):
    """The key is unknown, revoked or expired; the message says which."""


def token_authenticate(key: str, *, now: datetime | None = None) -> ApiToken:
    """The active token with this key (its user joined), or TokenRefused. Marks it used."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(key_sha256=key_hash(key)).first()
    if token is None:
        raise TokenRefused("Invalid API token.")
    if token.revoked_at is not None:
        raise TokenRefused(f"This API token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one "
                           "at /account/tokens/.")
    if not token.user.is_active:
        raise TokenRefused("The account of this API token is disabled.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_for(*, user) -> QuerySet:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")
