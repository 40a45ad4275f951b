"""Batch list (search, filters, sorting, pages, CSV), batch page, new/edit batch."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property

from labtrack.analyses import batch_page
from labtrack.analyses import selectors as run_selectors
from labtrack.exchange import selectors as exchange_selectors
from labtrack.insights import batch_list as listing
from labtrack.samples.memberships import user_can as can
from labtrack.core.roles import Action
from labtrack.samples.memberships import current_project_for, memberships_for
from labtrack.core.roles import role_allows
from labtrack.measurements import selectors as measurement_selectors
from labtrack.samples import selectors, services
from labtrack.samples.models import Project
from labtrack.samples.services import batch_has_review
from labtrack.web.forms import BatchFilterForm, BatchForm
from labtrack.core import csv_safe
from labtrack.web.views.common import apply_errors, page

PAGE_SIZE = 50


def _filtered(request):
    form = BatchFilterForm(request.GET or None)
    current = current_project_for(request)
    filters = form.to_filters(current["id"] if current else None)
    if current is None:
        filters.project_id = -1  # no project: nothing to list
    return form, filters, current


# With filters that probe each batch (technique, review) the list counts at least this far
# and then says "more than"; an exact count of 7,500 matches out of 10,000 batches cost as
# much as the rest of the page.
COUNT_AT_LEAST = 1000


class BatchPaginator(Paginator):
    """Counts `count_qs` exactly when that reads the batches alone; otherwise only up to
    max(COUNT_AT_LEAST, rows up to the page asked for), `count_capped` telling whether
    more matched (the count is then the limit + 1, so the next page link stays)."""

    def __init__(self, object_list, per_page: int, *, count_qs, exact: bool, page_number: int):
        super().__init__(object_list, per_page)
        self.count_qs = count_qs
        self.count_limit = None if exact else max(COUNT_AT_LEAST, (page_number + 1) * per_page)
        self.count_capped = False

    @cached_property
    def count(self) -> int:
        if self.count_limit is None:
            return self.count_qs.count()
        n = self.count_qs.values("pk")[: self.count_limit + 1].count()
        self.count_capped = n > self.count_limit
        return n


def _page_number(raw) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


@page
def batch_list(request):
    form, filters, current = _filtered(request)
    rows = listing.batch_list_rows(user=request.user, filters=filters)
    paginator = BatchPaginator(rows, PAGE_SIZE, page_number=_page_number(request.GET.get("page")),
                               count_qs=listing.batch_list_count_queryset(user=request.user, filters=filters),
                               exact=listing.count_is_cheap(filters))
    page_obj = paginator.get_page(request.GET.get("page"))
    batches = listing.attach_page_data(list(page_obj.object_list))
    return render(request, "web/batch_list.html", {
        "form": form, "page_obj": page_obj, "batches": batches, "current": current,
        "filtered": form.has_filters(), "sort": filters.sort, "count_capped": paginator.count_capped,
        "count_limit": paginator.count_limit,
        "csv_query": request.GET.urlencode(),
    })


class _Echo:
    def write(self, value):
        return value


@page
def batch_list_csv(request):
    """The filtered list (every page) as CSV."""
    _, filters, _ = _filtered(request)
    qs = listing.batch_list(user=request.user, filters=filters)
    rows = listing.batch_csv_rows_streamed(qs)
    writer = csv_safe.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(r) for r in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="batches.csv"'
    return response


@page
def batch_detail(request, code: str):
    batch = selectors.batch_get(user=request.user, code=code)
    samples = selectors.batch_samples(batch=batch)
    measurements = measurement_selectors.batch_measurements(batch=batch)
    runs = run_selectors.batch_runs(batch=batch)
    latest = run_selectors.latest_runs_by_measurement(runs)
    for m in measurements:
        m.latest_runs = latest.get(m.pk, [])
    by_sample: dict[int, int] = {}
    for m in measurements:
        by_sample[m.sample_id] = by_sample.get(m.sample_id, 0) + 1
    for s in samples:
        s.n_measurements = by_sample.get(s.pk, 0)
    return render(request, "web/batch_detail.html", {
        "batch": batch,
        "samples": samples,
        "groups": measurement_selectors.group_by_technique(measurements),
        "key_table": batch_page.key_results_table(run_selectors.key_results(batch=batch, runs=runs)),
        "derived_runs": run_selectors.derived_runs(runs),
        "can_edit": can(request.user, batch.project, Action.EDIT_SAMPLES),
        "can_review": can(request.user, batch.project, Action.REVIEW),
        "n_eln_attachments": exchange_selectors.unassigned_attachment_count(batch=batch),
    })


@page
def batch_key_results(request, code: str):
    """The key-results table alone, for the batch page to refresh when a run finishes."""
    batch = selectors.batch_get(user=request.user, code=code)
    table = batch_page.key_results_table(run_selectors.key_results(batch=batch))
    return render(request, "includes/key_results_table.html", {"batch": batch, "key_table": table})


@page
def batch_create(request):
    projects = [p for p in memberships_for(request.user) if role_allows(p["role"], Action.EDIT_SAMPLES)]
    if not projects:
        raise PermissionDenied("You cannot record batches: you are not a chemist in any project.")
    current = current_project_for(request)
    initial = {"project": current["id"] if current and current in projects else projects[0]["id"],
               "synthesised_at": timezone.localtime().replace(second=0, microsecond=0)}
    form = BatchForm(request.POST or None, projects=projects, initial=initial)
    if request.method == "POST" and form.is_valid():
        project = Project.objects.get(pk=form.cleaned_data["project"])
        try:
            batch = services.batch_create(user=request.user, project=project, code=form.cleaned_data["code"],
                                          **form.service_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Batch {batch.code} recorded.")
            return redirect("batch_detail", code=batch.code)
    return render(request, "web/batch_form.html", {"form": form, "batch": None})


@page
def batch_edit(request, code: str):
    batch = selectors.batch_get(user=request.user, code=code)
    if not can(request.user, batch.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("You cannot edit batches in this project.")
    reviewed = batch_has_review(batch)
    form = BatchForm(request.POST or None, instance=batch, editing=True)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if form.cleaned_data["code"] != batch.code:
            fields["code"] = form.cleaned_data["code"]
        try:
            batch = services.batch_update(user=request.user, batch=batch, reason=form.cleaned_data.get("reason", ""),
                                          **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Batch {batch.code} saved.")
            return redirect("batch_detail", code=batch.code)
    return render(request, "web/batch_form.html", {"form": form, "batch": batch, "reviewed": reviewed})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
