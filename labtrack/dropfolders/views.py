"""Drop-folder pages: the folders of the user's projects and the items a person must
decide (assign a sample and ingest, or dismiss). Thin: selectors read, services write."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from labtrack.core.errors import Conflict
from labtrack.core.roles import Action, role_allows
from labtrack.dropfolders import selectors, services
from labtrack.dropfolders.forms import AssignForm, DismissForm, DropFolderForm
from labtrack.dropfolders.ingest import detected_technique
from labtrack.dropfolders.models import DropItem
from labtrack.measurements.models import Technique
from labtrack.samples.memberships import memberships_for, user_can
from labtrack.samples.models import Project
from labtrack.web.views.common import apply_errors, error_text, page, safe_next


def _managed_projects(user) -> list[dict]:
    return [p for p in memberships_for(user) if role_allows(p["role"], Action.MANAGE)]


def _with_choices(items: list[DropItem], user) -> list[DropItem]:
    """Attach what each row's assign form offers: the technique to preselect, and
    whether this user may decide."""
    for item in items:
        item.suggested_technique = detected_technique(item) or item.technique or item.folder.technique
        item.can_decide = user_can(user, item.project_id, Action.EDIT_SAMPLES)
    return items


@page
def folder_list(request):
    managed = _managed_projects(request.user)
    form = DropFolderForm(request.POST or None, projects=managed) if managed else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a project manager can add a drop folder.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                upload_as = None
                if data["upload_as"]:
                    upload_as = get_user_model().objects.filter(username=data["upload_as"]).first()
                    if upload_as is None:
                        raise ValidationError({"upload_as": f"No user {data['upload_as']!r}."})
                folder = services.dropfolder_create(
                    user=request.user, name=data["name"], path=data["path"],
                    project=Project.objects.get(pk=data["project"]), technique=data["technique"],
                    instrument=data["instrument"], naming_rule=data["naming_rule"], upload_as=upload_as,
                    processed_path=data["processed_path"], settle_s=data["settle_s"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Drop folder {folder.name} added; the periodic scan will pick it up, "
                                          f"or run: manage.py watch_dropfolder {folder.pk}")
                return redirect("dropfolder_detail", pk=folder.pk)
    context = {"folders": selectors.folders_for(user=request.user), "form": form,
               "items": _with_choices(selectors.items_needing_person(user=request.user), request.user),
               "techniques": Technique.choices, "this_page": reverse("dropfolder_list")}
    return render(request, "dropfolders/folder_list.html", context, status=400 if form and form.errors else 200)


@page
def folder_detail(request, pk: int):
    folder = selectors.folder_get(user=request.user, pk=pk)
    context = {"folder": folder, "summary": selectors.folder_summary(folder),
               "items": _with_choices(selectors.items_needing_person(user=request.user, folder=folder), request.user),
               "sample_codes": selectors.sample_codes(folder=folder), "techniques": Technique.choices,
               "this_page": reverse("dropfolder_detail", args=[folder.pk]), **selectors.folder_items(folder=folder)}
    return render(request, "dropfolders/folder_detail.html", context)


def _decide(request, item_id: int, decide) -> None:
    selectors.item_get(user=request.user, pk=item_id)  # a 404 outside the user's projects
    try:
        text = decide()
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, text)


@page
@require_POST
def item_assign(request, pk: int):
    form = AssignForm(request.POST)

    def assign() -> str:
        if not form.is_valid():
            raise ValidationError("Give the sample code and the technique.")
        item = services.item_assign(user=request.user, item_id=pk, sample_code=form.cleaned_data["sample_code"],
                                    technique=form.cleaned_data["technique"])
        return f"{item.name} ingested as a measurement of {item.sample.code}; its analyses are queued."

    _decide(request, pk, assign)
    return redirect(safe_next(request, reverse("dropfolder_list")))


@page
@require_POST
def item_dismiss(request, pk: int):
    form = DismissForm(request.POST)

    def dismiss() -> str:
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        item = services.item_dismiss(user=request.user, item_id=pk, reason=reason)
        return f"{item.name} dismissed; its files stay at {item.path}."

    _decide(request, pk, dismiss)
    return redirect(safe_next(request, reverse("dropfolder_list")))
