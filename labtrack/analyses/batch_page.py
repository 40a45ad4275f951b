"""Reads for the batch page: the key results as one compact table (rows: quantity with
technique; columns: the batch's samples, fresh before aged, each with its age when
measured) and the headline quantities of a run card. Built from `selectors.key_results`
(the result-of-record rule) and `presentation` (labels and precision), no queries."""
from __future__ import annotations

from dataclasses import dataclass, field

from labtrack import engine
from labtrack.analyses import presentation
from labtrack.analyses.selectors import KeyResult, _headline_quantities
from labtrack.core.naturalsort import natural_key


@dataclass
class KeyColumn:
    sample_code: str
    aged: bool
    ages_days: list[float] = field(default_factory=list)

    @property
    def age_text(self) -> str:
        """'1 d', '181 d', '1–3 d' (the sample's age when measured, from
        Measurement.sample_age_days), '' when unknown."""
        ages = sorted(a for a in self.ages_days if a is not None)
        if not ages:
            return ""
        low, high = ages[0], ages[-1]
        if round(low) == round(high):
            return f"{low:.0f} d"
        return f"{low:.0f}–{high:.0f} d"

    @property
    def negative_age(self) -> bool:
        return any(a is not None and a < 0 for a in self.ages_days)


@dataclass
class KeyCell:
    text: str
    run_pk: int
    accepted: bool
    age_days: float | None
    measurement_label: str = ""
    long: bool = False        # a list (XRD markers): wraps instead of widening the table


@dataclass
class KeyRow:
    technique_title: str      # "SAXS diameter", "NMR deconvolution"
    technique: str
    label: str                # "Mean diameter", "core · Shift"
    cells: list[KeyCell | None]


@dataclass
class KeyGroup:
    """The rows of one routine (a <tbody> with the routine's title as its row-group header)."""

    title: str
    technique: str
    rows: list[KeyRow]


@dataclass
class KeyTable:
    columns: list[KeyColumn]
    groups: list[KeyGroup]
    missing: list[str]        # routines with no run yet (their titles)
    any_pending: bool

    @property
    def empty(self) -> bool:
        return not self.groups


def _row_key(kr: KeyResult, q) -> tuple:
    # Components align across samples by assignment (fits of fresh and aged samples may
    # number their lines differently), else by component label.
    component = q.assignment or q.component_label
    return (kr.routine, component, q.name)


def _row_label(kr: KeyResult, q) -> str:
    label = presentation.name_label(kr.routine, q.name)
    if q.assignment:
        return f"{q.assignment} · {label}"
    if q.component_label:
        return f"{q.component_label} · {label}"
    return label


def _column_key(k: KeyResult) -> tuple[str, int | None]:
    # One column per sample and age when measured (to the day): an ageing series of one
    # sample reads across the row, fresh columns before aged ones.
    return (k.sample_code, None if k.sample_age_days is None else int(round(k.sample_age_days)))


def key_results_table(results: list[KeyResult]) -> KeyTable:
    """`key_results` (one entry per routine and measurement) pivoted to rows of quantities
    and one column per sample and age when measured. Two measurements of one routine in
    one column (1H and 133Cs deconvolutions of a sample) get rows of their own, named by
    the measurement."""
    with_run = [k for k in results if k.run]
    columns: dict[tuple, KeyColumn] = {}
    for k in sorted(with_run, key=lambda k: (k.aged, natural_key(k.sample_code), k.sample_age_days or 0.0)):
        column = columns.setdefault(_column_key(k), KeyColumn(k.sample_code, k.aged))
        column.ages_days.append(k.sample_age_days)
    order = {key: i for i, key in enumerate(columns)}
    per_routine_column: dict[tuple, int] = {}
    for k in with_run:
        key = (k.routine, _column_key(k))
        per_routine_column[key] = per_routine_column.get(key, 0) + 1
    rows: dict[tuple, KeyRow] = {}
    for k in with_run:
        split = per_routine_column[(k.routine, _column_key(k))] > 1
        for q in k.quantities:
            key = _row_key(k, q) + ((k.measurement_label,) if split else ())
            row = rows.get(key)
            if row is None:
                label = _row_label(k, q) + (f" ({k.measurement_label})" if split and k.measurement_label else "")
                row = rows[key] = KeyRow(k.label, k.technique, label, [None] * len(columns))
            i = order[_column_key(k)]
            row.cells[i] = row.cells[i] or KeyCell(presentation.quantity_text(q), k.run.pk, k.accepted,
                                                   k.sample_age_days, k.measurement_label,
                                                   long=q.value_json is not None and isinstance(q.value_json, list))
    # The rows of one routine together, routines in their summary order (key_results').
    groups: dict[str, KeyGroup] = {}
    for row in rows.values():
        groups.setdefault(row.technique_title, KeyGroup(row.technique_title, row.technique, [])).rows.append(row)
    return KeyTable(columns=list(columns.values()), groups=list(groups.values()),
                    missing=[k.label for k in results if not k.run],
                    any_pending=any(not k.accepted for k in with_run))


def card_quantities(run, limit: int = 8) -> list:
    """What a run card shows: the routine's headline quantities (declared in analysis/),
    else its first top-level ones, at most `limit`."""
    try:
        info = engine.routine_info(run.routine)
    except engine.UserInputError:
        info = None
    if info is None:
        return list(run.quantities.all())[:limit]
    return _headline_quantities(run, info.headline, info.headline_components)[:limit]


@dataclass
class CardParts:
    """A run card's numbers: top-level headline quantities, and the per-component ones as
    a small wide table (component x quantity: 133Cs sites x shift, integral)."""

    top: list
    components: presentation.WideTable


def card_parts(run, limit: int = 8) -> CardParts:
    chosen = card_quantities(run, limit=40)
    top = [q for q in chosen if not q.component_label][:limit]
    return CardParts(top=top, components=presentation.components_wide([q for q in chosen if q.component_label]))
