"""Run page, progress JSON, figure, review (accept/reject), re-fit with preview, queue."""
from __future__ import annotations

import base64
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from labtrack.analyses import review, selectors, services
from labtrack.analyses.models import RunStatus
from labtrack.core.errors import Conflict
from labtrack.core.naturalsort import natural_key
from labtrack.core.roles import Action
from labtrack.measurements.models import Technique
from labtrack.samples.memberships import user_can as can
from labtrack.web.forms import RefitForm, ReviewForm
from labtrack.analyses.batch_page import card_quantities as headline_quantities
from labtrack.analyses.presentation import quantity_label
from labtrack.web.templatetags.labtrack_web import quantity_text
from labtrack.web.views.common import error_text, page, safe_next


def _page_context(request, pk: int, refit_form=None, preview=None, preview_error: str = "") -> dict:
    data = selectors.run_detail(user=request.user, pk=pk)
    run = data["run"]
    can_refit = can(request.user, run.project, Action.REQUEST_ANALYSIS) and run.is_finished
    if can_refit and refit_form is None:
        try:
            refit_form = RefitForm(routine=run.routine, current=run.parameters or {})
        except ValidationError:
            refit_form, can_refit = None, False  # the routine is no longer installed
    can_review = can(request.user, run.project, Action.REVIEW)
    transitions = review.allowed_transitions(run) if can_review else []
    return {
        **data,
        "refit_form": refit_form if can_refit and run.is_current else None,
        "preview": preview,
        "preview_error": preview_error,
        "can_review": can_review,
        "own_run": run.requested_by_id == request.user.pk,
        "reviewable": "accept" in transitions,
        "retractable": "retract" in transitions,
        "newest_version": None if run.is_current else services.run_newest_version(run),
        "next": safe_next(request, ""),
    }


@page
def run_detail(request, pk: int):
    return render(request, "web/run_detail.html", _page_context(request, pk))


@page
@never_cache
def run_status(request, pk: int):
    """{status, stage, progress_percent, figure_url (when done), ...} for the progress bars."""
    run = selectors.run_status_get(user=request.user, pk=pk)
    done = run.status == RunStatus.SUCCEEDED
    top = headline_quantities(run) if done else []
    return JsonResponse({
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "stage": run.stage,
        "stage_label": run.get_stage_display(),
        "progress_percent": run.progress_percent,
        "finished": run.is_finished,
        "error": run.error,
        "review_state": run.review_state,
        "review_label": "Result of record" if run.is_of_record else run.get_review_state_display(),
        "figure_url": reverse("run_figure", args=[run.pk]) if done else None,
        "thumbnail_url": reverse("run_thumbnail", args=[run.pk]) if done else None,
        "run_url": reverse("run_detail", args=[run.pk]),
        "quantities": [{"name": quantity_label(q), "text": quantity_text(q)} for q in top],
    })


@page
def run_figure(request, pk: int):
    """The run's stored SVG figure, served as an image (never inlined: no script runs)."""
    svg = selectors.run_figure_svg(user=request.user, pk=pk)
    if not svg:
        return HttpResponse(status=404)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"  # a run's figure never changes
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@page
def run_thumbnail(request, pk: int):
    """The run's stored PNG figure, for thumbnails in lists."""
    png = selectors.run_figure_png(user=request.user, pk=pk)
    if not png:
        return HttpResponse(status=404)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"  # a run's figure never changes
    return response


@page
@require_POST
def run_review(request, pk: int):
    """Accept, reject or retract (both with a reason); a second reviewer is told who
    decided first, and a superseded run is refused with the run that replaced it."""
    run = selectors.run_get(user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    back = safe_next(request, reverse("run_detail", args=[run.pk]))
    if not form.is_valid():
        messages.error(request, "Choose accept, reject or retract.")
        return redirect(back)
    decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
    try:
        if decision == "retract":
            review.run_retract(run=run, user=request.user, reason=reason)
        else:
            review.run_review(run=run, reviewer=request.user, accept=decision == "accept", reason=reason)
    except Conflict as exc:
        messages.warning(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Run #{run.pk} ({run.routine}) of {run.batch.code} {review.PAST_TENSE[decision]}.")
    return redirect(back)


@page
@require_POST
def run_refit(request, pk: int):
    """`action=preview`: run the routine now on the run's files, save nothing, show the
    figure and quantities. `action=save`: request the re-fit (a new, superseding run)."""
    run = selectors.run_get(user=request.user, pk=pk)
    if not can(request.user, run.project, Action.REQUEST_ANALYSIS):
        raise PermissionDenied("You cannot request analyses in this project.")
    form = RefitForm(request.POST, routine=run.routine, current=run.parameters or {})
    if not form.is_valid():
        return render(request, "web/run_detail.html", _page_context(request, pk, refit_form=form), status=400)
    raw = form.raw_parameters()
    try:
        if request.POST.get("action") == "save":
            new = services.run_refit(run=run, user=request.user, parameters=raw)
            messages.success(request, f"Re-fit queued as run #{new.pk}; once accepted it supersedes run #{run.pk}.")
            return redirect("run_detail", pk=new.pk)
        outcome = services.run_preview(run=run, user=request.user, parameters=raw)
    except (ValidationError, PermissionDenied) as exc:
        return render(request, "web/run_detail.html",
                      _page_context(request, pk, refit_form=form, preview_error=error_text(exc)), status=400)
    preview = {
        "figure_data_uri": "data:image/svg+xml;base64," + base64.b64encode(outcome.figure_svg.encode()).decode(),
        "quantities": [SimpleNamespace(**row) for row in outcome.quantities],
        "warnings": outcome.warnings,
    }
    return render(request, "web/run_detail.html", _page_context(request, pk, refit_form=form, preview=preview))


def _queue_filters(request) -> selectors.QueueFilters:
    get = request.GET
    try:
        page_number = max(1, int(get.get("page", "1")))
    except ValueError:
        page_number = 1
    technique = get.get("technique", "")
    try:
        project_id = int(get.get("project", "")) or None
    except ValueError:
        project_id = None
    age = get.get("age", "")
    return selectors.QueueFilters(
        batch=get.get("batch", "").strip()[:64], technique=technique if technique in Technique.values else "",
        routine=get.get("routine", "").strip()[:64], newest_first=get.get("order") == "newest", page=page_number,
        project_id=project_id, requester=get.get("requester", "").strip()[:150],
        age=age if age in selectors.QUEUE_AGES else "")


@page
def review_queue(request):
    """Runs awaiting review, filtered (?project=, ?batch=, ?technique=, ?routine=,
    ?requester=, ?age=, ?order=newest) and paged. Keyboard decisions wait a few seconds
    (labtrack.js) so a stray key can be undone before anything is sent."""
    data = selectors.review_queue(user=request.user, filters=_queue_filters(request))
    query = request.GET.copy()
    query.pop("page", None)
    by_batch: dict[str, list[int]] = {}
    for run in data["runs"]:
        by_batch.setdefault(run.batch.code, []).append(run.pk)
    batches = [(code, by_batch[code]) for code in sorted(by_batch, key=natural_key)]
    return render(request, "web/review_queue.html", {
        **data, "techniques": Technique.choices, "query": query.urlencode(),
        "this_page": request.get_full_path(), "batches_on_page": batches,
        "ages": [(key, label) for key, (label, _, _) in selectors.QUEUE_AGES.items()],
        "requesters": selectors.queue_requesters(user=request.user) if data["can_review_anywhere"] else [],
        "accept_meaning": review.ACCEPT_MEANING, "undo_seconds": QUEUE_UNDO_SECONDS,
    })


# How long a keyboard accept/reject waits, undoable, before it is sent.
QUEUE_UNDO_SECONDS = 5


@page
@require_POST
def review_accept_many(request):
    """Accept every run listed in the form (the queue's "accept all shown for batch X")."""
    try:
        run_ids = [int(pk) for pk in request.POST.getlist("run")]
    except ValueError:
        run_ids = []
    back = safe_next(request, reverse("review_queue"))
    if not run_ids:
        messages.error(request, "No runs were chosen.")
        return redirect(back)
    accepted, refused = review.runs_accept_many(run_ids=run_ids, reviewer=request.user)
    if accepted:
        messages.success(request, f"Accepted {len(accepted)} run{'s' if len(accepted) != 1 else ''}: "
                                  + ", ".join(f"#{r.pk}" for r in accepted) + ".")
    for text in refused:
        messages.warning(request, text)
    return redirect(back)
