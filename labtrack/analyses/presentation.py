"""A quantity as pages show it: its declared label (analysis/quantity_labels.py, read
through the engine) and its value at the precision of its error, SI-prefixed where natural,
yes/no for flags. Every page (batch, run, review queue, trends, compare) reads this."""
from __future__ import annotations

from dataclasses import dataclass

from labtrack import engine
from labtrack.core.numbers import unit_shown, value_text


@dataclass(frozen=True)
class Shown:
    label: str   # "T1", "Integral", "Size is a lower bound"
    text: str    # "20.1 ± 0.3 ms", "no"
    kind: str


def _routine_of(q) -> str:
    """The quantity's routine without a query when the run is already loaded (prefetch
    sets it); '' for a quantity built in memory."""
    routine = getattr(q, "routine_name", None)
    if routine:
        return routine
    run = q._state.fields_cache.get("run") if hasattr(q, "_state") else None
    if run is not None:
        return run.routine
    return q.run.routine if getattr(q, "run_id", None) is not None else ""


def name_label(routine: str, name: str) -> str:
    """'Mean diameter', 'T1', 'Cs/Pb atomic ratio' for a routine's quantity name."""
    return engine.quantity_label(routine, name).label


def text_for(routine: str, name: str, value, stderr=None, unit: str = "") -> str:
    """The value as read: '20.1 ± 0.3 ms', 'yes', '12'."""
    info = engine.quantity_label(routine, name)
    return value_text(value, stderr, unit or info.unit, info.kind)


def quantity_label(q, *, with_component: bool = True) -> str:
    """'c2 (bulk) Integral' / 'Integral' for a Quantity row."""
    label = name_label(_routine_of(q), q.name)
    if with_component and q.component_label:
        component = q.component_label + (f" ({q.assignment})" if q.assignment else "")
        return f"{component} · {label}"
    return label


def quantity_text(q) -> str:
    value = q.value_json if q.value is None and q.value_json is not None else q.value
    return text_for(_routine_of(q), q.name, value, q.stderr, q.unit)


def shown(q) -> Shown:
    info = engine.quantity_label(_routine_of(q), q.name)
    return Shown(label=quantity_label(q), text=quantity_text(q), kind=info.kind)


def unit_label(unit: str) -> str:
    return unit_shown(unit)


def routine_title(routine: str) -> str:
    """'SAXS diameter' for 'saxs.size_distribution'; the name itself when not installed."""
    try:
        return engine.routine_info(routine).title
    except engine.UserInputError:
        return routine


@dataclass
class WideTable:
    """Per-component quantities as one row per component and one column per quantity
    (XRD's 20 reflections x 6 numbers read as a 20-row table, not 120 rows)."""

    columns: list[str]                 # quantity labels
    rows: list[tuple[str, str, list[str]]]  # (component, assignment, texts per column)


def components_wide(quantities) -> WideTable:
    """`quantities` (component rows of one run, in natural component order) pivoted wide."""
    names: list[str] = []
    by_component: dict[str, dict] = {}
    for q in quantities:
        if q.name not in names:
            names.append(q.name)
        entry = by_component.setdefault(q.component_label, {"assignment": q.assignment, "values": {}})
        entry["values"][q.name] = quantity_text(q)
        entry["assignment"] = entry["assignment"] or q.assignment
    routine = _routine_of(quantities[0]) if quantities else ""
    return WideTable(columns=[name_label(routine, n) for n in names],
                     rows=[(c, e["assignment"], [e["values"].get(n, "—") for n in names])
                           for c, e in by_component.items()])
