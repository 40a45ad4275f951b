"""The batch list: batches the user may see, searched, filtered and sorted, with per-row
counts of samples, measurements and runs awaiting review or of record (a page at a time,
in a fixed number of queries), and its CSV export. It reads across samples, measurements
and analyses, so it lives above them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Iterator

from django.db import connections
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import IContains
from django.utils import timezone

from labtrack.analyses.models import AnalysisRun
from labtrack.insights.search import parse_query
from labtrack.measurements.models import Measurement, Technique
from labtrack.samples.models import Batch, Sample
from labtrack.samples.permissions import visible_projects


@dataclass
class BatchFilters:
    """What the batch list is narrowed to. Empty values mean "no filter"."""

    project_id: int | None = None
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    opa_min: float | None = None
    opa_max: float | None = None
    duration_min_s: float | None = None
    duration_max_s: float | None = None
    protocol_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)  # batches measured by all of these
    review: str = ""  # "pending" | "accepted" | "unreviewed" | ""
    sort: str = "-date"


# Sort keys users can click -> model expressions (nulls last either way). Codes sort in
# natural order (NC6.4 before NC10.4) by their stored sort key.
SORTS = {
    "code": "code_sort_key",
    "date": "synthesised_at",
    "opa": "opa_concentration_molar",
    "duration": "reaction_duration_s",
    "protocol": "protocol__name",
    "status": "status",
    "measurements": "measurement_count",
    "pending": "n_pending",
}
# Columns (and the pending count, coalesced to 0) that are never null: NULLS LAST there
# would only keep PostgreSQL from reading an index in order.
NEVER_NULL = {"code", "date", "status", "measurements", "pending"}


class ContainsFolded(IContains):
    """`icontains` that PostgreSQL can estimate: `column ILIKE '%word%'` rather than
    Django's `UPPER(column) LIKE UPPER('%word%')`, whose expression has no statistics:
    "b1" was guessed to match 5,554 of 10,000 batches (835 do; now guessed 1,714), and
    the capped count then hashed every NMR measurement (25 ms) instead of probing the
    835 batches (11 ms). The same matches (both fold case); other databases use
    `icontains` as it is."""

    def as_postgresql(self, compiler, connection):
        lhs_sql, params = compiler.compile(self.lhs)  # the bare column (process_lhs adds UPPER())
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} ILIKE {rhs_sql}", [*params, *rhs_params]


def _count(qs: QuerySet, outer: str = "pk") -> Subquery:
    """A correlated COUNT(*) subquery (cheaper than JOIN + GROUP BY over 1,000 batches)."""
    return Coalesce(
        Subquery(qs.order_by().values(outer).annotate(c=Count("pk")).values("c")[:1], output_field=IntegerField()),
        Value(0),
    )


def _aware(d: date, end: bool = False) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.max if end else time.min))


def _filtered(*, user, filters: BatchFilters) -> tuple[QuerySet, dict[str, Any]]:
    """The filtered batches (unordered) and the annotation the sort needs, if any."""
    qs = Batch.objects.filter(project__in=visible_projects(user)).select_related("protocol", "project")
    f = filters
    if f.project_id:
        qs = qs.filter(project_id=f.project_id)
    # At most MAX_TERMS words of the first MAX_QUERY_CHARS characters (a pasted page of
    # text once made this quadratic); the full search is labtrack.insights.search. No
    # trigram index: reading the code and notes of 10,000 batches takes ~4 ms, pg_trgm
    # needs CREATE EXTENSION rights and cannot serve terms under three characters ("b1");
    # what cost was the planner's estimate (ContainsFolded).
    for word in parse_query(f.q).terms:
        qs = qs.filter(ContainsFolded(F("code"), word) | ContainsFolded(F("notes"), word))
    if f.date_from:
        qs = qs.filter(synthesised_at__gte=_aware(f.date_from))
    if f.date_to:
        qs = qs.filter(synthesised_at__lte=_aware(f.date_to, end=True))
    for value, lookup in ((f.opa_min, "opa_concentration_molar__gte"), (f.opa_max, "opa_concentration_molar__lte"),
                          (f.duration_min_s, "reaction_duration_s__gte"), (f.duration_max_s, "reaction_duration_s__lte")):
        if value is not None:
            qs = qs.filter(**{lookup: value})
    if f.protocol_id:
        qs = qs.filter(protocol_id=f.protocol_id)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    for technique in f.techniques:
        qs = qs.filter(Exists(Measurement.objects.filter(sample__batch=OuterRef("pk"), technique=technique)))

    runs = AnalysisRun.objects.filter(batch=OuterRef("pk"))
    pending = runs.awaiting_review()
    accepted = runs.of_record()
    if f.review == "pending":
        qs = qs.filter(Exists(pending))
    elif f.review == "accepted":
        qs = qs.filter(Exists(accepted))
    elif f.review == "unreviewed":
        qs = qs.exclude(Exists(accepted))
    # Counts are computed for the shown page only (batch_counts); a count is annotated on
    # every row only when the list is sorted by it.
    # Sorting by measurements reads Batch.measurement_count, kept by the measurement
    # services (counting 50,000 measurements for every sort was ~70 ms of SQL at 10k).
    annotations: dict[str, Any] = {}
    if f.sort.lstrip("-") == "pending":
        annotations["n_pending"] = _count(pending, "batch")
    return qs, annotations


def _ordering(f: BatchFilters) -> list:
    key = f.sort.lstrip("-") if f.sort.lstrip("-") in SORTS else "date"
    descending = f.sort.startswith("-") if f.sort.lstrip("-") in SORTS else True
    expr = F(SORTS[key])
    nulls_last = None if key in NEVER_NULL else True
    tie_break = [] if key == "code" else ["code_sort_key"]
    return [expr.desc(nulls_last=nulls_last) if descending else expr.asc(nulls_last=nulls_last), *tie_break, "code"]


def batch_list(*, user, filters: BatchFilters) -> QuerySet:
    """Batches the user may see, filtered and sorted; protocol and project joined.
    Per-row counts and techniques for a page come from `batch_counts`/`batch_techniques`."""
    qs, annotations = _filtered(user=user, filters=filters)
    return qs.annotate(**annotations).order_by(*_ordering(filters))


def batch_list_rows(*, user, filters: BatchFilters) -> "QuerySet | SortedByCount":
    """What the list page pages through: `batch_list`, or when sorted by a count the
    same rows as a SortedByCount (narrow sort first)."""
    qs, annotations = _filtered(user=user, filters=filters)
    if not annotations:
        return qs.order_by(*_ordering(filters))
    return SortedByCount(qs, descending=filters.sort.startswith("-"))


# Filters that probe other tables once per batch (EXISTS): an exact count of their matches
# walks every batch of the lab, so the list counts them only as far as it must.
PROBING_FILTERS = ("techniques", "review")


def count_is_cheap(filters: BatchFilters) -> bool:
    """True when counting every match reads the batches alone (no per-batch probes)."""
    return not any(getattr(filters, name) for name in PROBING_FILTERS)


def batch_list_count_queryset(*, user, filters: BatchFilters) -> QuerySet:
    """The same batches as `batch_list`, without the sort's annotation (a COUNT needs
    neither the order nor a per-batch count)."""
    return _filtered(user=user, filters=filters)[0].order_by()


class SortedByCount:
    """`batch_list` sorted by how many runs of each batch await review, sliced like a
    queryset for the paginator. The filtered batches (id and code only) are LEFT JOINed
    to one grouped count of the runs awaiting review (read once from their partial index
    and hashed) and sorted; only the page's batches are then loaded with protocol and
    project. The sort as a correlated COUNT probed the runs once per batch (10,000
    probes, 26 ms at 10k; this plan ~10 ms)."""

    def __init__(self, qs: QuerySet, descending: bool):
        self.qs, self.descending = qs, descending

    def count(self) -> int:
        return self.qs.order_by().count()

    def __len__(self) -> int:
        return self.count()

    def _counts(self) -> QuerySet:
        batches = self.qs.select_related(None).order_by().values("pk")
        return (AnalysisRun.objects.filter(batch__in=batches).awaiting_review().order_by()
                .values(count_batch=F("batch_id")).annotate(n_pending=Count("pk")))

    def __getitem__(self, index: slice) -> list[Batch]:
        start = index.start or 0
        limit = 2 ** 62 if index.stop is None else max(0, index.stop - start)  # no LIMIT ALL in SQLite
        batches_sql, batches_params = (self.qs.select_related(None).order_by()
                                       .values(sort_id=F("pk"), sort_code=F("code_sort_key")).query.sql_with_params())
        counts_sql, counts_params = self._counts().query.sql_with_params()
        direction = "DESC" if self.descending else "ASC"
        # Composed from the ORM's own SQL and parameters (nothing interpolated from input):
        # the ORM cannot join a grouped subquery.
        sql = (f"SELECT b.sort_id FROM ({batches_sql}) b LEFT JOIN ({counts_sql}) c ON c.count_batch = b.sort_id "
               f"ORDER BY COALESCE(c.n_pending, 0) {direction}, b.sort_code ASC, b.sort_id ASC LIMIT %s OFFSET %s")
        params = [*batches_params, *counts_params, limit, start]
        with connections[self.qs.db].cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        rows = Batch.objects.select_related("protocol", "project").in_bulk(ids)
        return [rows[pk] for pk in ids]


def batch_counts(batch_ids: list[int]) -> dict[int, dict[str, int]]:
    """{batch id: {n_samples, n_measurements, n_pending, n_accepted}} for a page of
    batches: four grouped queries whatever the page size. n_pending counts succeeded,
    latest-version runs awaiting review; n_accepted counts runs of record."""
    out = {pk: {"n_samples": 0, "n_measurements": 0, "n_pending": 0, "n_accepted": 0} for pk in batch_ids}
    queries = {
        "n_samples": (Sample.objects.filter(batch_id__in=batch_ids), "batch_id"),
        "n_measurements": (Measurement.objects.filter(sample__batch_id__in=batch_ids), "sample__batch_id"),
        "n_pending": (AnalysisRun.objects.filter(batch_id__in=batch_ids).awaiting_review(), "batch_id"),
        "n_accepted": (AnalysisRun.objects.filter(batch_id__in=batch_ids).of_record(), "batch_id"),
    }
    for key, (qs, batch_field) in queries.items():
        for batch_id, n in qs.order_by().values(batch_field).annotate(n=Count("pk")).values_list(batch_field, "n"):
            out[batch_id][key] = n
    return out


def attach_page_data(batches: list[Batch]) -> list[Batch]:
    """Set n_samples, n_measurements, n_pending, n_accepted and techniques on each batch
    of a page (five queries in all)."""
    ids = [b.pk for b in batches]
    counts = batch_counts(ids)
    techniques = batch_techniques(ids)
    for b in batches:
        for key, value in counts[b.pk].items():
            setattr(b, key, value)
        b.techniques = techniques[b.pk]
    return batches


def batch_techniques(batch_ids: list[int]) -> dict[int, list[str]]:
    """{batch id: sorted technique codes measured} for a page of batches, in one query."""
    out: dict[int, set[str]] = {pk: set() for pk in batch_ids}
    rows = (Measurement.objects.filter(sample__batch_id__in=batch_ids).order_by()
            .values_list("sample__batch_id", "technique").distinct())
    for batch_id, technique in rows:
        out[batch_id].add(technique)
    return {pk: sorted(t) for pk, t in out.items()}


CSV_CHUNK = 2000


def _csv_annotations() -> dict[str, Any]:
    """The CSV's per-batch counts and techniques as subqueries of one query (PostgreSQL
    hashes each subquery once, so 10,000 batches cost ~0.4 s in SQL), with the same rules
    as `batch_counts`/`batch_techniques`."""
    runs = AnalysisRun.objects.filter(batch=OuterRef("pk"))
    measurements = Measurement.objects.filter(sample__batch=OuterRef("pk"))
    out: dict[str, Any] = {
        "csv_samples": _count(Sample.objects.filter(batch=OuterRef("pk")), "batch"),
        "csv_measurements": _count(measurements, "sample__batch"),
        "csv_pending": _count(runs.awaiting_review(), "batch"),
        "csv_accepted": _count(runs.of_record(), "batch"),
    }
    for technique in sorted(Technique.values):
        out[f"csv_has_{technique}"] = Exists(measurements.filter(technique=technique))
    return out


def batch_csv_rows_streamed(qs: QuerySet) -> Iterator[list[Any]]:
    """Rows for the CSV export of a `batch_list` queryset (header first), in its order:
    one query (counts and techniques as subqueries, plain tuples, no model instances)
    read through a server-side cursor CSV_CHUNK rows at a time, so memory and the number
    of queries stay flat however many batches match."""
    yield CSV_HEADER
    annotations = _csv_annotations()
    techniques = [name.removeprefix("csv_has_") for name in annotations if name.startswith("csv_has_")]
    rows = (qs.select_related(None).annotate(**annotations)
            .values_list("code", "project__name", "synthesised_at", "protocol__name", "protocol__version", "status",
                         "opa_concentration_molar", "reaction_duration_s", "temperature_c", "csv_samples",
                         "csv_measurements", *(f"csv_has_{t}" for t in techniques), "csv_pending", "csv_accepted",
                         "notes"))
    n = len(techniques)
    for row in rows.iterator(chunk_size=CSV_CHUNK):
        (code, project, synthesised_at, protocol, version, status, opa, duration, temperature, n_samples,
         n_measurements) = row[:11]
        has, (n_pending, n_accepted, notes) = row[11:11 + n], row[11 + n:]
        yield [code, project, synthesised_at.isoformat(), f"{protocol} v{version}" if protocol is not None else "",
               status, opa, duration, temperature, n_samples, n_measurements,
               " ".join(t for t, present in zip(techniques, has) if present), n_pending, n_accepted, notes]


CSV_HEADER = ["code", "project", "synthesised_at", "protocol", "status", "opa_concentration_molar",
              "reaction_duration_s", "temperature_c", "n_samples", "n_measurements", "techniques",
              "n_runs_pending_review", "n_runs_accepted", "notes"]


def batch_csv_rows(batches: list[Batch]) -> list[list[Any]]:
    """Rows for the CSV export (header first), in the list's order; `batches` went
    through attach_page_data."""
    rows: list[list[Any]] = [CSV_HEADER]
    for b in batches:
        rows.append([b.code, b.project.name, b.synthesised_at.isoformat(), str(b.protocol or ""), b.status,
                     b.opa_concentration_molar, b.reaction_duration_s, b.temperature_c, b.n_samples,
                     b.n_measurements, " ".join(b.techniques), b.n_pending, b.n_accepted, b.notes])
    return rows
