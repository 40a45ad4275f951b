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
from labtrack.dropfolders.forms import AssignForm, DismissForm, DropFolderEditForm, DropFolderForm
from labtrack.dropfolders.ingest import detected_technique
from labtrack.dropfolders.models import DropItem
from labtrack.measurements.models import Technique
from labtrack.samples.memberships import memberships_for, user_can
from labtrack.samples.models import Project
from labtrack.samples.permissions import require
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
    context = {"folders": selectors.folders_for(user=request.user), "can_add": bool(_managed_projects(request.user)),
               "items": _with_choices(selectors.items_needing_person(user=request.user), request.user),
               "techniques": Technique.choices, "this_page": reverse("dropfolder_list")}
    return render(request, "dropfolders/folder_list.html", context)


def _upload_user(username: str):
    """The user named in the form (None for empty: the service's default)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"upload_as": f"No user {username!r}."})
    return user


def _rule_note(form) -> str:
    example = form.cleaned_data.get("example_name", "").strip()
    if example and form.found_codes:
        return f" The naming rule reads {form.found_codes[0]} from “{example}”."
    return ""


@page
def folder_new(request):
    """A new drop folder (managers of a project only)."""
    managed = _managed_projects(request.user)
    if not managed:
        raise PermissionDenied("Only a project manager can add a drop folder.")
    form = DropFolderForm(request.POST or None, projects=managed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            folder = services.dropfolder_create(
                user=request.user, name=data["name"], path=data["path"],
                project=Project.objects.get(pk=data["project"]), technique=data["technique"],
                instrument=data["instrument"], naming_rule=data["naming_rule"], upload_as=_upload_user(data["upload_as"]),
                processed_path=data["processed_path"], settle_s=data["settle_s"], enabled=data["enabled"])
        except (ValidationError, PermissionDenied) as exc:
            apply_errors(form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc)))
        else:
            messages.success(request, f"Drop folder {folder.name} added; the periodic scan will pick it up, "
                                      f"or run: manage.py watch_dropfolder {folder.pk}.{_rule_note(form)}")
            return redirect("dropfolder_detail", pk=folder.pk)
    return render(request, "dropfolders/folder_form.html", {"form": form, "folder": None},
                  status=400 if form.errors else 200)


@page
def folder_edit(request, pk: int):
    """A drop folder's path, instrument, naming rule, enabled and the rest (its project's managers only)."""
    folder = selectors.folder_get(user=request.user, pk=pk)
    require(request.user, folder.project, Action.MANAGE)     # others get a 403, not the form
    initial = {f: getattr(folder, f) for f in services.FOLDER_EDITABLE}
    initial["upload_as"] = folder.upload_as.username
    form = DropFolderEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fields = {f: data[f] for f in services.FOLDER_EDITABLE if f != "upload_as"}
            fields["upload_as"] = _upload_user(data["upload_as"]) or folder.upload_as
            folder = services.dropfolder_update(user=request.user, folder=folder, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            state = "enabled" if folder.enabled else "disabled: nothing is scanned until it is enabled again"
            messages.success(request, f"Drop folder {folder.name} saved ({state}).{_rule_note(form)}")
            return redirect("dropfolder_detail", pk=folder.pk)
    return render(request, "dropfolders/folder_form.html", {"form": form, "folder": folder},
                  status=400 if form.errors else 200)


@page
def folder_detail(request, pk: int):
    folder = selectors.folder_get(user=request.user, pk=pk)
    context = {"folder": folder, "summary": selectors.folder_summary(folder),
               "items": _with_choices(selectors.items_needing_person(user=request.user, folder=folder), request.user),
               "sample_codes": selectors.sample_codes(folder=folder), "techniques": Technique.choices,
               "can_manage": user_can(request.user, folder.project_id, Action.MANAGE),
               "this_page": reverse("dropfolder_detail", args=[folder.pk]), **selectors.folder_items(folder=folder),
               "settings_changes": selectors.folder_settings_changes(folder=folder)}
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
