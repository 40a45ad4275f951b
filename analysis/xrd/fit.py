"""Background, peak detection and Kα-doublet pseudo-Voigt fits for powder patterns.

`fit_window` fits any number of peaks plus a Chebyshev background, weighted by Poisson
counting errors, with an analytic Jacobian. Nanocrystal patterns, whose broad reflections
never return to the background, are fitted whole; sharp standards reflection by reflection.
Uncertainties are one sigma from the Jacobian, scaled by the reduced χ².
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from pybaselines import Baseline
from scipy.optimize import least_squares
from scipy.signal import find_peaks, peak_widths, savgol_filter

from analysis.data import PowderPattern
from analysis.result import InputError
from analysis.xrd.model import FOUR_LN2, doublet, ka2_position


@dataclass
class Peak:
    """One fitted reflection (Kα1 position). Widths and positions in degrees 2θ."""

    center: float
    area: float
    fwhm: float
    eta: float
    center_err: float | None = None
    area_err: float | None = None
    fwhm_err: float | None = None
    eta_err: float | None = None
    cov_fwhm_eta: float = 0.0
    label: str = ""
    hkl: str = ""
    extras: dict = field(default_factory=dict)


@dataclass
class Radiation:
    ka1: float
    ka2: float
    ratio: float

    @classmethod
    def of(cls, pattern: PowderPattern) -> "Radiation":
        waves = pattern.wavelengths_angstrom
        ratio = pattern.ka2_ratio if len(waves) > 1 else 0.0
        return cls(waves[0], waves[1] if len(waves) > 1 else waves[0], ratio)

    def split(self, two_theta: float) -> float:
        """Kα2 - Kα1 separation at `two_theta` (degrees; 0 without Kα2)."""
        return float(ka2_position(two_theta, self.ka1, self.ka2) - two_theta) if self.ratio > 0 else 0.0


def pattern_arrays(pattern: PowderPattern) -> tuple[np.ndarray, np.ndarray]:
    """2θ (degrees) and intensity as float arrays; too short a scan is an InputError."""
    x, y = np.asarray(pattern.two_theta_deg, float), np.asarray(pattern.intensity, float)
    if x.size < 50:
        raise InputError(f"the pattern has only {x.size} points; too few to fit peaks", pattern.source)
    return x, y


def background(x: np.ndarray, y: np.ndarray, max_fwhm_deg: float) -> np.ndarray:
    """SNIP background (counts) clipping features up to ~4× `max_fwhm_deg` wide."""
    step = float(np.median(np.diff(x)))
    half = int(min(max(2 * max_fwhm_deg / step, 5), len(x) // 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base, _ = Baseline(x).snip(y, max_half_window=half, decreasing=True,
                                   smooth_half_window=max(1, half // 20))
    return np.minimum(base, y.max())


def noise_level(net: np.ndarray) -> float:
    """Robust point-to-point noise (counts) from the median absolute first difference."""
    return float(1.4826 * np.median(np.abs(np.diff(net))) / math.sqrt(2.0)) or 1.0


def detect(x: np.ndarray, net: np.ndarray, rad: Radiation, *, min_relative: float = 0.004,
           n_sigma: float = 5.0) -> list[tuple[float, float, float]]:
    """Peaks in background-subtracted counts: (2θ, height, rough FWHM). Kα2 shoulders
    of stronger peaks are dropped: they belong to the doublet model."""
    step = float(np.median(np.diff(x)))
    window = max(5, int(0.03 / step) | 1)
    smooth = savgol_filter(net, window, 2) if window < len(net) else net
    noise = noise_level(net)
    prominence = max(n_sigma * noise, min_relative * float(smooth.max()))
    idx, props = find_peaks(smooth, prominence=prominence, width=2)
    if not len(idx):
        return []
    widths = peak_widths(smooth, idx, rel_height=0.5)[0] * step
    found = sorted(zip(x[idx], smooth[idx], widths), key=lambda p: -p[1])
    kept: list[tuple[float, float, float]] = []
    for pos, height, width in found:
        is_ka2 = any(
            rad.ratio > 0 and abs(pos - (kp + rad.split(kp))) < max(0.3 * kw, 2 * step)
            and height < 0.8 * kh and abs(rad.split(kp)) > 0.5 * kw
            for kp, kh, kw in kept)
        if not is_ka2:
            kept.append((float(pos), float(height), float(width)))
    return sorted(kept)


def fit_window(x: np.ndarray, y: np.ndarray, base: np.ndarray, starts: list[tuple[float, float, float]],
               rad: Radiation, *, limits: list[tuple[float, float, float] | None] | None = None,
               center_slack: float | None = None, bg_degree: int = 1,
               bg_guess: np.ndarray | None = None) -> tuple[list[Peak], dict]:
    """Fit doublet pseudo-Voigts (shared η) to counts `y` over `x`.

    `starts` are (2θ, height, FWHM) guesses; `limits` optionally gives per peak (centre
    slack, min FWHM, max FWHM). The background is `base` plus a Chebyshev polynomial of
    `bg_degree`, started from `bg_guess - base` when given. Returns the peaks and fit
    statistics with the model and background curves (counts).
    """
    sigma = np.sqrt(np.maximum(y, 1.0))
    npk = len(starts)
    p0, lo, hi = [], [], []
    for j, (pos, height, width) in enumerate(starts):
        slack, w_lo, w_hi = (limits[j] if limits and limits[j] else
                             (center_slack if center_slack is not None else max(0.5 * width, 0.02),
                              max(width * 0.2, 1e-3), width * 5.0 + 0.05))
        area = max(height, 1.0) * width * 1.2 / (1.0 + rad.ratio)
        p0 += [pos, area, width]
        lo += [pos - slack, 0.0, w_lo]
        hi += [pos + slack, np.inf, w_hi]
    half = max(float(x[-1] - x[0]) / 2.0, 1e-9)
    basis = np.polynomial.chebyshev.chebvander((x - float(x[0]) - half) / half, bg_degree)
    bg0 = (np.linalg.lstsq(basis, bg_guess - base, rcond=None)[0] if bg_guess is not None
           else np.zeros(bg_degree + 1))
    p0 += [0.5, *bg0]
    lo += [0.0] + [-np.inf] * (bg_degree + 1)
    hi += [1.0] + [np.inf] * (bg_degree + 1)
    p0 = np.clip(p0, lo, hi)

    def resid(p: np.ndarray) -> np.ndarray:
        return (_model_and_jac(p, x, basis, base, npk, rad, want_jac=False)[0] - y) / sigma

    def jac(p: np.ndarray) -> np.ndarray:
        return _model_and_jac(p, x, basis, base, npk, rad, want_jac=True)[1] / sigma[:, None]

    # The iterative trust-region solver avoids a dense SVD per step, which is slow when
    # BLAS threads compete for a busy machine.
    res = least_squares(resid, p0, jac=jac, bounds=(lo, hi), x_scale="jac", tr_solver="lsmr",
                        max_nfev=200 * len(p0))
    dof = max(len(x) - len(p0), 1)
    chi2 = float(np.sum(res.fun**2) / dof)
    # Scaled by χ²ᵥ so that errors stay right when intensities are not raw counts.
    cov = np.linalg.pinv(res.jac.T @ res.jac) * chi2
    err = np.sqrt(np.clip(np.diag(cov), 0, None))
    p = res.x
    eta_i = 3 * npk
    peaks = [Peak(center=p[i], area=p[i + 1], fwhm=p[i + 2], eta=p[eta_i],
                  center_err=err[i], area_err=err[i + 1], fwhm_err=err[i + 2], eta_err=err[eta_i],
                  cov_fwhm_eta=float(cov[i + 2, eta_i]))
             for i in range(0, 3 * npk, 3)]
    fit = _model_and_jac(p, x, basis, base, npk, rad, want_jac=False)[0]
    ss_res = float(np.sum((y - fit) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2)) or 1.0
    return peaks, {"reduced_chi2": chi2, "r_squared": 1 - ss_res / ss_tot, "n_points": int(len(x)),
                   "model": fit, "background": base + basis @ p[eta_i + 1:]}


def _pv_parts(x: np.ndarray, center: float, fwhm: float, eta: float):
    """Unit-area pseudo-Voigt and its derivatives with respect to centre, FWHM and η."""
    u = (x - center) / fwhm
    gauss = math.sqrt(FOUR_LN2 / math.pi) / fwhm * np.exp(-FOUR_LN2 * u * u)
    q = 1.0 + 4.0 * u * u
    lorentz = 2.0 / (math.pi * fwhm) / q
    value = eta * lorentz + (1.0 - eta) * gauss
    d_center = (eta * lorentz * 8.0 * u / q + (1.0 - eta) * gauss * 2.0 * FOUR_LN2 * u) / fwhm
    d_fwhm = (eta * lorentz * (8.0 * u * u / q - 1.0) + (1.0 - eta) * gauss * (2.0 * FOUR_LN2 * u * u - 1.0)) / fwhm
    return value, d_center, d_fwhm, lorentz - gauss


def _model_and_jac(p: np.ndarray, x: np.ndarray, basis: np.ndarray, fixed: np.ndarray, npk: int,
                   rad: Radiation, *, want_jac: bool):
    """Model (counts) and, if asked, its Jacobian for the parameter layout of `fit_window`:
    [centre, area, FWHM] per peak, then η, then the background polynomial coefficients."""
    eta = p[3 * npk]
    out = fixed + basis @ p[3 * npk + 1:]
    jac = np.empty((len(x), len(p))) if want_jac else None
    d_eta = np.zeros_like(x)
    for j in range(npk):
        center, area, fwhm = p[3 * j:3 * j + 3]
        if not want_jac:
            out = out + doublet(x, center, area, fwhm, eta, rad.ka1, rad.ka2, rad.ratio)
            continue
        v, dc, dw, de = _pv_parts(x, center, fwhm, eta)
        if rad.ratio > 0:
            c2 = float(ka2_position(center, rad.ka1, rad.ka2))
            # d(2θ2)/d(2θ1) = (λ2/λ1) cos θ1 / cos θ2 from Bragg's law
            slope = rad.ka2 / rad.ka1 * math.cos(math.radians(center / 2)) / math.cos(math.radians(c2 / 2))
            v2, dc2, dw2, de2 = _pv_parts(x, c2, fwhm, eta)
            v, dc, dw, de = (v + rad.ratio * v2, dc + rad.ratio * slope * dc2,
                             dw + rad.ratio * dw2, de + rad.ratio * de2)
        out = out + area * v
        jac[:, 3 * j] = area * dc
        jac[:, 3 * j + 1] = v
        jac[:, 3 * j + 2] = area * dw
        d_eta += area * de
    if want_jac:
        jac[:, 3 * npk] = d_eta
        jac[:, 3 * npk + 1:] = basis
    return out, jac
