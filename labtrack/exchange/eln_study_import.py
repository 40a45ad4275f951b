"""An ageing study coming back from a LabTrack study `.eln` (its `labtrack-study.json`),
after eln_import has recreated its batches in the same transaction: the study is made
through the ageing services, as on the study pages — same name, notes, conditions,
schedule and quantities on the imported samples (matched by code) — and any pull point
whose label, window or dates were changed there (a re-dated point) is set as exported,
its history saying "imported from <file>". Fulfilment is never imported: it is derived
again from the imported measurements, as everywhere."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from labtrack.ageing import defaults
from labtrack.ageing.models import Study, StudyTemplate
from labtrack.ageing.services import pull_points_restore, study_create
from labtrack.exchange.eln_study import CONDITION_FIELDS, POINT_DATES
from labtrack.samples.models import Project, Sample

RESTORED_FIELDS = ("label", "tolerance_days", "techniques", *POINT_DATES)


def study_check(*, project: Project, record: dict[str, Any], batch_records: list[dict[str, Any]],
                file_name: str) -> None:
    """Refuse, before anything is written, a study that cannot be recreated here: a
    sample missing from the bundle's batches, a quantity this LabTrack reads otherwise,
    or a name the project already uses."""
    study = record["study"]
    name = str(study["name"]).strip()
    bundled = {s["code"].casefold() for r in batch_records for s in r["samples"]}
    missing = [code for code in study["samples"] if code.casefold() not in bundled]
    missing += sorted({p["sample"] for p in study["pull_points"]
                       if p["sample"].casefold() not in bundled and p["sample"] not in missing})
    if missing:
        raise ValidationError(f"Study {name} in {file_name} is on sample{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}, which the file's batches do not hold; nothing was imported.")
    for q in study["quantities"]:
        local = defaults.QUANTITIES.get(q["key"])
        if local is None:
            raise ValidationError(f"Study {name} in {file_name} follows a quantity this LabTrack does not know "
                                  f"({q['key']!r}); nothing was imported.")
        there, here = (q["routine"], q["name"], q.get("assignment", "")), local[1:4]
        if there != here:
            raise ValidationError(f"Study {name} in {file_name}: {q['label']} is read from {' '.join(filter(None, there))} "
                                  f"there but from {' '.join(filter(None, here))} here; nothing was imported.")
    if Study.objects.filter(project=project, name=name).exists():
        raise ValidationError(f"Project {project.name} already has a study called {name!r}; nothing was imported.")


def _dates(point: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for f in POINT_DATES:
        value = parse_datetime(str(point.get(f) or ""))
        if value is None:
            raise ValidationError(f"Pull point {point.get('label')} of {point.get('sample')} has no valid {f}.")
        out[f] = value
    return out


def study_restore(*, user, project: Project, record: dict[str, Any], samples: dict[str, Sample],
                  provenance: str) -> Study:
    """Create the study of `record` on the imported `samples` ({code casefolded: sample};
    inside the caller's transaction, after study_check)."""
    s = record["study"]
    template = StudyTemplate.objects.filter(name=s["template"]).first() if s.get("template") else None
    notes = "\n".join(filter(None, [s.get("notes", ""), provenance,
                                    f"Created there by {s['created_by']} on {str(s.get('created_at') or '')[:10]}."
                                    if s.get("created_by") else ""]))
    study = study_create(
        user=user, project=project, name=s["name"], samples=[samples[code.casefold()] for code in s["samples"]],
        template=template, pull_points=s["schedule"], notes=notes,
        quantities=[{"key": q["key"], "threshold_kind": q["threshold_kind"], "threshold_amount": q["threshold_amount"]}
                    for q in s["quantities"]],
        **{f: s.get(f) for f in CONDITION_FIELDS if s.get(f) is not None})
    created = {(p.sample.code.casefold(), p.offset_days): p for p in study.pull_points.select_related("sample")}
    changes = []
    for exported in s["pull_points"]:
        point = created.pop((exported["sample"].casefold(), float(exported["offset_days"])), None)
        if point is None:
            raise ValidationError(f"Pull point {exported['label']} of {exported['sample']} is not in the study's "
                                  "schedule; nothing was imported.")
        wanted = {"label": exported["label"], "tolerance_days": float(exported["tolerance_days"]),
                  "techniques": list(exported["techniques"]), **_dates(exported)}
        fields = {f: wanted[f] for f in RESTORED_FIELDS if getattr(point, f) != wanted[f]}
        if fields:
            changes.append((point, fields))
    if created:
        left = ", ".join(f"{p.sample.code} {p.label}" for p in created.values())
        raise ValidationError(f"The study's schedule plans pull points the file does not list ({left}); "
                              "nothing was imported.")
    pull_points_restore(user=user, study=study, changes=changes, reason=provenance)
    return study
