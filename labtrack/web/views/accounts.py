"""Login, logout, the project switcher and the home page (the due pull points)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labtrack.ageing.selectors import due_pull_points
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
    """Today's work: the pull points due or overdue in the user's projects."""
    return render(request, "web/home.html", {"due": due_pull_points(user=request.user)})
