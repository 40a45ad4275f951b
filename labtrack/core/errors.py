"""Service-layer errors that views and the API turn into messages and status codes."""
from __future__ import annotations


class Conflict(Exception):
    """The thing changed under the user (e.g. another analyst reviewed the run first)."""


class NotFoundForUser(Exception):
    """The object does not exist, or the user may not know that it does (404, not 403)."""
