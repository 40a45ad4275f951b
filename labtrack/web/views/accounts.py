"""Login, logout and the project switcher."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from labtrack.samples.memberships import SESSION_PROJECT_KEY, memberships_for
from labtrack.web.views.common import safe_next


@login_required
@require_POST
def project_switch(request):
    """Remember the chosen project in the session (only one the user belongs to)."""
    try:
        wanted = int(request.POST.get("project", ""))
    except ValueError:
        wanted = None
    if any(p["id"] == wanted for p in memberships_for(request.user)):
        request.session[SESSION_PROJECT_KEY] = wanted
    return redirect(safe_next(request, "batch_list"))


@login_required
def home(request):
    return redirect("batch_list")
