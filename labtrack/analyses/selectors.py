"""Reads for analysis runs: a batch's latest runs, its key results, the review queue and
one run's page. Heavy columns (figures, curves) are deferred except where shown."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.core.errors import NotFoundForUser
from labtrack.core.permissions import visible_projects
from labtrack.core.roles import Action, role_allows

HEAVY = ("figure_svg", "figure_png", "curves", "result")

# The batch page's "key results" panel: (label, routine, top-level quantity names (a name
# ending in "*" is a prefix, starting with "*" a suffix), component quantity names). Names
# are those the routines in analysis/ report.
KEY_RESULTS = (
    ("SAXS diameter", "saxs.size_distribution", ("mean_diameter_nm", "sd_diameter_nm"), ()),
    ("TEM diameter", "tem.particle_sizes", ("mean_diameter_nm", "sd_diameter_nm"), ()),
    ("PL peak", "pl.peak", ("peak_wavelength_nm", "fwhm_nm", "peak_energy_ev"), ()),
    ("XRD size and markers", "xrd.scherrer",
     ("crystallite_size_nm", "williamson_hall_size_nm", "microstrain_percent", "orthorhombic_markers",
      "size_lower_bound", "lattice_a_angstrom"), ()),
    ("133Cs layer fractions", "nmr.layer_model", ("core_boundary_depth_nm", "middle_boundary_depth_nm"),
     ("volume_fraction",)),
    ("133Cs T1", "nmr.t1", (), ("t1_s",)),
    ("133Cs deconvolution", "nmr.deconvolve", (), ("shift_ppm", "integral_percent")),
    ("XPS ratios", "xps.atomic_ratios", ("*_pb",), ()),
)
NMR_DIAMETER_NAMES = ("nmr_diameter_nm",)


def _runs() -> QuerySet:
    return AnalysisRun.objects.defer(*HEAVY)


def batch_runs(*, batch) -> list[AnalysisRun]:
    """Every run of the batch, newest first, with quantities, requester and reviewer
    loaded; `has_figure` tells whether a figure exists (stored SVG and PNG are written
    together by run_execute) without loading it."""
    from django.db.models import Case, When, BooleanField, Value, Q

    return list(
        _runs().filter(batch=batch)
        .select_related("requested_by", "reviewer")
        # NULL-ness of the PNG is read from the row header; comparing the SVG text would
        # read every figure (~100 kB each) just to say whether there is one.
        .annotate(has_figure=Case(When(Q(figure_png__isnull=False), then=Value(True)), default=Value(False),
                                  output_field=BooleanField()))
        .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
        .order_by("-queued_at", "-id")
    )


def latest_runs_by_measurement(runs: list[AnalysisRun]) -> dict[int, list[AnalysisRun]]:
    """{measurement id: the newest run of each routine}, from an already loaded list."""
    out: dict[int, dict[str, AnalysisRun]] = {}
    for run in runs:  # newest first, so the first seen per routine wins
        if run.measurement_id is None:
            continue
        out.setdefault(run.measurement_id, {}).setdefault(run.routine, run)
    return {mid: list(by_routine.values()) for mid, by_routine in out.items()}


def derived_runs(runs: list[AnalysisRun]) -> list[AnalysisRun]:
    """The newest run of each routine that has no measurement (e.g. nmr.layer_model)."""
    seen: dict[str, AnalysisRun] = {}
    for run in runs:
        if run.measurement_id is None:
            seen.setdefault(run.routine, run)
    return list(seen.values())


def _best(runs: list[AnalysisRun], routine: str) -> AnalysisRun | None:
    """Accepted beats pending; rejected and unfinished runs never count; newest wins."""
    candidates = [r for r in runs if r.routine == routine and r.status == RunStatus.SUCCEEDED
                  and r.review_state != ReviewState.REJECTED]
    accepted = [r for r in candidates if r.review_state == ReviewState.ACCEPTED]
    pool = accepted or candidates
    return max(pool, key=lambda r: (r.reviewed_at or r.finished_at or r.queued_at, r.pk)) if pool else None


def _name_matches(name: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return name.endswith(pattern[1:])
    return name == pattern


@dataclass
class KeyResult:
    label: str
    routine: str
    run: AnalysisRun | None
    quantities: list[Quantity] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.run is not None and self.run.review_state == ReviewState.ACCEPTED


def key_results(*, batch, runs: list[AnalysisRun] | None = None) -> list[KeyResult]:
    """The batch's headline numbers, each from its best run (accepted, else the newest
    unreviewed one, flagged as such). Uses `runs` when given (no further queries)."""
    runs = batch_runs(batch=batch) if runs is None else runs
    out = []
    for label, routine, names, component_names in KEY_RESULTS:
        run = _best(runs, routine)
        quantities: list[Quantity] = []
        if run is not None:
            qs = list(run.quantities.all())
            top = [q for q in qs if not q.component_label]
            quantities = [q for n in names for q in top if _name_matches(q.name, n)] if names else []
            if not names and not component_names:
                quantities = top[:8]
            quantities += [q for q in qs if q.component_label and q.name in component_names][:12]
            if not quantities:
                quantities = top[:8]
        out.append(KeyResult(label, routine, run, quantities))
    # The NMR-derived diameter, if the layer model reports one, gets its own line.
    layer = _best(runs, "nmr.layer_model")
    if layer is not None:
        d = [q for q in layer.quantities.all() if q.name in NMR_DIAMETER_NAMES and not q.component_label]
        if d:
            out.append(KeyResult("NMR-derived diameter", "nmr.layer_model", layer, d[:1]))
    return out


def run_get(*, user, pk: int, with_figure: bool = False) -> AnalysisRun:
    """A run in one of the user's projects (figure columns loaded only when asked)."""
    qs = AnalysisRun.objects.all() if with_figure else _runs()
    run = (qs.filter(pk=pk, project__in=visible_projects(user))
           .select_related("batch", "project", "measurement", "measurement__sample", "requested_by", "reviewer")
           .first())
    if run is None:
        raise NotFoundForUser(f"No analysis run #{pk} in your projects.")
    return run


def run_figure_svg(*, user, pk: int) -> str:
    return _run_figure(user=user, pk=pk, field="figure_svg")


def run_figure_png(*, user, pk: int) -> bytes:
    """The PNG rendering: a few tens of kB where the SVG of an 8k-point spectrum is
    ~500 kB, so lists of thumbnails use it."""
    return bytes(_run_figure(user=user, pk=pk, field="figure_png") or b"")


def _run_figure(*, user, pk: int, field: str):
    rows = list(AnalysisRun.objects.filter(pk=pk, project__in=visible_projects(user)).values_list(field, flat=True))
    if not rows:
        raise NotFoundForUser(f"No analysis run #{pk} in your projects.")
    return rows[0]


def run_chain(*, run: AnalysisRun) -> list[AnalysisRun]:
    """The run's versions, oldest first: what it supersedes back to the original, then
    the runs that superseded it (following the newest at each step)."""
    back: list[AnalysisRun] = []
    node = run
    seen = {run.pk}
    while node.supersedes_id and node.supersedes_id not in seen:
        node = _runs().select_related("requested_by", "reviewer").get(pk=node.supersedes_id)
        seen.add(node.pk)
        back.append(node)
    forward: list[AnalysisRun] = []
    node = run
    while True:
        nxt = (_runs().select_related("requested_by", "reviewer").filter(supersedes=node)
               .exclude(pk__in=seen).order_by("-queued_at", "-id").first())
        if nxt is None:
            break
        seen.add(nxt.pk)
        forward.append(nxt)
        node = nxt
    return [*reversed(back), run, *forward]


def run_detail(*, user, pk: int) -> dict[str, Any]:
    """Everything the run page shows: the run, its quantities (top-level, then per
    component), its version chain and the raw files it read."""
    from labtrack.measurements.models import RawFile

    run = run_get(user=user, pk=pk)
    quantities = list(run.quantities.order_by("component_label", "id"))
    ids = [f.get("raw_file_id") for f in run.input_files or [] if f.get("raw_file_id")]
    existing = set(RawFile.objects.filter(pk__in=ids).values_list("pk", flat=True))
    inputs = [{**f, "exists": f.get("raw_file_id") in existing} for f in run.input_files or []]
    has_figure = AnalysisRun.objects.filter(pk=run.pk).exclude(figure_svg="").exists()
    return {
        "run": run,
        "top_quantities": [q for q in quantities if not q.component_label],
        "component_quantities": [q for q in quantities if q.component_label],
        "chain": run_chain(run=run),
        "inputs": inputs,
        "has_figure": has_figure,
        "derived_from": list(_runs().filter(derivatives=run).order_by("id")),
        "history": run_history(run=run),
    }


def run_history(*, run: AnalysisRun) -> list[dict[str, Any]]:
    """The run's audit trail, oldest first: who (the system user inside tasks), when,
    what changed (status, review) and why."""
    records = list(run.history.select_related("history_user").order_by("history_date", "history_id"))
    trail, previous = [], None
    for record in records:
        changed = []
        if previous is None:
            changed.append("requested")
        else:
            for field, label in (("status", "status"), ("review_state", "review"), ("attempts", "attempt")):
                if getattr(record, field) != getattr(previous, field):
                    changed.append(f"{label} → {getattr(record, field)}")
        trail.append({"when": record.history_date, "who": record.history_user,
                      "what": ", ".join(changed) or "updated", "why": record.history_change_reason or ""})
        previous = record
    return trail


def review_queue(*, user, limit: int = 50) -> dict[str, Any]:
    """Succeeded runs awaiting review in the projects where the user may review, oldest
    first, latest versions only (a superseded run is reviewed through its re-fit).
    Runs the user requested are counted apart: someone else must review those. Shows the
    oldest `limit`; `total` says how many wait."""
    from labtrack.core.selectors import memberships_for

    reviewable = [p["id"] for p in memberships_for(user) if role_allows(p["role"], Action.REVIEW)]
    base = (_runs().filter(project_id__in=reviewable, status=RunStatus.SUCCEEDED,
                           review_state=ReviewState.PENDING, superseded_by__isnull=True))
    others = base.exclude(requested_by=user)
    runs = list(
        others
        .select_related("batch", "measurement", "measurement__sample", "requested_by")
        .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
        .order_by("queued_at", "id")[:limit]
    )
    total = others.count()
    return {"runs": runs, "total": total, "own_pending": base.filter(requested_by=user).count()}


def run_status_get(*, user, pk: int) -> AnalysisRun:
    """A run for the progress endpoint: light columns only, quantities loaded."""
    run = (_runs().filter(pk=pk, project__in=visible_projects(user))
           .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
           .first())
    if run is None:
        raise NotFoundForUser(f"No analysis run #{pk} in your projects.")
    return run
