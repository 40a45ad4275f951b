"""Who may do what in which project. Services call `require`; selectors call `visible_projects`."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from labtrack.core.roles import Action, Role, role_allows
from labtrack.samples.models import Membership, Project


def role_in(user, project) -> str | None:
    """The user's role in `project`, or None for a non-member. Superusers manage all."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.MANAGER
    project_id = project.pk if hasattr(project, "pk") else project
    return Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True).first()


def can(user, project, action: str) -> bool:
    return role_allows(role_in(user, project), action)


def require(user, project, action: str) -> None:
    """Raise PermissionDenied unless `user` may do `action` in `project`."""
    if not can(user, project, action):
        role = role_in(user, project)
        who = f"as {role}" if role else "as a non-member"
        raise PermissionDenied(f"You cannot {Action(action).label.lower().replace('_', ' ')} in {project} {who}.")


def visible_projects(user) -> QuerySet:
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)
