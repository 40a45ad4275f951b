"""The compare view's reads: measurements of one technique, each as the trace stored by its
best run (the result of record, else the newest candidate: labtrack.core.records), on the
technique's natural axes, normalised and decimated for a browser; optionally the run's
fitted model and components. Reads the runs' stored arrays (`curve_arrays`), never raw files.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Q

from labtrack import engine
from labtrack.analyses import compare_encoding as encoding
from labtrack.analyses.models import AnalysisRun
from labtrack.core.naturalsort import natural_key
from labtrack.core.records import candidate_q, record_rank
from labtrack.measurements.models import Measurement, Technique
from labtrack.samples.models import Batch, code_is
from labtrack.samples.permissions import visible_projects

MAX_MEASUREMENTS = 24
MAX_POINTS_PER_TRACE = 4000
NORMALISATIONS = ("max", "area", "none")


@dataclass
class CompareRequest:
    technique: str
    measurement_ids: list[int] = field(default_factory=list)
    batch_codes: list[str] = field(default_factory=list)
    study_id: int | None = None      # shown in links; the view resolves it to sample_ids
    sample_ids: list[int] | None = None
    age: str = "all"                 # all, fresh, aged
    normalise: str = "max"
    axis: str = ""
    components: bool = False
    max_points: int = MAX_POINTS_PER_TRACE

    @property
    def technique_label(self) -> str:
        return Technique(self.technique).label


def _int_list(values) -> list[int]:
    out = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if part:
                if not part.isdigit():
                    raise ValidationError({"m": f"“{part[:40]}” is not a measurement number."})
                out.append(int(part))
    return out


def compare_request_from(params) -> CompareRequest:
    """A CompareRequest from query parameters (a QueryDict); ValidationError naming the
    parameter a chemist got wrong."""
    technique = (params.get("technique") or "").strip()
    if technique not in Technique.values:
        raise ValidationError({"technique": "Choose a technique: " + ", ".join(Technique.labels) + "."})
    normalise = params.get("norm") or "max"
    if normalise not in NORMALISATIONS:
        raise ValidationError({"norm": "Normalise by max, area or none."})
    age = params.get("age") or "all"
    if age not in ("all", "fresh", "aged"):
        raise ValidationError({"age": "Show all, fresh or aged samples."})
    study = params.get("study") or None
    if study is not None and not str(study).isdigit():
        raise ValidationError({"study": "Not a study number."})
    if not engine.trace_routines(technique):
        raise ValidationError({"technique": f"{Technique(technique).label} has no curves to compare yet."})
    if not (params.getlist("m") or params.getlist("batch") or study):
        raise ValidationError({"m": "Pick measurements to compare: tick them on a batch page, or choose batches."})
    return CompareRequest(
        technique=technique, measurement_ids=_int_list(params.getlist("m")),
        batch_codes=[c.strip()[:40] for c in params.getlist("batch") if c.strip()][:50],
        study_id=int(study) if study else None, age=age, normalise=normalise,
        axis=(params.get("axis") or "")[:20], components=params.get("components") in ("1", "on", "true"))


def _measurements(*, user, req: CompareRequest) -> list[Measurement]:
    qs = (Measurement.objects.filter(sample__batch__project__in=visible_projects(user), technique=req.technique)
          .select_related("sample", "sample__batch"))
    chosen = Q(pk__in=req.measurement_ids) if req.measurement_ids else Q()
    if req.batch_codes:
        by_code = Q()
        for code in req.batch_codes:
            by_code |= Q(sample__batch__in=Batch.objects.filter(code_is(code)).values("pk"))
        chosen &= by_code
    if req.sample_ids is not None:
        chosen &= Q(sample_id__in=req.sample_ids)
    if not (req.measurement_ids or req.batch_codes or req.sample_ids is not None):
        raise ValidationError({"m": "Pick measurements to compare: tick them on a batch page, or choose batches."})
    if req.age == "fresh":
        chosen &= Q(sample__ageing_started_at__isnull=True)
    elif req.age == "aged":
        chosen &= Q(sample__ageing_started_at__isnull=False)
    found = list(qs.filter(chosen).order_by("id")[: MAX_MEASUREMENTS + 1])
    return found


def _best_runs(measurements: list[Measurement], routines: list[str]) -> dict[int, AnalysisRun]:
    runs = (AnalysisRun.objects.filter(measurement__in=measurements, routine__in=routines)
            .filter(candidate_q()).light())
    best: dict[int, AnalysisRun] = {}
    for run in runs:
        held = best.get(run.measurement_id)
        if held is None or record_rank(run) > record_rank(held):
            best[run.measurement_id] = run
    return best


def _label(m: Measurement) -> str:
    """'NC8.3-P, 1 d' or 'NC12.8-P-AGED (aged), 183 d': the legend names sample and age;
    the measurement's own label goes with it as `detail`."""
    sample = m.sample
    state = " (aged)" if sample.ageing_started_at else ""
    return f"{sample.code}{state}, {m.sample_age_days:.0f} d"


@dataclass
class ComparePlan:
    """What a compare response will hold, short of the arrays: the measurements in plot
    order with their best runs, found with a few light queries. A run's stored curves never
    change, so this plan (and the request) fixes the response: its `etag`."""

    req: CompareRequest
    measurements: list[Measurement]
    best: dict[int, AnalysisRun]
    routines: list[str]
    truncated: bool

    @property
    def etag(self) -> str:
        rows = [(m.pk, _label(m), m.label, m.sample.batch.code, m.sample.code, run.pk if run else None,
                 run.is_of_record if run else None, str(run.finished_at) if run else None)
                for m in self.measurements for run in [self.best.get(m.pk)]]
        key = json.dumps([ENCODING_VERSION, sorted(vars(self.req).items()), self.truncated, rows], default=str)
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


ENCODING_VERSION = 2   # bump when the response's form changes, so browsers drop cached copies


def compare_plan(*, user, req: CompareRequest) -> ComparePlan:
    measurements = _measurements(user=user, req=req)
    too_many = len(measurements) > MAX_MEASUREMENTS
    measurements = measurements[:MAX_MEASUREMENTS]
    routines = engine.trace_routines(req.technique)
    if not routines:
        raise ValidationError({"technique": f"{Technique(req.technique).label} has no curves to compare yet."})
    measurements.sort(key=lambda m: (natural_key(m.sample.batch.code), m.sample.ageing_started_at is not None,
                                     natural_key(m.sample.code), m.measured_at))
    return ComparePlan(req, measurements, _best_runs(measurements, routines), routines, too_many)


def compare_data(*, user, req: CompareRequest, plan: ComparePlan | None = None) -> dict[str, Any]:
    """{technique, axis: {x_label, y_label, x_reversed, log_x, log_y, choices}, traces:
    [{measurement, run, label, batch, sample, aged, of_record, x, y, scale, fit?: {x, y},
    components?: [{label, y}] at the fit's x}], skipped: [{measurement, label, reason}]}. Ordered by batch
    (natural order), fresh before aged. Each trace has at most `req.max_points` points; x, y
    are PlotArrays (compare_encoding.dumps writes them; `.tolist()` for Python use)."""
    plan = plan or compare_plan(user=user, req=req)
    best, routines = plan.best, plan.routines
    arrays = dict(AnalysisRun.objects.filter(pk__in=[r.pk for r in best.values()]).values_list("pk", "curve_arrays"))
    missing_blob = [pk for pk, blob in arrays.items() if not blob]
    json_curves = dict(AnalysisRun.objects.filter(pk__in=missing_blob).values_list("pk", "curves")) if missing_blob else {}
    axis_info = None
    focus: list[float] | None = None   # the fitted window(s): where a chemist looks first
    traces, skipped = [], []
    for m in plan.measurements:
        run = best.get(m.pk)
        if run is None:
            skipped.append({"measurement": m.pk, "label": _label(m), "reason": "no finished fit with a stored curve yet"})
            continue
        spec = engine.trace_spec(run.routine)
        try:
            axis = spec.axis(req.axis)
        except engine.UserInputError as exc:
            raise ValidationError({"axis": str(exc)}) from None
        axis_info = axis_info or axis
        wanted = {axis.curve, axis.fit_curve} - {""}
        curves = engine.stored_curves(arrays=arrays.get(run.pk), curves_json=json_curves.get(run.pk), wanted=wanted)
        data = curves.get(axis.curve, {})
        if axis.x not in data or axis.y not in data:
            skipped.append({"measurement": m.pk, "label": _label(m), "reason": f"run #{run.pk} stored no {axis.key} curve"})
            continue
        x, y = data[axis.x], data[axis.y]
        y_norm, scale = engine.normalised_trace(x, y, req.normalise)
        xd, (yd,) = engine.minmax_decimate(x, [y_norm], req.max_points)
        y_top = _largest(yd)
        fit_x = curves.get(axis.fit_curve, {}).get(axis.fit_x)
        if fit_x is not None and len(fit_x):
            low, high = float(np.nanmin(fit_x)), float(np.nanmax(fit_x))
            focus = [min(focus[0], low), max(focus[1], high)] if focus else [low, high]
        trace = {"measurement": m.pk, "run": run.pk, "label": _label(m), "detail": m.label or "",
                 "batch": m.sample.batch.code,
                 "sample": m.sample.code, "aged": m.sample.ageing_started_at is not None,
                 "of_record": run.is_of_record, "x": _x_array(xd, axis), "y": _y_array(yd, axis, y_top),
                 "scale": scale}
        if req.components:
            trace.update(_fit_parts(curves.get(axis.fit_curve, {}), axis, scale, req.max_points, y_top))
        traces.append(trace)
    axis = axis_info or engine.trace_spec(routines[0]).axis(req.axis or None)
    spec = engine.trace_spec(routines[0])
    return {
        "technique": req.technique, "technique_label": Technique(req.technique).label,
        "normalise": req.normalise, "components": req.components,
        "axis": {"key": axis.key, "x_label": axis.x_label,
                 "y_label": axis.y_label if req.normalise == "none" else f"{axis.y_label.split(' / ')[0]} (normalised to {req.normalise})",
                 "x_reversed": axis.x_reversed, "log_x": axis.log_x, "log_y": axis.log_y,
                 "choices": [a.key for a in spec.axes], "focus": focus},
        "traces": traces, "skipped": skipped,
        "truncated": plan.truncated, "max_measurements": MAX_MEASUREMENTS,
    }


def _largest(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.max(np.abs(finite))) if finite.size else None


def _x_array(x: np.ndarray, axis) -> encoding.PlotArray:
    return encoding.plot_array(x, significant=encoding.X_SIGNIFICANT, log=axis.log_x)


def _y_array(y: np.ndarray, axis, trace_top: float | None) -> encoding.PlotArray:
    """A trace's y, or its fit's or a component's, rounded against the trace's own tallest
    point: what the plot resolves is a fraction of the trace, not of a small component."""
    return encoding.plot_array(y, significant=encoding.Y_SIGNIFICANT, log=axis.log_y, scale=trace_top)


def _fit_parts(fit: dict, axis, scale: float, max_points: int, trace_top: float | None) -> dict:
    if axis.fit_x not in fit or axis.fit_y not in fit:
        return {}
    x = fit[axis.fit_x]
    names = [c for c in fit if c not in axis.not_components]
    names.sort(key=natural_key)
    ys = [fit[axis.fit_y] / scale] + [fit[c] / scale for c in names]
    xd, yds = engine.minmax_decimate(x, ys, max_points)
    # Components are sampled at the fit's x: sent once, not once per component.
    return {"fit": {"x": _x_array(xd, axis), "y": _y_array(yds[0], axis, trace_top)},
            "components": [{"label": c, "y": _y_array(y, axis, trace_top)} for c, y in zip(names, yds[1:])]}


def compare_csv_chunks(data: dict[str, Any]) -> Iterator[str]:
    """Long-format CSV text (header first): one row per plotted point of every trace."""
    header = ["batch", "sample", "measurement", "run", "series", data["axis"]["x_label"], data["axis"]["y_label"]]
    series = []
    for t in data["traces"]:
        lead = [t["batch"], t["sample"], t["measurement"], t["run"]]
        series.append((lead + ["data"], t["x"], t["y"]))
        if t.get("fit"):
            series.append((lead + ["fit"], t["fit"]["x"], t["fit"]["y"]))
        for c in t.get("components", []):
            series.append((lead + [c["label"]], t["fit"]["x"], c["y"]))
    return encoding.csv_chunks(header, series)
