"""Writes for ageing studies: templates, studies with their pull points and quantities,
their later edits (with a reason in the audit history once a pull point is measured),
re-dating a pull point that is not measured yet, and the e-mail reminders (sent once
per pull point)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from labtrack.ageing import defaults
from labtrack.ageing.selectors import statuses
from labtrack.ageing.models import PullPoint, ReminderSent, Study, StudyQuantity, StudyTemplate, ThresholdKind
from labtrack.core.edits import locked_update
from labtrack.core.roles import Action, role_allows
from labtrack.measurements.models import Technique
from labtrack.samples.models import Membership, Project, Sample
from labtrack.samples.permissions import require

log = logging.getLogger(__name__)

# The last pull point counts as missed this many tolerances after its window closes.
LAST_POINT_GRACE_TOLERANCES = 2.0


def clean_pull_points(points: Any) -> list[dict]:
    """Validated, sorted pull points; ValidationError naming the first bad entry."""
    if not isinstance(points, list) or not points:
        raise ValidationError({"pull_points": "Give at least one pull point."})
    out, seen = [], set()
    for i, p in enumerate(points, 1):
        try:
            offset = float(p["offset_days"])
            tolerance = float(p.get("tolerance_days", 3.0))
            techniques = [Technique(t).value for t in p.get("techniques", [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError({"pull_points": f"Pull point {i}: give offset_days (a number), tolerance_days "
                                                  f"and known techniques ({exc})."}) from None
        if offset < 0 or tolerance < 0:
            raise ValidationError({"pull_points": f"Pull point {i}: offset and tolerance cannot be negative."})
        if offset in seen:
            raise ValidationError({"pull_points": f"Pull point {i}: two points at {offset:g} days."})
        seen.add(offset)
        out.append({"label": str(p.get("label") or f"{offset:g} d")[:60], "offset_days": offset,
                    "tolerance_days": tolerance, "techniques": techniques})
    return sorted(out, key=lambda p: p["offset_days"])


def clean_quantities(entries: Iterable[Any]) -> list[dict]:
    out = []
    for entry in entries:
        spec = {"key": entry} if isinstance(entry, str) else dict(entry)
        key = spec.get("key")
        if key not in defaults.QUANTITIES:
            raise ValidationError({"quantities": f"Unknown quantity {key!r}; known: {', '.join(defaults.QUANTITIES)}."})
        label, routine, name, assignment, unit, kind, amount = defaults.QUANTITIES[key]
        try:
            amount = float(spec.get("threshold_amount", amount))
            kind = ThresholdKind(spec.get("threshold_kind", kind))
        except (TypeError, ValueError):
            raise ValidationError({"quantities": f"{label}: the threshold must be a number and a known kind."}) from None
        out.append(dict(key=key, label=label, routine=routine, name=name, assignment=assignment, unit=unit,
                        threshold_kind=kind, threshold_amount=amount))
    return out


def study_templates_ensure() -> list[StudyTemplate]:
    """The built-in templates (created once; edits made since are kept)."""
    out = []
    for name, spec in defaults.TEMPLATES.items():
        row, _ = StudyTemplate.objects.get_or_create(name=name, defaults=spec)
        out.append(row)
    return out


def _pull_point_rows(study: Study, sample: Sample, points: list[dict]) -> list[PullPoint]:
    start = sample.age_started_at
    rows = []
    for i, p in enumerate(points):
        due = start + timedelta(days=p["offset_days"])
        tol = timedelta(days=p["tolerance_days"])
        if i + 1 < len(points):
            nxt = points[i + 1]
            missed = start + timedelta(days=nxt["offset_days"] - nxt["tolerance_days"])
            missed = max(missed, due + tol)
        else:
            missed = due + tol + LAST_POINT_GRACE_TOLERANCES * max(tol, timedelta(days=1))
        rows.append(PullPoint(study=study, sample=sample, label=p["label"], offset_days=p["offset_days"],
                              tolerance_days=p["tolerance_days"], techniques=p["techniques"], due_at=due,
                              opens_at=due - tol, closes_at=due + tol, missed_at=missed))
    return rows


def study_create(*, user, project: Project, name: str, samples: list[Sample], template: StudyTemplate | None = None,
                 pull_points: list[dict] | None = None, quantities: list | None = None, notes: str = "",
                 **conditions: Any) -> Study:
    """A study on `samples` (all of `project`), its pull points per sample dated from
    each sample's age-clock start, and its quantities; conditions, pull points and
    quantities default to the template's. Chemists and above may create studies."""
    require(user, project, Action.EDIT_SAMPLES)
    if not name.strip():
        raise ValidationError({"name": "Give the study a name."})
    if not samples:
        raise ValidationError({"samples": "Choose at least one sample."})
    foreign = [s.code for s in samples if s.batch.project_id != project.pk]
    if foreign:
        raise ValidationError({"samples": f"{', '.join(foreign)} belong to another project."})
    if Study.objects.filter(project=project, name=name.strip()).exists():
        raise ValidationError({"name": f"The project already has a study called {name.strip()!r}."})
    points = clean_pull_points(pull_points if pull_points is not None else (template.pull_points if template else None))
    specs = clean_quantities(quantities if quantities is not None else (template.quantities if template else []))
    if template is not None:
        for field in ("atmosphere", "temperature_c", "relative_humidity_percent", "light"):
            conditions.setdefault(field, getattr(template, field))
    study = Study(project=project, name=name.strip(), template=template, notes=notes, created_by=user, **conditions)
    study.full_clean(exclude=["samples"])
    with transaction.atomic():
        study.save()
        study.samples.set(samples)
        # with history rows: a pull point moved later keeps its planned date in the audit trail
        bulk_create_with_history([row for s in samples for row in _pull_point_rows(study, s, points)], PullPoint,
                                 default_user=user)
        StudyQuantity.objects.bulk_create([StudyQuantity(study=study, **spec) for spec in specs])
    return study


STUDY_EDITABLE = ("name", "notes", "atmosphere", "temperature_c", "relative_humidity_percent", "light")


def _measured_points(study: Study) -> dict[int, list]:
    """{pull point id: the measurements that count for it} for the study's points that any
    measurement already counts for (on time, late, or partly done)."""
    points = list(PullPoint.objects.filter(study=study).select_related("sample"))
    return {s.point.pk: s.measurements for s in statuses(points) if s.measurements}


def _reason_if_measured(study: Study, reason: str, what: str) -> None:
    if not reason.strip() and _measured_points(study):
        raise ValidationError({"reason": f"This study has measured pull points; say why {what} is being changed."})


def study_update(*, user, study: Study, reason: str = "", **fields: Any) -> Study:
    """Change a study's name, notes or storage conditions. Chemists and above; once a
    pull point has been measured a reason is required, kept in the audit history."""
    require(user, study.project, Action.EDIT_SAMPLES)
    unknown = set(fields) - set(STUDY_EDITABLE)
    if unknown:
        raise ValueError(f"study_update cannot change {', '.join(sorted(unknown))}")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationError({"name": "Give the study a name."})
        if Study.objects.filter(project_id=study.project_id, name=fields["name"]).exclude(pk=study.pk).exists():
            raise ValidationError({"name": f"The project already has a study called {fields['name']!r}."})
    changed = {k: v for k, v in fields.items() if getattr(study, k) != v}
    if not changed:
        return study
    _reason_if_measured(study, reason, "the study")
    return locked_update(Study, study.pk, changed, reason)


def study_schedule_update(*, user, study: Study, pull_points: list[dict], reason: str = "") -> int:
    """Replace the study's schedule with `pull_points` (as in study_create) for every
    sample. Points already measured stay exactly as they are and must stay in the
    schedule (same offset); the others are updated, added or removed, their dates
    recomputed from each sample's age-clock start. Returns how many rows changed."""
    require(user, study.project, Action.EDIT_SAMPLES)
    points = clean_pull_points(pull_points)
    measured = _measured_points(study)
    offsets = {p["offset_days"] for p in points}
    existing = list(study.pull_points.select_related("sample"))
    kept_away = [p for p in existing if p.pk in measured and p.offset_days not in offsets]
    if kept_away:
        raise ValidationError({"pull_points": "Measured pull points stay in the schedule: " + "; ".join(
            f"{p.sample.code} {p.label} ({p.offset_days:g} d)" for p in kept_away) + "."})
    by_key = {(p.sample_id, p.offset_days): p for p in existing}
    new_rows, updates = [], []
    for sample in study.samples.all():
        for row in _pull_point_rows(study, sample, points):
            held = by_key.pop((sample.pk, row.offset_days), None)
            if held is None:
                new_rows.append(row)
            elif held.pk not in measured:
                fields = {f: getattr(row, f) for f in ("label", "tolerance_days", "techniques", "due_at", "opens_at",
                                                       "closes_at", "missed_at") if getattr(held, f) != getattr(row, f)}
                if held.due_at != row.due_at and held.tolerance_days == row.tolerance_days:
                    # re-dated by hand (pull_point_redate): an edit elsewhere keeps that date
                    fields = {f: v for f, v in fields.items() if f not in ("due_at", "opens_at", "closes_at", "missed_at")}
                if fields:
                    updates.append((held, fields))
    gone = list(by_key.values())      # not in the new schedule, and not measured (checked above)
    if not (new_rows or updates or gone):
        return 0
    if measured and not reason.strip():
        raise ValidationError({"reason": "This study has measured pull points; say why the schedule is being changed."})
    with transaction.atomic():
        for row in new_rows:
            row._change_reason = reason.strip()
            row.save()
        for held, fields in updates:
            locked_update(PullPoint, held.pk, fields, reason)
            if {"due_at", "opens_at"} & set(fields):
                ReminderSent.objects.filter(pull_point_id=held.pk).delete()   # remind of the new window
        for row in gone:
            row._change_reason = reason.strip()
            row.delete()
    return len(new_rows) + len(updates) + len(gone)


def study_edit(*, user, study: Study, pull_points: list[dict], reason: str = "", **fields: Any) -> int:
    """study_update and study_schedule_update together: all of it or nothing. Returns how
    many pull points changed."""
    with transaction.atomic():
        study_update(user=user, study=study, reason=reason, **fields)
        return study_schedule_update(user=user, study=Study.objects.get(pk=study.pk), pull_points=pull_points,
                                     reason=reason)


def pull_point_redate(*, user, point: PullPoint, due_at: datetime, reason: str) -> PullPoint:
    """Move a pull point that has not been measured to `due_at`, its window and its
    missed date moving with it; a measured one keeps its date (its results are dated by
    it). The reason is required and kept in the audit history; a reminder already sent
    is forgotten so the new window gets its own."""
    require(user, point.study.project, Action.EDIT_SAMPLES)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the pull point moves: the reason is kept in the study's history."})
    if due_at is None:
        raise ValidationError({"due_at": "Give the new due date."})
    counted = _measured_points(point.study).get(point.pk)
    if counted:
        done = ", ".join(f"{m.get_technique_display()} {m.measured_at:%Y-%m-%d}" for m in counted)
        raise ValidationError({"due_at": f"{point.sample.code} {point.label} has been measured ({done}); "
                                         "a measured pull point keeps its date."})
    if due_at < point.sample.age_started_at:
        raise ValidationError({"due_at": f"{due_at:%Y-%m-%d} is before {point.sample.code}'s ageing start "
                                         f"({point.sample.age_started_at:%Y-%m-%d})."})
    shift = due_at - point.due_at
    with transaction.atomic():
        moved = locked_update(PullPoint, point.pk, {"due_at": due_at, "opens_at": point.opens_at + shift,
                                                    "closes_at": point.closes_at + shift,
                                                    "missed_at": point.missed_at + shift}, reason)
        ReminderSent.objects.filter(pull_point=point).delete()
    return moved


RESTORABLE = ("label", "tolerance_days", "techniques", "due_at", "opens_at", "closes_at", "missed_at")


def pull_points_restore(*, user, study: Study, changes: list[tuple[PullPoint, dict[str, Any]]], reason: str) -> int:
    """Set pull points of `study` as another LabTrack had them (an imported study's
    re-dated or re-labelled points): `changes` is [(point, {field: value})]. Chemists
    and above; the reason is required and kept in each point's history. Returns how
    many points changed."""
    require(user, study.project, Action.EDIT_SAMPLES)
    if changes and not reason.strip():
        raise ValidationError({"reason": "Say where the pull points come from: the reason is kept in their history."})
    with transaction.atomic():
        for point, fields in changes:
            if point.study_id != study.pk:
                raise ValueError(f"pull point {point.pk} is not of study {study.pk}")
            unknown = set(fields) - set(RESTORABLE)
            if unknown:
                raise ValueError(f"pull_points_restore cannot set {', '.join(sorted(unknown))}")
            merged = {f: fields.get(f, getattr(point, f)) for f in ("due_at", "opens_at", "closes_at", "missed_at")}
            if not merged["opens_at"] <= merged["due_at"] <= merged["closes_at"] <= merged["missed_at"]:
                raise ValidationError({"pull_points": f"{point.sample.code} {fields.get('label', point.label)}: the "
                                                      "window must open before the due date and close before missed."})
            locked_update(PullPoint, point.pk, fields, reason)
    return len(changes)


def _recipients(project_id: int) -> list[str]:
    """Project members who measure (chemists and above) and have an e-mail address."""
    rows = Membership.objects.filter(project_id=project_id).select_related("user")
    return sorted({m.user.email for m in rows if m.user.email and role_allows(m.role, Action.EDIT_SAMPLES)})


def reminders_send(*, now: datetime | None = None, due: list | None = None) -> int:
    """E-mail each open, unfulfilled pull point's reminder once (`now` is recorded as the
    sending time). The ReminderSent row is
    written in the same transaction as the send: if the mail fails the row is rolled back
    and the next beat retries; once committed, no restart or overlapping beat resends.
    `due` is selectors.due_pull_points (passed in by the task). Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for item in due or []:
        point = item.point
        if ReminderSent.objects.filter(pull_point=point).exists():
            continue
        recipients = _recipients(point.study.project_id)
        try:
            with transaction.atomic():
                ReminderSent.objects.create(pull_point=point, sent_at=now, recipients=", ".join(recipients))
                if recipients:
                    url = settings.LABTRACK_BASE_URL.rstrip("/") + reverse("study_detail", args=[point.study_id])
                    send_mail(
                        subject=f"[LabTrack] {point.sample.code}: {point.label} pull point {item.status}",
                        message=(f"{point.study.name} ({point.study.conditions_text})\n"
                                 f"Sample {point.sample.code}, pull point {point.label}: due {point.due_at:%Y-%m-%d}, "
                                 f"window {point.opens_at:%Y-%m-%d} to {point.closes_at:%Y-%m-%d}.\n"
                                 f"Measure: {', '.join(point.technique_labels) or 'as planned'}.\n{url}\n"),
                        from_email=None, recipient_list=recipients)
        except IntegrityError:
            continue  # another beat process recorded it first
        except OSError as exc:  # SMTP down: nothing recorded, retried on the next beat
            log.warning("reminder for pull point %s not sent: %s", point.pk, exc)
            continue
        sent += 1
    return sent

