"""Glue shared by the views: turning service/selector errors into responses and messages."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotModified

from labtrack.core.errors import NotFoundForUser


def page(view):
    """Login required; an object outside the user's projects is a 404 (never a 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFoundForUser as exc:
            raise Http404(str(exc)) from None

    return wrapper


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown keys on the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if form is not None and field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def error_text(exc: Exception) -> str:
    """A ValidationError/PermissionDenied/Conflict as one readable sentence."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or exc.__class__.__name__


def safe_next(request, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# Data a review can change: browsers revalidate each time and get a 304 when it did not.
REVALIDATE = "private, no-cache"


def not_modified(request, etag: str) -> HttpResponseNotModified | None:
    """A 304 when the request's If-None-Match names `etag` (weak or strong), else None."""
    sent = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in sent or f"W/{etag}" in sent:
        response = HttpResponseNotModified()
        response["ETag"], response["Cache-Control"] = etag, REVALIDATE
        return response
    return None
