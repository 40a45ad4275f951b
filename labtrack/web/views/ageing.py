"""Ageing studies: the list with the due work, a study's page, its figures and CSV, the
printable report (HTML and PDF), the study as an .eln bundle and each user's iCalendar
feed."""
from __future__ import annotations

import base64
import tempfile
from datetime import timedelta

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from labtrack.ageing import presentation, selectors, services
from labtrack.ageing.models import StudyTemplate
from labtrack.core.errors import NotFoundForUser
from labtrack.core.roles import Action
from labtrack.exchange.eln_study import study_export_eln as eln_of_study
from labtrack.samples.memberships import current_project_for, user_can
from labtrack.samples.models import Project, Sample
from labtrack.web.forms import StudyForm
from labtrack.web.views.ageing_figures import series_csv, series_figure, spectra_csv, spectra_figure
from labtrack.web.views.common import apply_errors, page

FIGURE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@page
def study_list(request):
    """Studies of the user's projects, the due list, the calendar link and a new-study form."""
    current = current_project_for(request)
    can_create = bool(current) and user_can(request.user, current["id"], Action.EDIT_SAMPLES)
    form = None
    if can_create:
        services.study_templates_ensure()
        form = StudyForm(request.POST or None,
                         samples=Sample.objects.filter(batch__project_id=current["id"]).order_by("code_sort_key"),
                         templates=StudyTemplate.objects.order_by("name"))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                study = services.study_create(user=request.user, project=Project.objects.get(pk=current["id"]),
                                              name=data["name"], samples=list(data["samples"]),
                                              template=data["template"], notes=data["notes"])
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, PermissionDenied):
                    exc = ValidationError(str(exc))
                apply_errors(form, exc)
            else:
                messages.success(request, f"Study {study.name} created with {study.pull_points.count()} pull points.")
                return redirect("study_detail", pk=study.pk)
    elif request.method == "POST":
        raise PermissionDenied("Viewers cannot create studies; ask a project manager for the chemist role.")
    calendar_url = settings.LABTRACK_BASE_URL.rstrip("/") + reverse(
        "ageing_calendar", args=[selectors.calendar_token_for(user=request.user)])
    return render(request, "ageing/study_list.html", {
        "studies": selectors.studies_for(user=request.user), "due": selectors.due_pull_points(user=request.user),
        "form": form, "calendar_url": calendar_url}, status=400 if form is not None and form.errors else 200)


def _model(request) -> str | None:
    """?model=linear|sqrt|exponential forces the trend; anything else is AICc's choice."""
    model = request.GET.get("model") or None
    return model if model in selectors.trend_models() else None


def _detail(request, pk: int) -> dict:
    context = selectors.study_detail(user=request.user, pk=pk, model=_model(request))
    context["model_query"] = f"?model={context['model']}" if context["model"] else ""
    context["series_rows"] = [presentation.series_row(s) for s in context["series"]]
    context["flag_lines"] = [(s, f, presentation.flag_change_text(s, f)) for s, f in context["flags"]]
    return context


@page
def study_detail(request, pk: int):
    context = _detail(request, pk)
    context["can_edit"] = user_can(request.user, context["study"].project_id, Action.EDIT_SAMPLES)
    context["spectra_samples"] = selectors.study_spectra_sample_codes(user=request.user, study=context["study"])
    return render(request, "ageing/study_detail.html", context)


def _quantity_series(request, pk: int, key: str):
    detail = _detail(request, pk)
    series = [s for s in detail["series"] if s.quantity.key == key]
    if not series:
        raise Http404(f"Study #{pk} has no quantity {key!r}.")
    return detail["study"], series


@page
def study_figure(request, pk: int, key: str, fmt: str):
    if fmt not in FIGURE_TYPES:
        raise Http404("Figures come as .svg or .png.")
    study, series = _quantity_series(request, pk, key)
    response = HttpResponse(series_figure(series, fmt), content_type=FIGURE_TYPES[fmt])
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="study{study.pk}-{key}.{fmt}"'
    return response


@page
def study_csv(request, pk: int, key: str):
    study, series = _quantity_series(request, pk, key)
    response = HttpResponse(series_csv(series), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study{study.pk}-{key}.csv"'
    return response


@page
def study_spectra(request, pk: int, sample: str, fmt: str):
    """Fresh against aged 133Cs spectra with their components (Figure 3c) as SVG, PNG or CSV."""
    if fmt not in (*FIGURE_TYPES, "csv"):
        raise Http404("Spectra come as .svg, .png or .csv.")
    study = selectors.study_get(user=request.user, pk=pk)
    spectra = selectors.study_spectra(user=request.user, study=study, sample_code=sample)
    if fmt == "csv":
        response = HttpResponse(spectra_csv(spectra), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="study{pk}-{sample}-spectra.csv"'
        return response
    response = HttpResponse(spectra_figure(spectra, sample, fmt), content_type=FIGURE_TYPES[fmt])
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="study{pk}-{sample}-spectra.{fmt}"'
    return response


@page
def study_report(request, pk: int):
    """Printable HTML: conditions, schedule with fulfilment, every result of record with
    run and reviewer, trends, flags and the predicted shelf life."""
    return render(request, "ageing/study_report.html", _detail(request, pk))


@page
def study_report_pdf(request, pk: int):
    """The report through WeasyPrint; figures are inlined as PNG data so no URL is fetched
    (and WeasyPrint's partial SVG styling is not relied on)."""
    import weasyprint

    context = _detail(request, pk)
    context["pdf"] = True
    context["figures"] = {}
    for s in context["series"]:
        key = s.quantity.key
        if key not in context["figures"]:
            png = series_figure([x for x in context["series"] if x.quantity.key == key], "png")
            context["figures"][key] = "data:image/png;base64," + base64.b64encode(png).decode()
    html = render_to_string("ageing/study_report.html", context, request=request)
    # The stylesheet is read from disk: fetching /static/ from this same server could wait on itself.
    stylesheet = weasyprint.CSS(filename=finders.find("labtrack/css/report.css"))
    pdf = weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(stylesheets=[stylesheet])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="study{pk}-report.pdf"'
    return response


@page
def study_export_eln(request, pk: int):
    """The study with the batches of its samples as one .eln bundle, built in a temporary
    file and streamed from it; whoever may view the study may export it."""
    study = selectors.study_get(user=request.user, pk=pk)
    out = tempfile.TemporaryFile(prefix="labtrack-eln-")
    name = eln_of_study(user=request.user, study=study, out=out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=name, content_type="application/vnd.eln+zip")


def calendar_feed(request, token: str):
    """iCalendar of the pull points of the token owner's projects (no login: calendar
    apps cannot log in; the token is the secret, one per user)."""
    from icalendar import Calendar, Event

    try:
        user, points = selectors.calendar_points(token=token)
    except NotFoundForUser as exc:
        raise Http404(str(exc)) from None
    cal = Calendar()
    cal.add("prodid", "-//LabTrack//ageing pull points//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"LabTrack pull points ({user.username})")
    base = settings.LABTRACK_BASE_URL.rstrip("/")
    for item in selectors.statuses(points):
        p = item.point
        event = Event()
        event.add("uid", f"pullpoint-{p.pk}@labtrack")
        # The status is in the title so a calendar shows what is still to do at a glance.
        event.add("summary", f"{p.sample.code}: {p.label} pull point ({item.status})")
        event.add("dtstart", p.due_at.date())
        event.add("dtend", p.due_at.date() + timedelta(days=1))
        event.add("description", f"{p.study.name} ({p.study.conditions_text}). Window {p.opens_at:%Y-%m-%d} to "
                                 f"{p.closes_at:%Y-%m-%d}. Measure: {', '.join(p.technique_labels) or 'as planned'}.")
        event.add("url", base + reverse("study_detail", args=[p.study_id]))
        cal.add_component(event)
    return HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
