"""Project roles and what each may do.

Roles are ordered: a higher role may do everything a lower one may. Every service checks
the role it needs through `require_role`, so views and the API cannot forget it.
"""
from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    CHEMIST = "chemist", "Chemist"
    ANALYST = "analyst", "Analyst"
    MANAGER = "manager", "Manager"


RANK = {Role.VIEWER: 0, Role.CHEMIST: 1, Role.ANALYST: 2, Role.MANAGER: 3}


class Action(models.TextChoices):
    """What a user asks to do; each maps to the lowest role allowed to do it."""

    VIEW = "view"
    EDIT_SAMPLES = "edit_samples"      # batches, samples, measurements, uploads
    REQUEST_ANALYSIS = "request_analysis"
    REVIEW = "review"
    MANAGE = "manage"                  # memberships, protocols, instruments


MIN_ROLE = {
    Action.VIEW: Role.VIEWER,
    Action.EDIT_SAMPLES: Role.CHEMIST,
    Action.REQUEST_ANALYSIS: Role.CHEMIST,
    Action.REVIEW: Role.ANALYST,
    Action.MANAGE: Role.MANAGER,
}


def role_allows(role: str | None, action: str) -> bool:
    if role is None:
        return False
    return RANK[Role(role)] >= RANK[MIN_ROLE[Action(action)]]
