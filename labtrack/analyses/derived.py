"""Runs derived from other runs: the 133Cs layer model needs an accepted deconvolution
and a particle diameter from the same batch."""
from __future__ import annotations

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus


def _latest(batch, routine: str, *, accepted_only: bool):
    runs = AnalysisRun.objects.filter(batch=batch, routine=routine, status=RunStatus.SUCCEEDED)
    if accepted_only:
        runs = runs.filter(review_state=ReviewState.ACCEPTED)
    else:
        runs = runs.exclude(review_state=ReviewState.REJECTED)
    return runs.order_by("-finished_at", "-id").first()


def layer_model_inputs(batch) -> dict | None:
    """Parameters for nmr.layer_model from the batch's accepted 133Cs deconvolution and
    its best diameter (accepted SAXS, else accepted TEM, else unreviewed SAXS)."""
    deconvolution = None
    for run in AnalysisRun.objects.filter(batch=batch, routine="nmr.deconvolve", status=RunStatus.SUCCEEDED,
                                          review_state=ReviewState.ACCEPTED).order_by("-reviewed_at", "-id"):
        nucleus = ((run.measurement.metadata or {}).get("nucleus") if run.measurement else "") or ""
        if "133cs" in nucleus.lower() or not nucleus:
            deconvolution = run
            break
    if deconvolution is None:
        return None
    size_run = (_latest(batch, "saxs.size_distribution", accepted_only=True)
                or _latest(batch, "tem.particle_sizes", accepted_only=True)
                or _latest(batch, "saxs.size_distribution", accepted_only=False))
    if size_run is None:
        return None
    diameter = Quantity.objects.filter(run=size_run, name="mean_diameter_nm", component_label="").first()
    if diameter is None or diameter.value is None:
        return None
    components = [
        {"assignment": c.get("assignment", ""),
         "integral_percent": (c.get("quantities", {}).get("integral_percent") or {}).get("value")}
        for c in (deconvolution.result or {}).get("components", [])
    ]
    return {"components": components, "diameter_nm": diameter.value,
            "_sources": [deconvolution.pk, size_run.pk]}


def derived_runs_request(*, batch, user) -> list[AnalysisRun]:
    """Request the batch's layer model when its inputs exist and it has not been run on
    exactly these inputs yet."""
    from labtrack.analyses import adapters
    from labtrack.analyses.services import run_request

    if "nmr.layer_model" not in adapters.routine_names():
        return []
    params = layer_model_inputs(batch)
    if params is None:
        return []
    sources = params.pop("_sources")
    done = AnalysisRun.objects.filter(batch=batch, routine="nmr.layer_model")
    for source in sources:
        done = done.filter(derived_from=source)
    if done.exists():
        return []
    run = run_request(user=user, measurement=None, routine="nmr.layer_model", raw_files=[],
                      parameters=params, automatic=True, batch=batch)
    run.derived_from.set(sources)
    return [run]
