"""Editing an ageing study after it was created: its name, notes, storage conditions and
schedule (/studies/<id>/edit/), and moving a pull point that has not been measured yet
(/studies/<id>/pull-points/redate/). The services decide; these views only ask and show."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from labtrack.ageing import selectors, services
from labtrack.ageing.models import Study
from labtrack.core.roles import Action
from labtrack.measurements.models import Technique
from labtrack.samples.permissions import require
from labtrack.web.forms import _datetime_field
from labtrack.web.views.common import apply_errors, page

REASON_HELP = "Required once a pull point has been measured: it is kept in the study's audit history."
SCHEDULE_HELP = ("One pull point a line: label | offset (days) | tolerance (± days) | techniques, e.g. "
                 "“3 months | 91.31 | 3 | nmr, pl, xrd”. Techniques: " + ", ".join(Technique.values) + ".")


def schedule_text(points) -> str:
    """The study's schedule (one sample's points: every sample shares it) as form lines."""
    return "\n".join(f"{p.label} | {p.offset_days:g} | {p.tolerance_days:g} | {', '.join(p.techniques)}"
                     for p in points)


def parse_schedule(text: str) -> list[dict]:
    """Form lines as pull points for services.clean_pull_points; ValidationError naming the line."""
    points = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            raise ValidationError(f"Line {number} (“{line.strip()[:60]}”): write label | offset days | tolerance | techniques.")
        label, offset = parts[0], parts[1]
        tolerance = parts[2] if len(parts) > 2 and parts[2] else "3"
        techniques = [t.strip().lower() for t in (parts[3] if len(parts) > 3 else "").split(",") if t.strip()]
        unknown = [t for t in techniques if t not in Technique.values]
        if unknown:
            raise ValidationError(f"Line {number}: unknown technique {', '.join(unknown)}; use "
                                  f"{', '.join(Technique.values)}.")
        try:
            points.append({"label": label, "offset_days": float(offset), "tolerance_days": float(tolerance),
                           "techniques": techniques})
        except ValueError:
            raise ValidationError(f"Line {number}: the offset and tolerance are numbers of days "
                                  f"(got “{offset}” and “{tolerance}”).") from None
    return points


class StudyEditForm(forms.ModelForm):
    reason = forms.CharField(label="Reason for the change", required=False, max_length=500, help_text=REASON_HELP)
    pull_points = forms.CharField(label="Schedule", widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "wide"}),
                               help_text=SCHEDULE_HELP)

    class Meta:
        model = Study
        fields = ["name", "notes", "atmosphere", "temperature_c", "relative_humidity_percent", "light"]
        labels = {"name": "Title", "notes": "Description"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_pull_points(self):
        return parse_schedule(self.cleaned_data["pull_points"])


class RedateForm(forms.Form):
    point = forms.TypedChoiceField(label="Pull point", coerce=int)
    due_at = _datetime_field("New due date")
    reason = forms.CharField(label="Reason", max_length=500, help_text="Kept in the study's audit history.")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].choices = choices


def _context(study: Study, form: StudyEditForm, redate: RedateForm, points) -> dict:
    return {"study": study, "form": form, "redate": redate, "points": points,
            "measured": any(p.measurements for p in points)}


def _redate_choices(points) -> list[tuple[int, str]]:
    return [(p.point.pk, f"{p.point.sample.code} · {p.point.label} (due {p.point.due_at:%Y-%m-%d})")
            for p in points if not p.measurements]


def _points(study: Study):
    return selectors.statuses(list(study.pull_points.select_related("sample").order_by("sample__code_sort_key", "due_at")))


@page
def study_edit(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    require(request.user, study.project, Action.EDIT_SAMPLES)    # a viewer gets a 403, not a form
    points = _points(study)
    first_sample = points[0].point.sample_id if points else None
    initial = {"pull_points": schedule_text([p.point for p in points if p.point.sample_id == first_sample])}
    form = StudyEditForm(request.POST or None, instance=Study.objects.get(pk=study.pk), initial=initial)
    redate = RedateForm(choices=_redate_choices(points))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.study_edit(user=request.user, study=study, reason=data["reason"],
                                          pull_points=data["pull_points"],
                                          **{f: data[f] for f in services.STUDY_EDITABLE})
        except (ValidationError, PermissionDenied) as exc:
            apply_errors(form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc)))
        else:
            messages.success(request, f"Study saved{f'; {changed} pull points rescheduled' if changed else ''}.")
            return redirect("study_detail", pk=study.pk)
    return render(request, "ageing/study_edit.html", _context(study, form, redate, points),
                  status=400 if form.errors else 200)


@page
def pull_point_redate(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    require(request.user, study.project, Action.EDIT_SAMPLES)
    points = _points(study)
    redate = RedateForm(request.POST or None, choices=_redate_choices(points))
    if request.method == "POST" and redate.is_valid():
        point = study.pull_points.select_related("sample", "study__project").get(pk=redate.cleaned_data["point"])
        try:
            services.pull_point_redate(user=request.user, point=point, due_at=redate.cleaned_data["due_at"],
                                       reason=redate.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(redate, exc)
        else:
            messages.success(request, f"{point.sample.code} {point.label} now due "
                                      f"{redate.cleaned_data['due_at']:%Y-%m-%d}.")
            return redirect("study_detail", pk=study.pk)
    form = StudyEditForm(instance=Study.objects.get(pk=study.pk), initial={"pull_points": schedule_text(
        [p.point for p in points if points and p.point.sample_id == points[0].point.sample_id])})
    return render(request, "ageing/study_edit.html", _context(study, form, redate, points),
                  status=400 if redate.errors else 200)
