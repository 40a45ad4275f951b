"""Read-side queries shared across apps."""
from __future__ import annotations


def navigation_for(request) -> dict:
    return {}
