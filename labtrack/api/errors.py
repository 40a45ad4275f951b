"""One error body for every API failure:

    {"detail": "a sentence for a person", "errors": {"field": ["message", ...]}}

`errors` is empty unless input was at fault; then each key is the query parameter or
body field a chemist typed ("non_field_errors" when no one field is to blame). Domain
errors from services (ValidationError, PermissionDenied, Conflict, NotFoundForUser) are
mapped here as well, so a view that forgets to catch one still answers 4xx, never 500.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from labtrack.core.errors import Conflict, NotFoundForUser


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The object changed under you."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _django_to_drf(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Conflict):
        return ConflictError(str(exc))
    if isinstance(exc, NotFoundForUser):
        return exceptions.NotFound(str(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    return exc


def _messages(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for item in value:
            out += _messages(item) if isinstance(item, (list, tuple)) else [
                "; ".join(f"{k}: {' '.join(_messages(v))}" for k, v in item.items()) if isinstance(item, dict) else str(item)]
        return out
    if isinstance(value, dict):
        return ["; ".join(f"{k}: {' '.join(_messages(v))}" for k, v in value.items())]
    return [str(value)]


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            errors = {str(field): _messages(msgs) for field, msgs in detail.items()}
        else:
            errors = {"non_field_errors": _messages(detail)}
        first_field, first = next(iter(errors.items()), ("", [""]))
        where = "" if first_field == "non_field_errors" else f"{first_field}: "
        summary = f"{where}{first[0]}" if first else "Invalid input."
        more = len(errors) - 1
        return {"detail": summary + (f" (and {more} more field{'s' if more > 1 else ''})" if more > 0 else ""),
                "errors": errors}
    if isinstance(detail, (list, dict)):
        return {"detail": " ".join(_messages(detail)), "errors": {}}
    return {"detail": str(detail), "errors": {}}


def exception_handler(exc: Exception, context: dict) -> Any:
    exc = _django_to_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 page and the log, as before
    response.data = error_body(exc)
    return response


def api_not_found(request, *args, **kwargs):
    """A path under /api/v1/ that names no endpoint (or a malformed id)."""
    from django.http import JsonResponse

    return JsonResponse({"detail": f"No API endpoint at {request.path}; see /api/docs/.", "errors": {}}, status=404)


class ErrorSerializer(serializers.Serializer):
    """The schema of every error body (drf-spectacular documents it on each operation)."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Per field or query parameter: its messages; empty unless input was at fault.")
