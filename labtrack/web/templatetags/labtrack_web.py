"""Presentation helpers: numbers with uncertainties, ages, sort links."""
from __future__ import annotations

import json

from django import template
from django.utils import timezone

from labtrack.analyses import batch_page, presentation
from labtrack.core.naturalsort import natural_key
from labtrack.core.numbers import number_text, with_unit_text

register = template.Library()


@register.filter
def quantity_text(q) -> str:
    """'8.37 ± 0.09 nm', '20.1 ± 0.3 ms', 'no' for a Quantity, read with its routine's
    declared kind (labtrack.analyses.presentation)."""
    return presentation.quantity_text(q)


@register.filter
def quantity_label(q) -> str:
    """'c2 (bulk) Integral', 'T1', 'Size is a lower bound' for a Quantity."""
    return presentation.quantity_label(q)


@register.filter
def name_label(q) -> str:
    """'Integral' for a Quantity, without its component (for a row already naming it)."""
    return presentation.quantity_label(q, with_component=False)


@register.simple_tag
def measured(value, stderr=None, unit: str = "") -> str:
    """'0.39 ± 0.02 %': value and error at the error's precision, then the unit."""
    return with_unit_text(number_text(value, stderr), unit)


@register.filter
def num(value) -> str:
    return number_text(value)


@register.filter
def with_unit(value, unit: str) -> str:
    """'0.05 M', or '—' alone when there is no value."""
    if value is None or value == "":
        return "—"
    return with_unit_text(number_text(value), unit)


@register.filter
def card_quantities(run, limit: int = 6) -> list:
    """What a run card shows: top-level quantities, then per-component ones labelled."""
    qs = list(run.quantities.all())
    top = [q for q in qs if not q.component_label]
    comps = sorted((q for q in qs if q.component_label and q.name in CARD_COMPONENT_NAMES),
                   key=lambda q: (natural_key(q.component_label), q.pk))
    return (top + comps)[:limit]


CARD_COMPONENT_NAMES = ("shift_ppm", "integral_percent", "t1_s", "fraction_percent", "position_deg", "ratio")


@register.filter
def age_text(started_at) -> str:
    """Age since `started_at`: '3.2 d', '5 h', '14 months'."""
    if not started_at:
        return "—"
    days = (timezone.now() - started_at).total_seconds() / 86400.0
    if days < 0:
        return "not started"
    if days < 1:
        return f"{days * 24:.0f} h"
    if days < 60:
        return f"{days:.1f} d"
    return f"{days / 30.44:.1f} months"


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)


@register.filter
def param_text(value) -> str:
    if value is None:
        return "default"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


@register.simple_tag(takes_context=True)
def sort_query(context, key: str) -> str:
    """The query string that sorts the list by `key`, toggling direction if it already is."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("sort", "-date")
    params["sort"] = ("-" + key) if current == key else key
    params.pop("page", None)
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def sort_state(context, key: str) -> str:
    """aria-sort value for a column header."""
    current = context["request"].GET.get("sort", "-date")
    if current == key:
        return "ascending"
    if current == "-" + key:
        return "descending"
    return "none"


@register.filter
def short_sha(sha: str) -> str:
    return (sha or "")[:12]


@register.filter
def filesize(n) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@register.filter
def months(days) -> str:
    """Days as months to one decimal ('6.2 mo'), '—' for None (1 month = 365.25/12 d)."""
    if days is None or days == "":
        return "—"
    return f"{float(days) / (365.25 / 12):.1f} mo"


@register.filter
def status_class(status: str) -> str:
    """CSS class of a pull-point status (reuses the run status colours)."""
    return {"on time": "status-complete", "late": "status-running", "missed": "status-failed",
            "overdue": "status-failed", "due": "status-running"}.get(status, "status-archived")


@register.filter
def get_item(mapping, key):
    """mapping[key], or "" when absent (templates cannot index a dict by a variable)."""
    return (mapping or {}).get(key, "")


@register.filter
def headline_quantities(run, limit: int = 8) -> list:
    """A run card's numbers: the routine's headline quantities (labtrack.analyses.batch_page)."""
    return batch_page.card_quantities(run, limit)


@register.filter
def routine_title(routine: str) -> str:
    """'NMR deconvolution' for 'nmr.deconvolve' (declared next to the routine)."""
    return presentation.routine_title(routine)


@register.filter
def components_wide(quantities):
    """Per-component quantities as a wide table (presentation.components_wide)."""
    return presentation.components_wide(list(quantities))


@register.filter
def components_table(components):
    """The review queue's components (each with .quantities) as one wide table."""
    return presentation.components_wide([q for c in components for q in c.quantities])


@register.filter
def card_parts(run):
    """Top-level headline quantities and a per-component table (batch_page.card_parts)."""
    return batch_page.card_parts(run)
