"""Runs derived from other runs and measurements.

- 133Cs layer model: an accepted 133Cs deconvolution plus the batch's particle diameter
  (accepted SAXS, else accepted TEM, else an unrejected SAXS fit); with two or more other
  batches in the project that have both, the layer depths are calibrated across them and
  the NMR-derived diameter is reported too (a size for samples that have no SAXS).
- 31P quantification: a measurement with an external reference measurement and the two
  samples' masses.
Each derived run records the runs it was built from (`derived_from`) and is named by a
hash of them and its parameters (unique in the database), so it is requested once per
combination of inputs, even by concurrent accepts, and can be traced back. Inputs are
results of record only (labtrack.core.records), except the diameter's documented
fallback to an unreviewed SAXS fit.
"""
from __future__ import annotations

from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.services import run_request
from django.db.models import BooleanField, ExpressionWrapper

from labtrack.core.records import of_record_q
from labtrack.samples.models import Batch

LAYER_MODEL = "nmr.layer_model"
QUANTIFY = "nmr.quantify"
MIN_CALIBRATION_BATCHES = 2


def _nucleus(run: AnalysisRun) -> str:
    meta = (run.measurement.metadata or {}) if run.measurement_id else {}
    return str(meta.get("nucleus") or "")


def _components(run: AnalysisRun) -> list[dict]:
    """The deconvolution's components in the form nmr.layer_model takes (with errors)."""
    return [{"assignment": c.get("assignment", ""), "integral_percent": c.get("quantities", {}).get("integral_percent")}
            for c in (run.result or {}).get("components", [])]


def _has_nanocrystal_lines(run: AnalysisRun) -> bool:
    return any(c["assignment"] in ("core", "middle", "surface") for c in _components(run))


def accepted_cs133_deconvolutions(**filters):
    """133Cs deconvolutions of record (with nanocrystal lines), newest review first."""
    runs = (AnalysisRun.objects.of_record().filter(routine="nmr.deconvolve", **filters)
            .select_related("measurement__sample").order_by("-reviewed_at", "-id"))
    return [r for r in runs if _nucleus(r) in ("133Cs", "") and _has_nanocrystal_lines(r)]


# Where a batch's particle diameter comes from, best first: (routine, must it be accepted).
DIAMETER_SOURCES = (("saxs.size_distribution", True), ("tem.particle_sizes", True),
                    ("saxs.size_distribution", False))


def batch_diameters(batch_ids) -> dict[int, tuple[float, int]]:
    """{batch id: (diameter_nm, run id)} for the given batches (ids or a subquery), one
    query: from the best source in DIAMETER_SOURCES, the newest candidate run within it
    (fresh samples preferred: an aged, agglomerated powder does not size the batch)."""
    return {batch_id: (value, run_id) for batch_id, (value, _, run_id) in batch_diameters_with_errors(batch_ids).items()}


def batch_diameters_with_errors(batch_ids) -> dict[int, tuple[float, float | None, int]]:
    """{batch id: (diameter_nm, its standard error or None, run id)}: `batch_diameters`
    with the uncertainty, for x error bars."""
    rows = (Quantity.objects.candidates()
            .filter(run__batch_id__in=batch_ids, name="mean_diameter_nm", component_label="", value__isnull=False,
                    run__routine__in={r for r, _ in DIAMETER_SOURCES})
            .order_by("run__finished_at", "run_id")
            .annotate(of_record=ExpressionWrapper(of_record_q("run__"), output_field=BooleanField()))
            .values_list("run__batch_id", "run__routine", "of_record", "value", "run_id",
                         "run__measurement__sample__ageing_started_at", "stderr"))
    best: dict[int, tuple[int, float, float | None, int]] = {}
    for batch_id, routine, of_record, value, run_id, aged, stderr in rows:
        rank = next((i for i, (source, accepted_only) in enumerate(DIAMETER_SOURCES)
                     if source == routine and (of_record or not accepted_only)), None)
        if rank is not None and aged is not None:
            rank += len(DIAMETER_SOURCES)  # any fresh sample's size beats an aged one
        if rank is not None and (batch_id not in best or rank <= best[batch_id][0]):
            best[batch_id] = (rank, value, stderr, run_id)  # rows are oldest first: the newest wins a tie
    return {batch_id: (value, stderr, run_id) for batch_id, (_, value, stderr, run_id) in best.items()}


def batch_diameter(batch) -> tuple[float, AnalysisRun] | None:
    """The batch's best particle diameter (nm) and the run that measured it."""
    found = batch_diameters([batch.pk]).get(batch.pk)
    return None if found is None else (found[0], AnalysisRun.objects.get(pk=found[1]))


def calibration_set(project, *, exclude_batch=None) -> tuple[list[dict], list[AnalysisRun]]:
    """[{diameter_nm, components}] for each batch of the project with an accepted 133Cs
    deconvolution of an un-aged sample and a diameter; plus the runs used."""
    entries, sources, seen = [], [], set()
    diameters = batch_diameters(Batch.objects.filter(project=project).values("pk"))
    size_runs = AnalysisRun.objects.in_bulk([run_id for _, run_id in diameters.values()])
    for run in accepted_cs133_deconvolutions(project=project):
        if run.batch_id in seen or run.batch_id == getattr(exclude_batch, "pk", None):
            continue
        if run.measurement_id and run.measurement.sample.ageing_started_at is not None:
            continue  # aged samples agglomerate; calibrate on fresh powders only
        if run.batch_id not in diameters:
            continue
        diameter_nm, size_run_id = diameters[run.batch_id]
        seen.add(run.batch_id)
        entries.append({"diameter_nm": diameter_nm, "components": _components(run)})
        sources += [run, size_runs[size_run_id]]
    return entries, sources


def derived_runs_request(*, batch, user) -> list[AnalysisRun]:
    """Request the layer model for each 133Cs deconvolution of record of `batch` that has
    none yet on the same inputs. A new layer model supersedes the measurement's previous
    one once accepted. Requests for one batch are serialised by a row lock so that each
    sees the others' accepts (PostgreSQL; SQLite serialises writers anyway)."""
    Batch.objects.select_for_update().filter(pk=batch.pk).first()
    requested = []
    size = batch_diameter(batch)
    calibration, calibration_runs = calibration_set(batch.project, exclude_batch=batch)
    if len(calibration) < MIN_CALIBRATION_BATCHES:
        calibration, calibration_runs = [], []
    for deconvolution in accepted_cs133_deconvolutions(batch=batch):
        if size is None and not calibration:
            continue
        sources = [deconvolution] + ([size[1]] if size else []) + calibration_runs
        params = {"components": _components(deconvolution)}
        if size:
            params["diameter_nm"] = size[0]
        if calibration:
            params["calibration"] = calibration
        previous = (AnalysisRun.objects.light().current()
                    .filter(measurement=deconvolution.measurement, routine=LAYER_MODEL)
                    .order_by("-queued_at", "-id").first())
        run = run_request(user=user, measurement=deconvolution.measurement, routine=LAYER_MODEL, raw_files=[],
                          parameters=params, automatic=True, batch=batch, derived_from=sources,
                          supersedes=previous)
        if previous is None or run.pk != previous.pk:
            requested.append(run)
    return requested


def quantification_request(*, measurement, user) -> AnalysisRun | None:
    """nmr.quantify of `measurement` against its reference measurement, when both samples'
    masses are known (the reference compound is the reference sample's code or notes)."""
    reference = measurement.reference_measurement
    if reference is None:
        return None
    sample_mass, reference_mass = measurement.sample.mass_mg, reference.sample.mass_mg
    if not sample_mass or not reference_mass:
        return None
    params = {"sample_mass_mg": sample_mass, "reference_mass_mg": reference_mass}
    size = batch_diameter(measurement.sample.batch)
    if size:
        params["diameter_nm"] = size[0]
    compound = (reference.metadata or {}).get("reference_compound")
    if compound:
        params["reference_compound"] = compound
    raw_files = [measurement.raw_files.order_by("id").first(), reference.raw_files.order_by("id").first()]
    run = run_request(user=user, measurement=measurement, routine=QUANTIFY, raw_files=raw_files,
                      parameters=params, automatic=True)
    run.extra_measurements.add(reference)
    return run
