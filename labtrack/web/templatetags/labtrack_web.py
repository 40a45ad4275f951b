"""Presentation helpers: numbers with uncertainties, ages, sort links."""
from __future__ import annotations

import json
import math

from django import template
from django.utils import timezone

from labtrack.core.naturalsort import natural_key

register = template.Library()


def _decimals_for(stderr: float) -> int:
    """Decimals that keep two significant figures of the uncertainty."""
    if stderr <= 0 or not math.isfinite(stderr):
        return 3
    return max(0, 1 - int(math.floor(math.log10(stderr))))


def number_text(value, stderr=None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if stderr is not None and isinstance(stderr, (int, float)) and math.isfinite(stderr) and stderr > 0:
        d = min(_decimals_for(stderr), 8)
        return f"{value:.{d}f} ± {stderr:.{d}f}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


@register.filter
def quantity_text(q) -> str:
    """'8.37 ± 0.09 nm' for a Quantity (value_json shown as text for non-numbers)."""
    if q.value is None and q.value_json is not None:
        v = q.value_json
        if isinstance(v, list):
            text = "; ".join(_item_text(item) for item in v) if v else "none"
        else:
            text = _item_text(v)
    else:
        text = number_text(q.value, q.stderr)
    return f"{text} {q.unit}".strip() if q.unit and text != "—" else text


def _item_text(item) -> str:
    """One element of a list-valued quantity, e.g. an XRD marker '(102) 24.18° 4.5%'."""
    if not isinstance(item, dict):
        return str(item)
    units = {"two_theta_deg": "°", "relative_intensity_percent": "%"}
    parts = []
    for key, value in item.items():
        shown = number_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        parts.append(f"{shown}{units.get(key, '')}")
    return " ".join(parts)


@register.simple_tag
def measured(value, stderr=None, unit: str = "") -> str:
    """'0.39 ± 0.02 %': value and error at the error's precision, then the unit."""
    text = number_text(value, stderr)
    return f"{text} {unit}".strip() if unit and text != "—" else text


@register.filter
def num(value) -> str:
    return number_text(value)


@register.filter
def with_unit(value, unit: str) -> str:
    """'0.05 M', or '—' alone when there is no value."""
    if value is None or value == "":
        return "—"
    return f"{number_text(value)} {unit}"


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
