"""New and edited samples (aliquots with lineage and storage)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from labtrack.samples.memberships import user_can as can
from labtrack.core.roles import Action
from labtrack.samples import selectors, services
from labtrack.samples.services import batch_has_review
from labtrack.web.forms import SampleForm
from labtrack.web.views.common import apply_errors, page


@page
def sample_create(request, code: str):
    batch = selectors.batch_get(user=request.user, code=code)
    if not can(request.user, batch.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("You cannot add samples in this project.")
    parents = selectors.parent_choices(project_id=batch.project_id)
    form = SampleForm(request.POST or None, parents=parents,
                      initial={"prepared_at": timezone.localtime().replace(second=0, microsecond=0),
                               "code": f"{batch.code}-"})
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_create(user=request.user, batch=batch, code=form.cleaned_data["code"],
                                            form=form.cleaned_data["form"], **form.service_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Sample {sample.code} recorded.")
            return redirect("batch_detail", code=batch.code)
    return render(request, "web/sample_form.html", {"form": form, "batch": batch, "sample": None})


@page
def sample_edit(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    batch = sample.batch
    if not can(request.user, batch.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("You cannot edit samples in this project.")
    parents = selectors.parent_choices(project_id=batch.project_id, exclude_pk=sample.pk)
    form = SampleForm(request.POST or None, instance=sample, parents=parents, editing=True)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        fields["form"] = form.cleaned_data["form"]
        if form.cleaned_data["code"] != sample.code:
            fields["code"] = form.cleaned_data["code"]
        try:
            sample = services.sample_update(user=request.user, sample=sample,
                                            reason=form.cleaned_data.get("reason", ""), **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Sample {sample.code} saved.")
            return redirect("batch_detail", code=batch.code)
    return render(request, "web/sample_form.html", {"form": form, "batch": batch, "sample": sample,
                                                    "reviewed": batch_has_review(batch)})
