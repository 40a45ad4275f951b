"""Shared checks for every powder-pattern reader (.xy/.xye, EVA .csv, Bruker .brml).

Each reader parses its own layout, then hands the columns and what it learned about the
radiation to `build_pattern`, which checks the scan, sorts it and fills the metadata the
web app stores on the Measurement.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from analysis.data import PowderPattern
from analysis.result import InputError

# Cu Kα1 / Kα2 (Hölzer et al., Phys. Rev. A 56, 4554 (1997)), the values EVA and TOPAS use.
CU_KA1_ANGSTROM = 1.540598
CU_KA2_ANGSTROM = 1.544426
CU_KA2_RATIO = 0.5
MIN_POINTS = 20


def ka1_only(monochromator: str) -> bool:
    """True when the named primary optic removes Kα2 (Johansson or any 'Kα1' optic)."""
    text = monochromator.lower().replace(" ", "")
    return any(word in text for word in ("johansson", "ka1", "kalpha1", "kα1", "k-alpha1"))


def build_pattern(
    two_theta: np.ndarray,
    intensity: np.ndarray,
    path: str,
    *,
    fmt: str,
    metadata: dict[str, Any] | None = None,
    ka1_angstrom: float | None = None,
    ka2_angstrom: float | None = None,
    ka2_ratio: float | None = None,
    monochromator: str = "",
    anode: str = "Cu",
) -> PowderPattern:
    """Check, sort and package a scan. Returns a PowderPattern with 2θ ascending (degrees).

    A scan recorded from high to low angle is valid and is reversed; a 2θ value that
    occurs twice is refused, because a pattern cannot have two intensities at one angle.
    """
    tt = np.asarray(two_theta, dtype=float)
    y = np.asarray(intensity, dtype=float)
    if tt.size < MIN_POINTS:
        raise InputError(f"the scan has only {tt.size} points; a powder pattern needs at least {MIN_POINTS}", path)
    if not (np.all(np.isfinite(tt)) and np.all(np.isfinite(y))):
        raise InputError("the scan contains missing or non-numeric values", path)
    if tt.min() <= 0 or tt.max() >= 180:
        raise InputError(f"2θ runs from {tt.min():g}° to {tt.max():g}°; it must lie between 0° and 180°", path)
    descending = bool(tt[0] > tt[-1])
    order = np.argsort(tt, kind="stable")
    tt, y = tt[order], y[order]
    steps = np.diff(tt)
    if np.any(steps <= 0):
        dup = tt[1:][steps <= 0][0]
        raise InputError(f"2θ = {dup:g}° occurs more than once; each angle must appear once", path)

    ka1 = ka1_angstrom or CU_KA1_ANGSTROM
    ka2 = ka2_angstrom or CU_KA2_ANGSTROM
    if ka1_only(monochromator):
        ratio = 0.0
    else:
        ratio = CU_KA2_RATIO if ka2_ratio is None else float(ka2_ratio)
    wavelengths = (ka1,) if ratio == 0 else (ka1, ka2)
    meta: dict[str, Any] = {
        "anode": anode,
        "wavelength_ka1_angstrom": ka1,
        "wavelength_ka2_angstrom": ka2 if ratio > 0 else None,
        "ka2_ratio": ratio,
        "monochromator": monochromator or None,
        "two_theta_min_deg": float(tt[0]),
        "two_theta_max_deg": float(tt[-1]),
        "step_deg": float((tt[-1] - tt[0]) / (tt.size - 1)),
        "n_points": int(tt.size),
        "scan_descending": descending,
    }
    meta.update(metadata or {})
    return PowderPattern(
        format=fmt, source=path, metadata=meta, two_theta_deg=tt, intensity=y,
        wavelengths_angstrom=tuple(wavelengths), ka2_ratio=ratio,
    )


def looks_like_two_theta(x: np.ndarray) -> bool:
    """A cheap test that a column is a diffractometer 2θ axis: 2-160°, monotonic, with a
    small even step. Wavelengths in nm (PL) and q values (SAXS) fail it."""
    if x.size < 10 or not np.all(np.isfinite(x)):
        return False
    lo, hi = float(x.min()), float(x.max())
    if lo < 2 or hi > 160 or hi - lo < 1:
        return False
    steps = np.diff(x)
    # Repeated angles still sniff as XRD so that the reader can say what is wrong.
    if not (np.all(steps >= 0) or np.all(steps <= 0)):
        return False
    step = float(np.median(np.abs(steps[steps != 0]))) if np.any(steps != 0) else 0.0
    return 0.0005 <= step <= 0.2
