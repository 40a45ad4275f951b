"""Personal API tokens on the REST API: `Authorization: Token lt_…` (or `Bearer lt_…`).

The key is checked by labtrack.accounts.services (stored as SHA-256 only). Unknown,
revoked and expired keys are refused with 401 and a message saying which; what a token
may do (read only, or read and write) is decided by labtrack.api.permissions.
"""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from labtrack.accounts.services import TokenRefused, token_authenticate

KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not a token: session or basic may answer
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Give the header as 'Authorization: Token <key>', one key, no spaces.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API token.") from None
        try:
            token = token_authenticate(key)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        # A 401 names the scheme, so clients know to send a token.
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "labtrack.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "A personal API token from /account/tokens/, sent as `Token lt_…`."}


class LockoutAwareBasicScheme(OpenApiAuthenticationExtension):
    target_class = "labtrack.core.auth.LockoutAwareBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic",
                "description": "Username and password (locked for a while after repeated wrong passwords)."}
