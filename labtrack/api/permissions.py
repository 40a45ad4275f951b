"""Who may call the API: any authenticated user (the services then check their project
role), and with a read-only personal token only safe methods."""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from labtrack.accounts.models import ApiToken


class IsAuthenticatedWithTokenScope(IsAuthenticated):
    # Only shown when an authenticated request is refused, i.e. a read-only token writing.
    message = ("This API token is read-only: it may only read (GET). Create a read-and-write token at "
               "/account/tokens/ to change data.")

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        token = request.auth
        return not (isinstance(token, ApiToken) and request.method not in SAFE_METHODS and not token.can_write)
