"""Personal API tokens: a script's key to the REST API, stored only as a hash.

The secret is shown once, when the token is created; LabTrack keeps its SHA-256 (a random
256-bit secret needs no slow hash: there is nothing to guess) and a short prefix so the
owner can tell tokens apart. A token is read-only or read-write, may expire, and is
revoked rather than deleted, so the page can say when and the API can say why it refuses.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'NMR notebook'")
    key_sha256 = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=16, help_text="the first characters of the key, to recognise it")
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…, {self.get_scope_display().lower()})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
