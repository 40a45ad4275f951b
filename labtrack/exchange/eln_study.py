"""An ageing study as one `.eln` file. The crate's root lists the study as a Dataset —
storage conditions, dates, the stability-indicating quantities with their thresholds,
each pull point (an Event: window, due date, what counts for it, its state at export)
and the degradation numbers as the study page shows them — and the study's Dataset has
as parts every batch its samples come from, each described by
`eln_export.batch_describe`, exactly as the batch's own bundle describes it.

`study/labtrack-study.json` (format "labtrack-study") carries the study field by field,
naming samples by code and pointing at each batch's `labtrack.json`, so another LabTrack
imports the whole (eln_import); `study/study-results.json` holds the results of record
of the study's quantities per sample and per pull point, with their assessment."""
from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from rocrate.model import ContextEntity

from labtrack.ageing import presentation
from labtrack.ageing.models import PullPoint, Study
from labtrack.ageing.selectors import statuses, study_series
from labtrack.exchange.eln_export import (
    NATIVE_NAME, Crate, batch_describe, batch_dir_of, crate_start, crate_write, digest_json, folder_name,
    iso_or_none, measurement_id_of, sample_id_of,
)
from labtrack.samples.models import Batch

STUDY_FORMAT_VERSION = 1
STUDY_NATIVE_NAME = "labtrack-study.json"
STUDY_RESULTS_NAME = "study-results.json"
STUDY_DIR = "study/"  # batch folders end in "-batch/": no batch code can take it
CONDITION_FIELDS = ("atmosphere", "temperature_c", "relative_humidity_percent", "light")
POINT_FIELDS = ("label", "offset_days", "tolerance_days", "techniques")
POINT_DATES = ("due_at", "opens_at", "closes_at", "missed_at")
QUANTITY_FIELDS = ("key", "label", "routine", "name", "assignment", "unit", "threshold_kind", "threshold_amount")


def _schedule(points: list[PullPoint]) -> list[dict]:
    """The study's schedule (one entry per offset) as study_create takes it, from the
    first sample's points: every sample of a study has the same offsets."""
    by_offset: dict[float, dict] = {}
    for p in sorted(points, key=lambda p: (p.sample.code, p.offset_days)):
        by_offset.setdefault(p.offset_days, {f: getattr(p, f) for f in POINT_FIELDS})
    return [by_offset[k] for k in sorted(by_offset)]


def _point_of(result: dict, points: list[PullPoint]) -> PullPoint | None:
    """The pull point a result of record belongs to: of its sample, the window (opening
    to missed) holding its measurement, the nearest due date when two windows touch."""
    measured = result["measured_at"]
    inside = [p for p in points if p.opens_at <= measured < p.missed_at]
    return min(inside, key=lambda p: abs((measured - p.due_at).total_seconds()), default=None)


def _results(user, study: Study, points: list[PullPoint]) -> dict[str, Any]:
    """The study page's degradation numbers: per quantity and sample the results of
    record, their change from t0 and the assessment (trend, shelf life); and per pull
    point the results that belong to it."""
    points_by_sample: dict[str, list[PullPoint]] = {}
    for p in points:
        points_by_sample.setdefault(p.sample.code, []).append(p)
    per_point: dict[int, list[dict]] = {p.pk: [] for p in points}
    series_out = []
    for series in study_series(user=user, study=study):
        row = presentation.series_row(series)
        sq = series.quantity
        results = []
        for r in series.points:
            run = r["run"]
            point = _point_of(r, points_by_sample.get(series.sample_code, []))
            entry = {"age_days": r["age_days"], "value": r["value"], "stderr": r["stderr"],
                     "change": (r.get("change") or {}).get("change"), "change_stderr": (r.get("change") or {}).get("stderr"),
                     "flagged": r.get("flagged", False), "run": run.pk, "measurement": run.measurement_id,
                     "measured_at": iso_or_none(r["measured_at"]), "reviewer": str(r["reviewer"]) if r["reviewer"] else None,
                     "pull_point": point.label if point else None}
            results.append(entry)
            if point is not None:
                per_point[point.pk].append({"quantity": sq.key, "unit": sq.unit, **{
                    k: entry[k] for k in ("value", "stderr", "change", "run", "measurement", "measured_at")}})
        assessment = {k: v for k, v in series.assessment.items() if k != "changes"}  # the changes are in the results
        texts = {k: getattr(row, k).replace("\u00a0", " ") for k in ("baseline", "latest_change", "slope", "slope_ci")}
        series_out.append({"quantity": sq.key, "label": sq.label, "sample": series.sample_code, "unit": sq.unit,
                           "threshold": sq.threshold_text, "source": row.source, **texts,
                           "results": results, "assessment": assessment})
    return {"series": series_out,
            "pull_points": [{"sample": p.sample.code, "label": p.label, "offset_days": p.offset_days,
                             "due_at": iso_or_none(p.due_at), "results": per_point[p.pk]} for p in points]}


def _quantity_entities(c: Crate, study: Study, quantities) -> list[dict]:
    refs = []
    for q in quantities:
        pid = f"#study-{study.pk}-quantity-{q.key}"
        source = f"{q.routine} {q.name}" + (f" ({q.assignment})" if q.assignment else "")
        c.crate.add(ContextEntity(c.crate, pid, properties={
            "@type": "PropertyValue", "propertyID": q.key, "name": q.label, "unitText": q.unit or None,
            "measurementTechnique": q.routine,
            "description": f"Stability-indicating quantity: {source}; a significant change is {q.threshold_text} "
                           f"from t0 ({q.threshold_kind} {q.threshold_amount:g})."}))
        refs.append({"@id": pid})
    return refs


def _point_entities(c: Crate, point_statuses, batches: dict[int, Batch]) -> list[dict]:
    refs = []
    for item in point_statuses:
        p = item.point
        batch = batches[p.sample.batch_id]
        pid = f"#pull-point-{p.pk}"
        techniques = ", ".join(t.upper() for t in p.techniques) or "any technique"
        done = "; ".join(f"{m.technique.upper()} {m.measured_at:%Y-%m-%d}" for m in item.measurements)
        c.crate.add(ContextEntity(c.crate, pid, properties={
            "@type": "Event", "name": f"{p.sample.code}: {p.label} pull point", "startDate": iso_or_none(p.opens_at),
            "endDate": iso_or_none(p.closes_at), "about": {"@id": sample_id_of(batch, p.sample.code)},
            "description": f"Due {p.due_at:%Y-%m-%d} (day {p.offset_days:g} ± {p.tolerance_days:g}), missed from "
                           f"{p.missed_at:%Y-%m-%d}; measure {techniques}. At export: {item.status}"
                           + (f" ({done})." if done else "."),
            "workPerformed": [{"@id": measurement_id_of(batch, m.pk, m.technique)} for m in item.measurements]
            or None}))
        refs.append({"@id": pid})
    return refs


def study_export_eln(*, user, study: Study, out: IO[bytes]) -> str:
    """Write `study` and the batches of its samples as one .eln zip to `out` (a binary
    file opened for writing). Returns the suggested file name. The study must be
    visible to `user` (ageing.selectors.study_get)."""
    top = folder_name(f"study-{study.name}")
    samples = list(study.samples.select_related("batch").order_by("code_sort_key"))
    batches = {b.pk: b for b in Batch.objects.filter(pk__in={s.batch_id for s in samples})
               .select_related("project", "protocol", "operator").order_by("code_sort_key")}
    c = crate_start(top, name=f"LabTrack ageing study {study.name}",
                    description=f"Ageing study {study.name} of project {study.project.name} ({study.conditions_text}): "
                                "schedule, pull points, stability-indicating quantities, results of record, and the "
                                f"batches {', '.join(b.code for b in batches.values())} its samples come from.")
    # The batches first, one at a time, each as its own bundle would describe it.
    batch_parts = [batch_describe(c, user=user, batch=b) for b in batches.values()]

    points = list(PullPoint.objects.filter(study=study).select_related("sample").order_by("sample__code_sort_key", "due_at"))
    point_statuses = statuses(points)
    quantities = list(study.quantities.order_by("id"))
    results = _results(user, study, points)
    native = {
        "format": "labtrack-study", "version": STUDY_FORMAT_VERSION, "exported_at": c.now.isoformat(),
        "exported_from": settings.LABTRACK_BASE_URL, "project": study.project.name,
        "batches": [{"code": b.code, "record": f"{batch_dir_of(b)}{NATIVE_NAME}"} for b in batches.values()],
        "results": f"{STUDY_DIR}{STUDY_RESULTS_NAME}",
        "study": {
            "name": study.name, "notes": study.notes, **{f: getattr(study, f) for f in CONDITION_FIELDS},
            "template": study.template.name if study.template_id else None, "created_at": iso_or_none(study.created_at),
            "created_by": str(study.created_by), "samples": [s.code for s in samples], "schedule": _schedule(points),
            "pull_points": [{"sample": item.point.sample.code, **{f: getattr(item.point, f) for f in POINT_FIELDS},
                             **{f: iso_or_none(getattr(item.point, f)) for f in POINT_DATES}, "status": item.status,
                             "measurements": [m.pk for m in item.measurements]} for item in point_statuses],
            "quantities": [{f: getattr(q, f) for f in QUANTITY_FIELDS} for q in quantities],
        },
    }
    results_bytes, results_sha = digest_json(results)
    native_bytes, native_sha = digest_json(native)
    own_parts = [
        c.file(f"{STUDY_DIR}{STUDY_RESULTS_NAME}", size=len(results_bytes), sha256=results_sha, properties={
            "name": STUDY_RESULTS_NAME, "description": "Results of record of the study's quantities per sample and "
                                                      "pull point, their change from t0, trend and shelf life"}),
        c.file(f"{STUDY_DIR}{STUDY_NATIVE_NAME}", size=len(native_bytes), sha256=native_sha, properties={
            "name": STUDY_NATIVE_NAME,
            "description": f"LabTrack ageing study record, format version {STUDY_FORMAT_VERSION}"}),
    ]
    c.entries += [(f"{STUDY_DIR}{STUDY_RESULTS_NAME}", results_bytes), (f"{STUDY_DIR}{STUDY_NATIVE_NAME}", native_bytes)]
    first, last = (min(p.opens_at for p in points), max(p.missed_at for p in points)) if points else (None, None)
    study_dataset = c.dataset(STUDY_DIR, {
        "name": f"Ageing study {study.name}", "identifier": study.name, "genre": "ageing study",
        "description": f"Stored {study.conditions_text}; samples {', '.join(s.code for s in samples)}.",
        "text": study.notes or None, "dateCreated": iso_or_none(study.created_at), "author": c.person(study.created_by),
        "temporalCoverage": f"{first.isoformat()}/{last.isoformat()}" if points else None,
        "about": [{"@id": sample_id_of(batches[s.batch_id], s.code)} for s in samples],
        "variableMeasured": (c.property_values(f"study-{study.pk}", study, CONDITION_FIELDS)
                             + _quantity_entities(c, study, quantities)) or None,
        "recordedAt": _point_entities(c, point_statuses, batches) or None,
        "hasPart": [*batch_parts, *own_parts],
    })
    c.crate.root_dataset["hasPart"] = [study_dataset]
    crate_write(c, out)
    return f"{top}.eln"


__all__ = ["STUDY_NATIVE_NAME", "study_export_eln"]
