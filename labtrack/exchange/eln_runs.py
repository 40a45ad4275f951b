"""Analysis runs coming back from a LabTrack .eln: recreated as they were — routine and
version, parameters, inputs (pointing at the re-imported raw files), result, figures,
quantities, version chain and review state — never re-fitted, so the numbers of record
are the exported ones. The importing user becomes the reviewer of record on this side;
who reviewed it there, when and why stays in the reason, and every run's history says
"imported from <file>"."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus, Stage
from labtrack.analyses.services import quantity_kinds_record
from labtrack.exchange import zipsafe
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch

RESULT_MAX_BYTES = 64 * 1024 * 1024


def _read(bundle, path: str, what: str) -> bytes:
    entry = bundle.entry(path)
    if entry is None:
        raise ValidationError(f"{what} ({path}) is listed in {bundle.file_name} but not in the archive.")
    data = zipsafe.read_capped(bundle.archive, entry, RESULT_MAX_BYTES)
    declared = (bundle.graph.get(path) or {}).get("sha256")
    if declared and hashlib.sha256(data).hexdigest() != declared:
        raise ValidationError(f"{path} in {bundle.file_name} does not match its checksum; nothing was imported.")
    return data


def _review_reason(run: dict[str, Any], provenance: str) -> str:
    parts = [provenance]
    if run.get("reviewer"):
        parts.append(f"Reviewed there by {run['reviewer']} on {str(run.get('reviewed_at') or '')[:10]}.")
    if run.get("review_reason"):
        parts.append(f"Reason: {run['review_reason']}")
    return " ".join(parts)


def runs_import(*, user, batch: Batch, bundle, runs: list[dict[str, Any]], measurements: dict[Any, Measurement],
                raw_files: dict[Any, RawFile], provenance: str) -> int:
    """Create the exported runs of `batch` (inside the caller's transaction). Returns how
    many were created."""
    created: dict[Any, AnalysisRun] = {}
    for data in runs:  # exported oldest first: a re-fit's parent exists before it
        result = json.loads(_read(bundle, data["result_path"], f"The result of run {data['key']}"))
        figures = {name: _read(bundle, path, f"A figure of run {data['key']}")
                   for name, path in (data.get("figures") or {}).items()}
        state = data.get("review_state") or ReviewState.PENDING
        if state not in ReviewState.values:
            raise ValidationError(f"Run {data['key']} has an unknown review state {state!r}.")
        inputs = []
        for f in data.get("input_files") or []:
            raw = raw_files.get(f.get("raw_file"))
            inputs.append({"raw_file_id": raw.pk if raw else None, "sha256": f.get("sha256"), "name": f.get("name"),
                           "format": f.get("format")})
        measurement = measurements.get(data.get("measurement"))
        if data.get("measurement") is not None and measurement is None:
            raise ValidationError(f"Run {data['key']} belongs to a measurement missing from {bundle.file_name}.")
        run = AnalysisRun(
            project=batch.project, batch=batch, measurement=measurement, routine=data["routine"],
            routine_version=data.get("routine_version", ""), parameters=data.get("parameters") or {},
            input_files=inputs, status=RunStatus.SUCCEEDED, stage=Stage.DONE,
            queued_at=parse_datetime(data["queued_at"]), started_at=parse_datetime(data.get("started_at") or ""),
            finished_at=parse_datetime(data.get("finished_at") or ""), result=result,
            result_sha256=data.get("result_sha256", ""), curves=data.get("curves"),
            figure_svg=figures.get("figure.svg", b"").decode(), figure_png=figures.get("figure.png"),
            requested_by=user, is_automatic=bool(data.get("is_automatic")), is_current=bool(data.get("is_current", True)),
            supersedes=created.get(data.get("supersedes")), review_state=state,
            reviewer=user if state != ReviewState.PENDING else None,
            reviewed_at=parse_datetime(data.get("reviewed_at") or "") if state != ReviewState.PENDING else None,
            review_reason=_review_reason(data, provenance) if state != ReviewState.PENDING else "",
            review_meaning=data.get("review_meaning", ""), reviewed_result_sha256=data.get("reviewed_result_sha256", ""),
        )
        run._change_reason = provenance
        run.save()
        rows = [{"name": q["name"], "value": q.get("value"), "value_json": q.get("value_json"),
                 "stderr": q.get("stderr"), "unit": q.get("unit", ""), "component_label": q.get("component_label", ""),
                 "assignment": q.get("assignment", "")} for q in data.get("quantities") or []]
        Quantity.objects.bulk_create([Quantity(run=run, **row) for row in rows])
        # Imported numbers appear in the trends picker like fitted ones.
        quantity_kinds_record(run=run, rows=rows)
        created[data["key"]] = run
    for data in runs:
        run = created[data["key"]]
        sources = [created[k] for k in data.get("derived_from") or [] if k in created]
        if sources:
            run.derived_from.set(sources)
        extra = [measurements[k] for k in data.get("extra_measurements") or [] if k in measurements]
        if extra:
            run.extra_measurements.set(extra)
    return len(created)
