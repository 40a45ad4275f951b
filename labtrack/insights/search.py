"""Search across the lab's records: batches, samples, measurements, raw-file names,
notes, storage places and protocols, ranked, in the user's projects only.

PostgreSQL: full-text search (english stemming, so "aged" finds "ageing" and "aged
under ambient conditions") ORed with a substring match on the code-like fields (a
sample code such as "NC8.3-P" is not a word to the text parser), ranked by ts_rank
with exact and prefix code matches first. SQLite: substring matches ranked by field.

Cost is bounded for any input: the query is cut to MAX_QUERY_CHARS, split into at
most MAX_TERMS distinct terms, and every kind is one query (LIMIT per kind), so a
10,000-character paste costs what an 8-word query costs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.urls import reverse

from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch, Sample, SynthesisProtocol
from labtrack.samples.permissions import visible_projects

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 64
PER_KIND = 20

_SPLIT = re.compile(r"[\s,;]+")
_QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    truncated: bool  # the input was longer, or had more terms, than is searched


def parse_query(text: str) -> ParsedQuery:
    """At most MAX_TERMS distinct terms (case-folded, quotes stripped) from the first
    MAX_QUERY_CHARS characters. Linear in the input; the rest of a long paste is ignored
    (and said so)."""
    text = text or ""
    head = text[:MAX_QUERY_CHARS]
    truncated = len(text) > MAX_QUERY_CHARS
    terms: list[str] = []
    for raw in _SPLIT.split(head):
        term = raw.strip(_QUOTES + "()[]{}").casefold()[:MAX_TERM_CHARS]
        if not term or term in terms:
            continue
        if len(terms) == MAX_TERMS:
            truncated = True
            break
        terms.append(term)
    return ParsedQuery(tuple(terms), truncated)


@dataclass
class Hit:
    kind: str
    title: str
    url: str
    detail: str
    rank: float


@dataclass
class SearchResults:
    query: ParsedQuery
    groups: dict[str, list[Hit]] = field(default_factory=dict)  # kind label -> hits, best first

    @property
    def total(self) -> int:
        return sum(len(h) for h in self.groups.values())


@dataclass(frozen=True)
class _Kind:
    label: str
    codes: tuple[str, ...]      # code-like fields: substring match, exact/prefix boosted
    words: tuple[tuple[str, str], ...]  # (field, weight A-D): full-text on PostgreSQL
    queryset: Callable[[Any], QuerySet]
    hit: Callable[[Any], tuple[str, str, str]]  # row -> (title, url, detail)


def _batch_hit(b: Batch) -> tuple[str, str, str]:
    detail = " · ".join(x for x in (b.get_status_display(), str(b.protocol or ""), b.notes[:160]) if x)
    return b.code, reverse("batch_detail", args=[b.code]), detail


def _sample_hit(s: Sample) -> tuple[str, str, str]:
    detail = " · ".join(x for x in (s.get_form_display(), f"batch {s.batch.code}",
                                    f"stored: {s.storage_location}" if s.storage_location else "",
                                    s.notes[:160]) if x)
    return s.code, reverse("sample_detail", args=[s.pk]), detail


def _measurement_hit(m: Measurement) -> tuple[str, str, str]:
    title = f"{m.get_technique_display()} of {m.sample.code}" + (f" — {m.label}" if m.label else "")
    url = reverse("batch_detail", args=[m.sample.batch.code]) + f"#measurement-{m.pk}"
    return title, url, m.notes[:160]


def _raw_file_hit(f: RawFile) -> tuple[str, str, str]:
    m = f.measurement
    url = reverse("batch_detail", args=[m.sample.batch.code]) + f"#measurement-{m.pk}"
    return f.original_name, url, f"{m.get_technique_display()} of {m.sample.code} · {f.detected_format}"


def _protocol_hit(p: SynthesisProtocol) -> tuple[str, str, str]:
    return str(p), reverse("batch_list") + f"?protocol={p.pk}", p.description[:200]


KINDS = (
    _Kind("Batches", ("code",), (("code", "A"), ("notes", "C"), ("washing_notes", "D"), ("drying", "D")),
          lambda user: Batch.objects.filter(project__in=visible_projects(user)).select_related("protocol"),
          _batch_hit),
    _Kind("Samples", ("code", "storage_location"),
          (("code", "A"), ("storage_location", "B"), ("notes", "C")),
          lambda user: Sample.objects.filter(batch__project__in=visible_projects(user)).select_related("batch"),
          _sample_hit),
    _Kind("Measurements", (), (("label", "B"), ("notes", "C")),
          lambda user: (Measurement.objects.filter(sample__batch__project__in=visible_projects(user))
                        .select_related("sample__batch")),
          _measurement_hit),
    _Kind("Raw files", ("original_name",), (("original_name", "B"),),
          lambda user: (RawFile.objects.filter(measurement__sample__batch__project__in=visible_projects(user))
                        .select_related("measurement__sample__batch")),
          _raw_file_hit),
    _Kind("Protocols", ("name",), (("name", "A"), ("description", "C")),
          lambda user: SynthesisProtocol.objects.all(), _protocol_hit),
)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _code_boost(kind: _Kind, terms: tuple[str, ...]):
    """Exact code match 3, prefix 2, substring 1 (summed over terms and code fields)."""
    whens = []
    for name in kind.codes:
        for term in terms:
            whens.append(Case(When(**{f"{name}__iexact": term}, then=Value(3.0)),
                              When(**{f"{name}__istartswith": term}, then=Value(2.0)),
                              When(**{f"{name}__icontains": term}, then=Value(1.0)),
                              default=Value(0.0), output_field=FloatField()))
    total = Value(0.0, output_field=FloatField())
    for w in whens:
        total = total + w
    return total


def _search_kind(kind: _Kind, user, terms: tuple[str, ...]) -> list[Hit]:
    qs = kind.queryset(user)
    if _is_postgres():
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = None
        for name, weight in kind.words:
            part = SearchVector(name, weight=weight, config="english")  # coalesces NULLs itself
            vector = part if vector is None else vector + part
        qs = qs.annotate(search_vector=vector)
        any_term = None
        for term in terms:
            query = SearchQuery(term, search_type="plain", config="english")
            code_match = Q()
            for name in kind.codes:
                code_match |= Q(**{f"{name}__icontains": term})
            qs = qs.filter(Q(search_vector=query) | code_match)
            any_term = query if any_term is None else any_term | query
        rank = SearchRank(F("search_vector"), any_term) + _code_boost(kind, terms)
    else:
        for term in terms:
            match = Q()
            for name, _ in kind.words:
                match |= Q(**{f"{name}__icontains": term})
            qs = qs.filter(match)
        weights = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
        rank = _code_boost(kind, terms)
        for name, weight in kind.words:
            for term in terms:
                rank = rank + Case(When(**{f"{name}__icontains": term}, then=Value(weights[weight])),
                                   default=Value(0.0), output_field=FloatField())
    first_code = kind.codes[0] if kind.codes else kind.words[0][0]
    # Equal ranks in natural code order (NC6.4 before NC10.4) where the model keeps one.
    tie = "code_sort_key" if first_code == "code" else Lower(first_code)
    rows = qs.annotate(search_rank=rank).order_by("-search_rank", tie, "pk")[:PER_KIND]
    hits = []
    for row in rows:
        title, url, detail = kind.hit(row)
        hits.append(Hit(kind.label, title, url, detail, float(row.search_rank)))
    return hits


def search(*, user, text: str) -> SearchResults:
    """Ranked hits grouped by kind (kinds without hits left out): one query per kind,
    at most PER_KIND hits each, whatever `text` is."""
    parsed = parse_query(text)
    results = SearchResults(parsed)
    if not parsed.terms:
        return results
    for kind in KINDS:
        hits = _search_kind(kind, user, parsed.terms)
        if hits:
            results.groups[kind.label] = hits
    return results
