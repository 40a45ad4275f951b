"""Who changed what: attribution for django-simple-history records.

In a web request simple-history takes the user from the request. Outside one (Celery
tasks, management commands) code wraps its writes in `acting_as(user, reason)`, so every
historical record says who (the system user for tasks) and why (e.g. "analysis run #12").
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from django.contrib.auth import get_user_model
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

SYSTEM_USERNAME = "labtrack-system"
_local = threading.local()


@contextmanager
def acting_as(user, reason: str = "") -> Iterator[None]:
    """Attribute history records made inside the block to `user` with `reason`."""
    previous = getattr(_local, "actor", None)
    _local.actor = (user, reason)
    try:
        yield
    finally:
        _local.actor = previous


def current_actor():
    return getattr(_local, "actor", None)


def system_user():
    """The account tasks act as; created on first use, cannot log in."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "LabTrack", "last_name": "system"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def history_user(instance, request, **kwargs):
    """simple-history's `get_user` hook: the acting_as user, else the request's user."""
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    actor = current_actor()
    if actor is not None:
        return actor[0]
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


@receiver(pre_create_historical_record)
def _add_reason(sender, instance, history_instance, **kwargs) -> None:
    # An explicit per-instance reason (edits after review) wins over the block's reason.
    actor = current_actor()
    if actor and actor[1] and not history_instance.history_change_reason:
        history_instance.history_change_reason = actor[1]
