"""HTTP basic authentication for the API that says so when an account is locked out.

django-axes (first in AUTHENTICATION_BACKENDS) refuses a locked-out username inside
`authenticate()`, so DRF's BasicAuthentication already refuses it; but DRF would answer
"Invalid username/password." and a script's author would keep retrying a right password.
This class turns that refusal into 429 with axes' lockout message.
"""
from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.authentication import BasicAuthentication


class AccountLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked_out"

    def __init__(self) -> None:
        super().__init__(detail=str(settings.AXES_COOLOFF_MESSAGE))


class LockoutAwareBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid: str, password: str, request=None) -> tuple:
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # axes flags the request it was handed (DRF's Request wrapper, so the flag stays
            # here and AxesMiddleware does not swap in the HTML lockout page).
            if request is not None and getattr(request, "axes_locked_out", False):
                raise AccountLockedOut() from None
            raise
