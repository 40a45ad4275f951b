"""Area-normalised NMR line shapes on a ppm axis, with derivatives for the fitter.

Every shape integrates to 1 over ppm, so a component's amplitude *is* its integral
(intensity x ppm). `fwhm` is the full width at half maximum in ppm.
"""
from __future__ import annotations

import numpy as np

LINESHAPES = ("gaussian", "lorentzian", "voigt")
_LN2 = np.log(2.0)
_G_NORM = 2.0 * np.sqrt(_LN2 / np.pi)


def gaussian(x: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    """Unit-area Gaussian (1/ppm)."""
    return _G_NORM / fwhm * np.exp(-4.0 * _LN2 * ((x - centre) / fwhm) ** 2)


def lorentzian(x: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    """Unit-area Lorentzian (1/ppm)."""
    half = 0.5 * fwhm
    return half / np.pi / ((x - centre) ** 2 + half * half)


def shape(x: np.ndarray, centre: float, fwhm: float, kind: str = "gaussian",
          eta: float = 0.5) -> np.ndarray:
    """Unit-area line of `kind`; "voigt" is a pseudo-Voigt with Lorentzian fraction `eta`."""
    if kind == "gaussian":
        return gaussian(x, centre, fwhm)
    if kind == "lorentzian":
        return lorentzian(x, centre, fwhm)
    return eta * lorentzian(x, centre, fwhm) + (1.0 - eta) * gaussian(x, centre, fwhm)


def shape_and_derivatives(x: np.ndarray, centre: float, fwhm: float, kind: str,
                          eta: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(f, df/dcentre, df/dfwhm, df/deta) of the unit-area line."""
    d = x - centre
    g = gaussian(x, centre, fwhm)
    dg_dc = g * 8.0 * _LN2 * d / fwhm**2
    dg_dw = g * (-1.0 / fwhm + 8.0 * _LN2 * d * d / fwhm**3)
    if kind == "gaussian":
        return g, dg_dc, dg_dw, np.zeros_like(x)
    half = 0.5 * fwhm
    den = d * d + half * half
    lo = half / np.pi / den
    dl_dc = lo * 2.0 * d / den
    dl_dw = 0.5 * (1.0 / np.pi / den - half / np.pi * 2.0 * half / den**2)
    if kind == "lorentzian":
        return lo, dl_dc, dl_dw, np.zeros_like(x)
    f = eta * lo + (1.0 - eta) * g
    return f, eta * dl_dc + (1 - eta) * dg_dc, eta * dl_dw + (1 - eta) * dg_dw, lo - g


def peak_height(area: float, fwhm: float, kind: str = "gaussian", eta: float = 0.5) -> float:
    """Maximum of a line of the given area and FWHM (intensity units)."""
    return area * float(shape(np.array([0.0]), 0.0, fwhm, kind, eta)[0])
