"""Numbers as a chemist reads them: the precision rule, SI prefixes, yes/no, units.

One rule, one place: a value with an uncertainty is shown with two significant figures of
the uncertainty and the value to the same decimal place ("2.43575 ± 0.00047 eV"); without
one, four significant figures. Pages reach this through the `measured`/`num` template tags
and `labtrack.analyses.presentation`.
"""
from __future__ import annotations

import math
from typing import Any

# Base units whose SI prefix is chosen for display (T1 0.02007 s -> 20.07 ms, 0.085 eV -> 85 meV).
# Not Hz: NMR line widths are compared in Hz across a table, never mixed with kHz.
_PREFIXED_BASES = {
    "s": ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")),
    "eV": ((1e3, "k"), (1.0, ""), (1e-3, "m")),
}
_PREFIX_FACTORS = {"m": 1e-3, "µ": 1e-6, "n": 1e-9, "k": 1e3}
# Stored unit -> shown unit.
_UNIT_SHOWN = {"percent": "%", "angstrom": "Å", "deg": "°", "degree": "°", "a.u.": "a.u."}
# Units written straight after the number (24.18°), all others after a space.
_UNSPACED = {"°"}


def decimals_for(stderr: float) -> int:
    """Decimals that keep two significant figures of the uncertainty."""
    if stderr <= 0 or not math.isfinite(stderr):
        return 3
    return max(0, 1 - int(math.floor(math.log10(stderr))))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_text(value, stderr=None) -> str:
    """'8.37 ± 0.09' (error to two significant figures, value to match), '0.02007', '—'."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if stderr is not None and _is_number(stderr) and math.isfinite(stderr) and stderr > 0:
        d = min(decimals_for(stderr), 8)
        return f"{value:.{d}f} ± {stderr:.{d}f}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def unit_shown(unit: str) -> str:
    """The unit as printed: 'percent' -> '%', 'angstrom' -> 'Å'."""
    return _UNIT_SHOWN.get(unit, unit)


def _split_prefixed(unit: str) -> tuple[float, str] | None:
    """'ms' -> (1e-3, 's'); None when the unit is not one whose prefix we choose."""
    if unit in _PREFIXED_BASES:
        return 1.0, unit
    if len(unit) > 1 and unit[1:] in _PREFIXED_BASES and unit[0] in _PREFIX_FACTORS:
        return _PREFIX_FACTORS[unit[0]], unit[1:]
    return None


def si_scaled(value: float, stderr: float | None, unit: str) -> tuple[float, float | None, str]:
    """(value, stderr, unit) rescaled to the SI prefix that reads naturally for the value:
    the largest prefix with |value| >= 1 (0.02007 s -> 20.07 ms; 0.085 eV -> 85 meV)."""
    split = _split_prefixed(unit)
    if split is None or not _is_number(value) or not math.isfinite(value):
        return value, stderr, unit
    factor, base = split
    base_value = value * factor
    base_err = stderr * factor if _is_number(stderr) else stderr
    magnitude = abs(base_value) or (abs(base_err) if _is_number(base_err) else 0.0)
    choices = _PREFIXED_BASES[base]
    chosen = next(((f, p) for f, p in choices if magnitude >= f), choices[-1]) if magnitude else (factor, unit[:-len(base)])
    f, prefix = chosen
    return base_value / f, (base_err / f if _is_number(base_err) else base_err), prefix + base


def with_unit_text(text: str, unit: str) -> str:
    unit = unit_shown(unit)
    if not unit or text == "—":
        return text
    return f"{text}{unit}" if unit in _UNSPACED else f"{text} {unit}"


def item_text(item: Any) -> str:
    """One element of a list-valued quantity, e.g. an XRD marker '(102) 24.18° 4.5%' (compact)."""
    if not isinstance(item, dict):
        return str(item)
    units = {"two_theta_deg": "°", "relative_intensity_percent": "%"}
    # A reflection reads as hkl, position and relative intensity; its fit details (area,
    # height, significance) are on the run page.
    shown_keys = [k for k in ("hkl", "two_theta_deg", "relative_intensity_percent") if k in item]
    parts = []
    for key, value in ((k, item[k]) for k in (shown_keys if "hkl" in item else item)):
        shown = number_text(value) if _is_number(value) else str(value)
        parts.append(f"{shown}{units.get(key, '')}")
    return " ".join(parts)


def value_text(value: Any, stderr: float | None = None, unit: str = "", kind: str = "measure") -> str:
    """A quantity's value as a person reads it, unit included: '20.1 ± 0.3 ms', 'no',
    '12', '(102) 24.18° 4.5 %; (112) 28.5° 3.1 %', '—' when there is none."""
    if value is None:
        return "—"
    if isinstance(value, bool) or kind == "flag":
        if isinstance(value, (bool, int)) and not isinstance(value, float):
            return "yes" if value else "no"
        return str(value)
    if isinstance(value, list):
        return "; ".join(item_text(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return item_text(value)
    if not _is_number(value):
        return str(value)
    if kind == "count" and float(value).is_integer() and not _is_number(stderr):
        return with_unit_text(f"{int(value)}", unit)
    value, stderr, unit = si_scaled(value, stderr, unit)
    return with_unit_text(number_text(value, stderr), unit)
