"""The user's projects and roles, loaded once per request: the current project, and
quick permission checks for showing or hiding controls."""
from __future__ import annotations

from typing import Any

from labtrack.core.roles import Role, role_allows
from labtrack.samples.models import Membership, Project

SESSION_PROJECT_KEY = "labtrack_project_id"


def memberships_for(user) -> list[dict[str, Any]]:
    """[{id, name, role}] of the projects `user` belongs to (all, as manager, for a
    superuser), by name. One query, cached on the user object for the request."""
    cached = getattr(user, "_labtrack_memberships", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        rows = [{"id": pk, "name": name, "role": Role.MANAGER.value}
                for pk, name in Project.objects.order_by("name").values_list("pk", "name")]
    else:
        rows = [{"id": pk, "name": name, "role": role}
                for pk, name, role in Membership.objects.filter(user=user)
                .order_by("project__name").values_list("project_id", "project__name", "role")]
    user._labtrack_memberships = rows
    # Prime permissions.role_in's cache so services do not query memberships again.
    user._labtrack_roles = {r["id"]: r["role"] for r in rows}
    return rows


def current_project_for(request) -> dict[str, Any] | None:
    """The project chosen with the switcher (kept in the session), else the first one;
    None when the user belongs to no project. Returns {id, name, role}."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    projects = memberships_for(user)
    if not projects:
        return None
    chosen = request.session.get(SESSION_PROJECT_KEY)
    for p in projects:
        if p["id"] == chosen:
            return p
    return projects[0]


def user_can(user, project, action: str) -> bool:
    """Like permissions.can, from the memberships already loaded for this request (no
    query per check). For showing or hiding controls; services still enforce."""
    project_id = project.pk if hasattr(project, "pk") else project
    role = next((p["role"] for p in memberships_for(user) if p["id"] == project_id), None)
    return role_allows(role, action)


def user_may_anywhere(user, action: str) -> bool:
    """True when `user` may do `action` in at least one of their projects."""
    return any(role_allows(p["role"], action) for p in memberships_for(user))
