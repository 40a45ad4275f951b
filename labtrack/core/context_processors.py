"""Template context shared by every page: the user's projects and role-aware navigation."""
from __future__ import annotations


def navigation(request) -> dict:
    from labtrack.core.selectors import navigation_for

    return navigation_for(request)
