"""Template context for every page's header: the user's projects for the switcher, the
current project, the user's role in it and the links that role allows."""
from __future__ import annotations

from django.urls import reverse

from labtrack.core.roles import Action, Role, role_allows
from labtrack.samples.memberships import current_project_for, memberships_for, user_may_anywhere


def navigation(request) -> dict:
    """The context processor (settings.TEMPLATES)."""
    return navigation_for(request)


def navigation_for(request) -> dict:
    """Template context for the header: projects for the switcher, the current project,
    the user's role in it and the links that role allows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {"items": [], "projects": [], "current": None}}
    current = current_project_for(request)
    role = current["role"] if current else None
    # "Today" is the due pull points; no count here, so no page pays a query for it.
    items = [{"label": "Today", "url": reverse("home"), "key": "home"},
             {"label": "Batches", "url": reverse("batch_list"), "key": "batches"}]
    if role_allows(role, Action.EDIT_SAMPLES):
        items.append({"label": "New batch", "url": reverse("batch_create"), "key": "batch_create"})
    if user_may_anywhere(user, Action.REVIEW):
        items.append({"label": "Review queue", "url": reverse("review_queue"), "key": "review"})
    items.append({"label": "Trends", "url": reverse("trends"), "key": "trends"})
    items.append({"label": "Ageing", "url": reverse("study_list"), "key": "ageing"})
    items.append({"label": "Drop folders", "url": reverse("dropfolder_list"), "key": "dropfolders"})
    return {"nav": {
        "items": items,
        "projects": memberships_for(user),
        "current": current,
        "role": role,
        "role_label": Role(role).label if role else "",
        "can_edit": role_allows(role, Action.EDIT_SAMPLES),
        "can_review": role_allows(role, Action.REVIEW),
    }}
