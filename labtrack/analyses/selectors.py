"""Reads for analysis runs: a batch's latest runs, its key results, the review queue and
one run's page. Heavy columns (figures, curves) are deferred except where shown."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterator

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from labtrack import engine
from labtrack.analyses.models import HEAVY_FIELDS, AnalysisRun, Quantity
from labtrack.analyses.parameters_used import parameters_used
from labtrack.analyses.run_display import fit_quality, quantity_groups
from labtrack.core.errors import NotFoundForUser
from labtrack.core.naturalsort import natural_key
from labtrack.core.records import is_candidate, of_record_q, record_rank
from labtrack.core.roles import Action, role_allows
from labtrack.measurements.models import RawFile
from labtrack.samples.memberships import memberships_for
from labtrack.samples.models import Batch, Sample, code_is, sample_age_expression

HEAVY = HEAVY_FIELDS


def _runs() -> QuerySet:
    return AnalysisRun.objects.light()


def batch_runs(*, batch) -> list[AnalysisRun]:
    """Every run of the batch, newest first, with quantities, measurement and sample,
    requester and reviewer loaded; `has_figure` tells whether a figure exists (stored
    SVG and PNG are written together by run_execute) without loading it."""
    return list(
        _runs().filter(batch=batch)
        .select_related("requested_by", "reviewer", "measurement__sample")
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
    """The newest current run of each derived routine (layer model, quantification) per
    measurement: their cards sit apart from the file-based runs."""
    derived = {info.name for info in engine.routines_with_headline() if info.derived}
    seen: dict[tuple, AnalysisRun] = {}
    for run in runs:
        if run.routine in derived and run.is_current:
            seen.setdefault((run.routine, run.measurement_id), run)
    return list(seen.values())


def _name_matches(name: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return name.endswith(pattern[1:])
    return name == pattern


@dataclass
class KeyResult:
    """One routine's headline numbers for one measurement of the batch (labelled with
    its sample and age), from its best run: the result of record, else the newest
    unreviewed candidate (flagged)."""

    label: str
    routine: str
    technique: str
    run: AnalysisRun | None
    quantities: list[Quantity] = field(default_factory=list)
    sample_code: str = ""
    sample_age_days: float | None = None
    aged: bool = False
    measurement_label: str = ""  # e.g. "133Cs, one-pulse": which nucleus or experiment

    @property
    def accepted(self) -> bool:
        return self.run is not None and self.run.is_of_record


def _headline_quantities(run: AnalysisRun, names: tuple[str, ...], component_names: tuple[str, ...]) -> list[Quantity]:
    qs = list(run.quantities.all())
    top = [q for q in qs if not q.component_label]
    chosen = [q for n in names for q in top if _name_matches(q.name, n)]
    components = sorted((q for q in qs if q.component_label and q.name in component_names),
                        key=lambda q: (natural_key(q.component_label), q.pk))
    chosen += components[:12]
    return chosen or top[:8]


def key_results(*, batch, runs: list[AnalysisRun] | None = None) -> list[KeyResult]:
    """The batch's headline numbers: for each routine with headline quantities (declared
    next to the routine in `analysis/`) and each measurement, one row from its best run
    (labtrack.core.records.record_rank: the result of record, else the newest candidate,
    flagged). Rows of fresh samples come before aged ones, each labelled with the sample
    code and its age when measured, so fresh and aged values are never mixed silently.
    Routines with no run give a row with `run=None`. Uses `runs` when given (no queries)."""
    runs = batch_runs(batch=batch) if runs is None else runs
    out: list[KeyResult] = []
    for info in engine.routines_with_headline():
        best: dict[int | None, AnalysisRun] = {}
        for run in runs:
            if run.routine != info.name or not is_candidate(run):
                continue
            if run.measurement_id not in best or record_rank(run) > record_rank(best[run.measurement_id]):
                best[run.measurement_id] = run
        if not best:
            out.append(KeyResult(info.title, info.name, info.technique, None))
            continue
        rows = []
        for run in best.values():
            measurement = run.measurement if run.measurement_id else None
            sample = measurement.sample if measurement else None
            rows.append(KeyResult(
                info.title, info.name, info.technique, run,
                _headline_quantities(run, info.headline, info.headline_components),
                sample_code=sample.code if sample else "",
                sample_age_days=measurement.sample_age_days if measurement else None,
                aged=bool(sample and sample.ageing_started_at is not None),
                measurement_label=measurement.label if measurement else "",
            ))
        out += sorted(rows, key=lambda k: (k.aged, natural_key(k.sample_code), k.sample_age_days or 0.0))
    return out


def run_get(*, user, pk: int, with_figure: bool = False) -> AnalysisRun:
    """A run in one of the user's projects (figure columns loaded only when asked)."""
    qs = AnalysisRun.objects.all() if with_figure else _runs()
    run = (qs.visible_to(user).filter(pk=pk)
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
    rows = list(AnalysisRun.objects.visible_to(user).filter(pk=pk).values_list(field, flat=True))
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
    run = run_get(user=user, pk=pk)
    quantities = sorted(run.quantities.all(), key=lambda q: (natural_key(q.component_label), q.pk))
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
        "parameters_used": parameters_used(run),
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


@dataclass
class QueueFilters:
    """What the review queue is narrowed to; empty means no filter."""

    batch: str = ""
    technique: str = ""
    routine: str = ""
    newest_first: bool = False
    page: int = 1
    per_page: int = 20
    project_id: int | None = None
    requester: str = ""   # username of who requested the run
    age: str = ""         # a key of QUEUE_AGES: how long ago the run was requested

    @property
    def narrowed(self) -> bool:
        return bool(self.batch or self.technique or self.routine or self.project_id or self.requester or self.age)


# Age of the request (queued_at): key -> (label, newer than days, older than days).
QUEUE_AGES = {
    "day": ("Requested in the last 24 h", None, 1),
    "week": ("In the last 7 days", None, 7),
    "over_week": ("More than 7 days ago", 7, None),
    "over_month": ("More than 30 days ago", 30, None),
}

def review_queue(*, user, filters: QueueFilters | None = None) -> dict[str, Any]:
    """Succeeded runs awaiting review in the projects where the user may review (latest
    versions only: a superseded run is reviewed through its re-fit), narrowed by batch,
    technique and routine, a page at a time, oldest or newest first. Runs the user
    requested are counted apart (someone else must review those), and so are runs
    waiting in projects where the user may not review."""
    f = filters or QueueFilters()
    memberships = memberships_for(user)
    reviewable = [p["id"] for p in memberships if role_allows(p["role"], Action.REVIEW)]
    others_projects = [p["id"] for p in memberships if p["id"] not in reviewable]
    unfiltered = _runs().filter(project_id__in=reviewable).awaiting_review()
    base = unfiltered
    if f.project_id:
        base = base.filter(project_id=f.project_id)
    if f.requester:
        base = base.filter(requested_by__username__iexact=f.requester)
    if f.age in QUEUE_AGES:
        _, newer_than, older_than = QUEUE_AGES[f.age]
        now = timezone.now()
        if newer_than is not None:
            base = base.filter(queued_at__lte=now - timedelta(days=newer_than))
        if older_than is not None:
            base = base.filter(queued_at__gte=now - timedelta(days=older_than))
    if f.batch:
        base = base.filter(code_is_batch(f.batch))
    if f.technique:
        base = base.filter(measurement__technique=f.technique)
    if f.routine:
        base = base.filter(routine=f.routine)
    others = base.exclude(requested_by=user)
    # Both counts in one pass over the waiting runs (the awaiting-review test is a subquery per row).
    counts = base.order_by().aggregate(others=Count("pk", filter=~Q(requested_by=user)),
                                       own=Count("pk", filter=Q(requested_by=user)))
    total = counts["others"]
    per_page = max(1, min(f.per_page, 100))
    pages = max(1, -(-total // per_page))
    page = max(1, min(f.page, pages))
    order = ("-queued_at", "-id") if f.newest_first else ("queued_at", "id")
    runs = list(
        others
        .select_related("batch", "measurement", "measurement__sample", "requested_by")
        # Only the result's small "fit" block (reduced chi2, R2...), never the whole result.
        .annotate(fit_block=KeyTransform("fit", "result"),
                  has_figure=Case(When(Q(figure_png__isnull=False), then=Value(True)), default=Value(False),
                                  output_field=BooleanField()))
        .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
        .order_by(*order)[(page - 1) * per_page: page * per_page]
    )
    for run in runs:
        run.fit_quality = fit_quality(run.fit_block)
        run.top_quantities, run.components = quantity_groups(run)
    waiting_elsewhere = (_runs().filter(project_id__in=others_projects).awaiting_review().count()
                         if others_projects else 0)
    # Only for the empty state: how many wait without the filters.
    waiting_unfiltered = (unfiltered.exclude(requested_by=user).count() if total == 0 and f.narrowed else total)
    return {"runs": runs, "total": total, "own_pending": counts["own"],
            "page": page, "pages": pages, "filters": f, "can_review_anywhere": bool(reviewable),
            "waiting_elsewhere": waiting_elsewhere, "waiting_unfiltered": waiting_unfiltered,
            "reviewable_projects": [p for p in memberships if p["id"] in reviewable]}


def queue_requesters(*, user) -> list[str]:
    """Usernames of who requested the runs waiting in the user's reviewable projects (the
    requester filter's choices), in natural order."""
    reviewable = [p["id"] for p in memberships_for(user) if role_allows(p["role"], Action.REVIEW)]
    names = (_runs().filter(project_id__in=reviewable).awaiting_review().order_by()
             .values_list("requested_by__username", flat=True).distinct())
    return sorted(set(names), key=natural_key)


def code_is_batch(code: str, prefix: str = ""):
    """The run's batch has this code (case-insensitive, on the code index)."""
    return Q(**{f"{prefix}batch__in": Batch.objects.filter(code_is(code)).values("pk")})


def run_status_get(*, user, pk: int) -> AnalysisRun:
    """A run for the progress endpoint: light columns only, quantities loaded."""
    run = (_runs().visible_to(user).filter(pk=pk)
           .prefetch_related(Prefetch("quantities", queryset=Quantity.objects.order_by("component_label", "id")))
           .first())
    if run is None:
        raise NotFoundForUser(f"No analysis run #{pk} in your projects.")
    return run


def quantities_of_record(*, user, accepted_only: bool = True, name: str | None = None,
                         assignment: str | None = None, technique: str | None = None, routine: str | None = None,
                         batch: str | None = None, sample: str | None = None, project: int | None = None,
                         review_state: str | None = None, age_min_days: float | None = None,
                         age_max_days: float | None = None, measured_from=None, measured_to=None) -> QuerySet:
    """The numbers that count, in the user's projects, with provenance joined (run,
    routine, technique, batch, sample, measurement date): results of record, or with
    `accepted_only=False` every current unrejected candidate (each flagged by its run's
    `is_of_record`). The batch page, trends, the API and the CSV export all read this.
    A filter left as None is not applied; `assignment=""` means top-level quantities.
    `review_state` (pending / accepted) narrows candidates; ages are the sample's age at
    measurement in days (inclusive); `measured_from`/`measured_to` bound the measurement
    date (inclusive)."""
    qs = Quantity.objects.visible_to(user)
    qs = qs.of_record() if accepted_only else qs.candidates()
    lookups = {"name": name, "assignment": assignment, "run__measurement__technique": technique,
               "run__routine": routine, "run__project_id": project, "run__review_state": review_state,
               "run__measurement__measured_at__gte": measured_from, "run__measurement__measured_at__lte": measured_to}
    qs = qs.filter(**{k: v for k, v in lookups.items() if v is not None})
    # Codes match case-insensitively on the lower(code) unique indexes (code_is).
    if batch is not None:
        qs = qs.filter(code_is_batch(batch, prefix="run__"))
    if sample is not None:
        qs = qs.filter(run__measurement__sample__in=Sample.objects.filter(code_is(sample)).values("pk"))
    qs = qs.sample_age_between(age_min_days, age_max_days)
    # Grouped by batch in the order batches were recorded: sorting on the batch *code*
    # made PostgreSQL sort every accepted run of the lab before the first row (a 25k-row
    # sort spilling to disk at 10,000 batches, ~250 ms); batch_id comes with the run.
    return qs.with_provenance().order_by("run__batch_id", "run_id", "component_label", "id")


RESULTS_CSV_HEADER = ["batch", "sample", "sample_age_days", "technique", "routine", "run", "of_record",
                      "component", "assignment", "name", "value", "stderr", "unit"]


# The CSV's columns as plain values from the one query (no model instances: 20,000 rows
# built 80,000 quantity, run, measurement and sample objects). The age is the database's
# interval, so its days are those of Measurement.sample_age_days to the microsecond.
_CSV_COLUMNS = ("run__batch__code", "run__measurement__sample__code", "csv_age", "run__measurement__technique",
                "run__routine", "run_id", "csv_of_record", "component_label", "assignment", "name", "value",
                "value_json", "stderr", "unit", "id", "run__measurement_id")
CSV_CHUNK_ROWS = 2000


def results_csv_rows(quantities: QuerySet) -> Iterator[list[Any]]:
    """Rows (header first) for a CSV of quantities from `quantities_of_record` (in its
    order), streamed from a server-side cursor CSV_CHUNK_ROWS at a time: an export of
    every number in the lab stays in bounded memory and one query."""
    yield RESULTS_CSV_HEADER
    rows = (quantities.annotate(csv_age=sample_age_expression("run__measurement__sample", "run__measurement__measured_at"),
                                csv_of_record=ExpressionWrapper(of_record_q("run__"), output_field=BooleanField()))
            .values_list(*_CSV_COLUMNS).iterator(chunk_size=CSV_CHUNK_ROWS))
    for (batch, sample, age, technique, routine, run_id, of_record, component, assignment, name, value, value_json,
         stderr, unit, _pk, measurement_id) in _components_in_natural_order(rows):
        measured = measurement_id is not None
        yield [batch, sample if measured else "", round(age.total_seconds() / 86400.0, 3) if measured else "",
               technique if measured else "", routine, run_id, bool(of_record), component, assignment, name,
               value if value is not None else value_json, stderr, unit]


def _components_in_natural_order(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows as given (grouped by run, _CSV_COLUMNS), each run's in natural component
    order (p2 before p10, which the database's text order puts after): one run buffered at
    a time."""
    chunk: list[tuple] = []
    for row in rows:
        if chunk and row[5] != chunk[-1][5]:
            yield from sorted(chunk, key=lambda r: (natural_key(r[7]), r[14]))
            chunk = []
        chunk.append(row)
    yield from sorted(chunk, key=lambda r: (natural_key(r[7]), r[14]))


def routine_parameters(routine: str) -> dict[str, dict[str, Any]]:
    """{name: {default, type}} of a routine's settable parameters (the re-fit form);
    ValidationError when the routine is no longer installed."""
    try:
        return engine.routine_parameters(routine)
    except engine.UserInputError as exc:
        raise ValidationError({"routine": str(exc)}) from None
