"""Data in and out (issue 13): spreadsheet import (upload → dry-run preview with the
column mapping → all-or-nothing commit, templates), .eln export of a batch, .eln import,
and turning files imported from another ELN into measurements. Thin: the rules are in
labtrack.exchange."""
from __future__ import annotations

import tempfile

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labtrack.core.errors import NotFoundForUser
from labtrack.core.roles import Action, role_allows
from labtrack.exchange import eln_export, eln_import, selectors, spreadsheet
from labtrack.exchange.columns import TARGETS
from labtrack.measurements.models import Technique
from labtrack.measurements.uploads import size_text, upload_refusal
from labtrack.samples import selectors as sample_selectors
from labtrack.samples.memberships import current_project_for, memberships_for
from labtrack.samples.memberships import user_can as can
from labtrack.samples.models import Project, Sample
from labtrack.web.views.common import error_text, page


class ImportForm(forms.Form):
    project = forms.TypedChoiceField(coerce=int, label="Project")
    file = forms.FileField(label="File")

    def __init__(self, *args, projects: list[dict], accept: str, help_text: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p["id"], p["name"]) for p in projects]
        self.fields["file"].widget.attrs["accept"] = accept
        self.fields["file"].help_text = help_text


def _editable_projects(request) -> list[dict]:
    projects = [p for p in memberships_for(request.user) if role_allows(p["role"], Action.EDIT_SAMPLES)]
    if not projects:
        raise PermissionDenied("Importing needs the chemist role in a project; ask a project manager.")
    return projects


def _initial_project(request, projects) -> int:
    current = current_project_for(request)
    return current["id"] if current and current in projects else projects[0]["id"]


def _read_capped(upload, limit: int) -> bytes:
    """At most one byte past the limit: enough for the service to refuse it."""
    return upload.read(limit + 1)


@page
def import_upload(request):
    """Step 1: choose the project and the sheet."""
    projects = _editable_projects(request)
    form = ImportForm(request.POST or None, request.FILES or None, projects=projects,
                      accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      help_text=f"CSV or XLSX (first sheet), at most {size_text(settings.LABTRACK_IMPORT_MAX_BYTES)} "
                                f"and {settings.LABTRACK_IMPORT_MAX_ROWS} rows.",
                      initial={"project": _initial_project(request, projects)})
    refusal = upload_refusal(request)
    if refusal:
        form.add_error("file", refusal)
    elif request.method == "POST" and form.is_valid():
        project = Project.objects.get(pk=form.cleaned_data["project"])
        upload = form.cleaned_data["file"]
        try:
            stored = spreadsheet.upload_store(user=request.user, project=project, name=upload.name,
                                              content=_read_capped(upload, settings.LABTRACK_IMPORT_MAX_BYTES))
        except ValidationError as exc:
            form.add_error("file", error_text(exc))
        else:
            return redirect("import_preview", pk=stored.pk)
    return render(request, "exchange/import_upload.html", {"form": form})


def _mapping_choices():
    return [("", "— not imported —")] + [(t.key, t.header if t.unit else t.label) for t in TARGETS]


@page
def import_preview(request, pk: int):
    """Step 2 and 3: the dry run with its errors by row and column, the column mapping
    (saved for the project), and the commit."""
    upload = selectors.upload_get(user=request.user, pk=pk)
    if request.method == "POST" and upload.committed_at is None:
        action = request.POST.get("action")
        try:
            if action == "map":
                assignments = {request.POST.get(f"name-{i}", ""): request.POST.get(f"field-{i}", "")
                               for i in range(settings.LABTRACK_IMPORT_MAX_COLUMNS)
                               if f"field-{i}" in request.POST}
                spreadsheet.mapping_save(user=request.user, project=upload.project,
                                         assignments={k: v for k, v in assignments.items() if k})
                messages.success(request, f"Column mapping saved for {upload.project}; the preview below uses it.")
                return redirect("import_preview", pk=upload.pk)
            if action == "commit":
                report = spreadsheet.spreadsheet_commit(user=request.user, upload=upload)
                if report.committed:
                    messages.success(request, f"Imported {len(report.batches)} batches and {len(report.samples)} "
                                              f"samples from {upload.file_name}.")
                    return redirect("batch_list")
                messages.error(request, f"Nothing was imported: {len(report.errors)} problems, listed below.")
                return _render_preview(request, upload, report)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("import_preview", pk=upload.pk)
    try:
        report = spreadsheet.spreadsheet_preview(user=request.user, upload=upload)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("import_upload")
    return _render_preview(request, upload, report)


def _render_preview(request, upload, report):
    rows = []
    for row in report.rows:
        cells = [{"value": "" if v is None else v, "error": report.error_at(row["number"], plan.header)}
                 for v, plan in zip(row["cells"], report.columns)]
        row_errors = report.error_at(row["number"], "")
        rows.append({"number": row["number"], "cells": cells, "error": row_errors,
                     "bad": bool(row_errors) or any(c["error"] for c in cells)})
    return render(request, "exchange/import_preview.html", {
        "upload": upload, "report": report, "rows": rows, "choices": _mapping_choices(),
        "sheet_errors": [e for e in report.errors if e.row == 0],
        "row_errors": [e for e in report.errors if e.row],
        "more_rows": report.n_rows - len(report.rows),
    })


@page
def import_template(request, fmt: str):
    if fmt == "xlsx":
        response = HttpResponse(selectors.template_xlsx(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = HttpResponse(selectors.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="labtrack-syntheses-template.{fmt}"'
    return response


@page
def batch_export_eln(request, code: str):
    """The batch as an .eln bundle, built in a temporary file and streamed from it."""
    batch = sample_selectors.batch_get(user=request.user, code=code)
    out = tempfile.TemporaryFile(prefix="labtrack-eln-")
    name = eln_export.batch_export_eln(user=request.user, batch=batch, out=out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=name, content_type="application/vnd.eln+zip")


@page
def eln_import_page(request):
    projects = _editable_projects(request)
    form = ImportForm(request.POST or None, request.FILES or None, projects=projects, accept=".eln,.zip",
                      help_text="An .eln file exported by LabTrack, eLabFTW, datalab, Kadi4Mat or another ELN.",
                      initial={"project": _initial_project(request, projects)})
    report = None
    refusal = upload_refusal(request)
    if refusal:
        form.add_error("file", refusal)
    elif request.method == "POST" and form.is_valid():
        project = Project.objects.get(pk=form.cleaned_data["project"])
        upload = form.cleaned_data["file"]
        try:
            if hasattr(upload, "temporary_file_path"):
                report = eln_import.eln_import(user=request.user, project=project, path=upload.temporary_file_path(),
                                               file_name=upload.name)
            else:  # an in-memory upload (tests, small files)
                with tempfile.NamedTemporaryFile(suffix=".eln") as tmp:
                    for chunk in upload.chunks():
                        tmp.write(chunk)
                    tmp.flush()
                    report = eln_import.eln_import(user=request.user, project=project, path=tmp.name,
                                                   file_name=upload.name)
        except ValidationError as exc:
            form.add_error("file", error_text(exc))
        else:
            studies = "".join(f" and the ageing study {study['name']}" for study in report.studies)
            n = len(report.batches)
            messages.success(request, f"Imported {n} {'batch' if n == 1 else 'batches'}{studies} from {upload.name}.")
    return render(request, "exchange/eln_import.html", {"form": form, "report": report})


@page
def eln_attachments(request, code: str):
    """Files that came with another ELN's experiment: say which sample and technique each
    belongs to and it becomes a measurement (analysed like any upload)."""
    batch = sample_selectors.batch_get(user=request.user, code=code)
    can_edit = can(request.user, batch.project, Action.EDIT_SAMPLES)
    samples = list(Sample.objects.filter(batch=batch).order_by("code_sort_key"))
    return render(request, "exchange/eln_attachments.html", {
        "batch": batch, "attachments": selectors.batch_attachments(batch=batch), "samples": samples,
        "techniques": Technique.choices, "can_edit": can_edit})


@page
@require_POST
def eln_attachment_assign(request, pk: int):
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    try:
        sample = sample_selectors.sample_get(user=request.user, pk=int(request.POST.get("sample") or 0))
        measurement = eln_import.attachment_assign(user=request.user, attachment=attachment, sample=sample,
                                                   technique=request.POST.get("technique", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, f"{attachment.name}: {error_text(exc)}")
    except (NotFoundForUser, ValueError):
        messages.error(request, f"{attachment.name}: choose a sample of {attachment.batch.code} and a technique.")
    else:
        messages.success(request, f"{attachment.name} is now measurement #{measurement.pk} of {sample.code}.")
    return redirect("eln_attachments", code=attachment.batch.code)
