"""Upload a measurement's raw files (with format detection first) and download them."""
from __future__ import annotations

import os

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from labtrack.analyses.pipeline import measurement_upload
from labtrack.core.roles import Action
from labtrack.measurements import selectors as measurement_selectors
from labtrack.measurements import services
from labtrack.measurements.downloads import StoredBytesMissing, raw_file_response
from labtrack.measurements.ingest import Upload, technique_of_files
from labtrack.measurements.services import measurement_update
from labtrack.measurements.uploads import upload_refusal
from labtrack.samples import selectors as sample_selectors
from labtrack.samples.memberships import user_can as can
from labtrack.samples.models import Sample
from labtrack.samples.services import batch_has_review
from labtrack.web.forms import MeasurementEditForm, MeasurementForm
from labtrack.web.views.common import apply_errors, page


def _editable_batch(request, code: str):
    batch = sample_selectors.batch_get(user=request.user, code=code)
    if not can(request.user, batch.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("Viewers cannot upload measurements; ask a project manager for the chemist role.")
    return batch


def _uploads(request) -> list[Upload]:
    return [Upload(f.name, f) for f in request.FILES.getlist("files")]


def _split_errors(exc: ValidationError, names: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(errors keyed by uploaded file name, other errors)."""
    per_file: dict[str, list[str]] = {}
    other: list[str] = []
    for key, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
        if key in names:
            # Readers prefix the file name; it is already shown as the row's label.
            per_file.setdefault(key, []).extend(e[len(key) + 2:] if e.startswith(f"{key}: ") else e for e in errors)
        else:
            other.extend(errors)
    return per_file, other


@page
def measurement_create(request, code: str):
    batch = _editable_batch(request, code)
    samples = Sample.objects.filter(batch=batch).order_by("code_sort_key")
    initial = {}
    if request.GET.get("sample"):
        initial["sample"] = request.GET["sample"]
    elif len(samples) == 1:
        initial["sample"] = samples[0].pk
    form = MeasurementForm(request.POST or None, samples=samples, initial=initial)
    context = {"form": form, "batch": batch, "file_errors": {}, "other_errors": [], "detected": None}
    if request.method == "POST":
        uploads = _uploads(request)
        names = {os.path.basename(u.name) for u in uploads}
        if upload_refusal(request):
            context["other_errors"].append(upload_refusal(request))
        elif not uploads:
            context["other_errors"].append("Attach at least one raw file (drop them on the box or choose them).")
        elif request.POST.get("action") == "detect":
            try:
                context["detected"] = services.detect_uploads(uploads=uploads,
                                                              technique=request.POST.get("technique", ""))
            except ValidationError as exc:
                context["file_errors"], context["other_errors"] = _split_errors(exc, names)
        elif form.is_valid():
            technique = form.cleaned_data["technique"]
            try:
                if not technique:
                    detected = services.detect_uploads(uploads=uploads)
                    technique, problem = technique_of_files(detected)
                    if problem:
                        form.add_error("technique", problem)
                        context["detected"] = detected
                if technique:
                    measurement = measurement_upload(
                        user=request.user, sample=form.cleaned_data["sample"], technique=technique,
                        uploads=uploads, instrument=form.cleaned_data["instrument"],
                        measured_at=form.cleaned_data["measured_at"], label=form.cleaned_data["label"],
                        notes=form.cleaned_data["notes"],
                        age_confirmation_reason=form.cleaned_data["age_confirmation_reason"])
                    n = len(uploads)
                    messages.success(request, f"{measurement.get_technique_display()} measurement saved with {n} "
                                              f"file{'s' if n != 1 else ''}; its analyses are queued.")
                    return redirect(reverse("batch_detail", args=[batch.code]) + f"#measurement-{measurement.pk}")
            except ValidationError as exc:
                context["file_errors"], context["other_errors"] = _split_errors(exc, names)
        context["uploaded_names"] = sorted(names)
        status = 400 if (context["file_errors"] or context["other_errors"] or form.errors) else 200
        return render(request, "web/measurement_form.html", context, status=status)
    return render(request, "web/measurement_form.html", context)


@page
@require_POST
def measurement_detect(request, code: str):
    """JSON preview of what each posted file is, before anything is saved."""
    _editable_batch(request, code)
    uploads = _uploads(request)
    if upload_refusal(request):
        return JsonResponse({"files": [], "errors": {"": [upload_refusal(request)]}}, status=413)
    if not uploads:
        return JsonResponse({"files": [], "errors": {"": ["No files were sent."]}}, status=400)
    chosen = request.POST.get("technique", "")
    try:
        detected = services.detect_uploads(uploads=uploads, technique=chosen)
    except ValidationError as exc:
        per_file, other = _split_errors(exc, {os.path.basename(u.name) for u in uploads})
        if other:
            per_file[""] = other
        return JsonResponse({"files": [], "errors": per_file}, status=400)
    technique, problem = technique_of_files(detected)
    if any(d["mismatch"] for d in detected):
        problem = "Some files do not belong to the chosen technique; Save would refuse them."
    return JsonResponse({"files": detected, "technique": technique, "problem": problem, "errors": {}})


@page
def measurement_edit(request, pk: int):
    """Sample, instrument, date, label and notes; the raw files never change."""
    measurement = measurement_selectors.measurement_get(user=request.user, pk=pk)
    batch = measurement.sample.batch
    if not can(request.user, batch.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("You cannot edit measurements in this project.")
    form = MeasurementEditForm(
        request.POST or None,
        samples=Sample.objects.filter(batch__project=batch.project).select_related("batch").order_by("code_sort_key"),
        instruments=measurement_selectors.instruments_for(measurement.technique),
        initial={"sample": measurement.sample_id, "instrument": measurement.instrument_id,
                 "measured_at": measurement.measured_at, "label": measurement.label, "notes": measurement.notes})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        confirmation = data.pop("age_confirmation_reason", "")
        try:
            measurement = measurement_update(user=request.user, measurement=measurement, reason=reason,
                                             age_confirmation_reason=confirmation, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Measurement saved.")
            return redirect(reverse("batch_detail", args=[measurement.sample.batch.code]) + f"#measurement-{measurement.pk}")
    return render(request, "web/measurement_edit.html", {"form": form, "measurement": measurement, "batch": batch,
                                                         "reviewed": batch_has_review(batch)})


@page
def raw_file_download(request, pk: int):
    """The exact stored bytes under their original name; the checksum in a header."""
    raw = measurement_selectors.raw_file_get(user=request.user, pk=pk)
    try:
        return raw_file_response(raw)
    except StoredBytesMissing as missing:
        raise Http404(str(missing)) from None

