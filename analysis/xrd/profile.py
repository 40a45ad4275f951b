"""xrd.instrument_profile: instrument line width versus 2θ from a line-profile standard.

Each reflection of the standard (NIST SRM 640d silicon by default) is fitted on its own
with a (doublet) pseudo-Voigt over a local straight background; the FWHMs are then fitted
with the Caglioti law FWHM² = U tan²θ + V tanθ + W (Caglioti, Paoletti and Ricci, Nucl.
Instrum. 3, 223 (1958)), weighted by their uncertainties.
"""
from __future__ import annotations

import math

import numpy as np

from analysis.data import PowderPattern
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result
from analysis.xrd.fit import Radiation, background, fit_window, noise_level, pattern_arrays
from analysis.xrd.model import SI_SRM640D_A, cubic_reflections, diamond_allowed, reflection_positions


# No headline: it characterises an instrument (a line-profile standard), not a batch.
@routine("xrd.instrument_profile", version="1.0.0", accepts=(PowderPattern.kind,), title="XRD instrument profile")
def instrument_profile(pattern: PowderPattern, *, lattice_a_angstrom: float = SI_SRM640D_A,
                       min_snr: float = 20.0) -> Result:
    """Instrument line width versus 2θ from a line-profile standard (NIST SRM 640d Si).

    Fits each Si reflection with a (doublet) pseudo-Voigt and the Caglioti law
    FWHM² = U tan²θ + V tanθ + W (degrees²). Pass the result to xrd.scherrer as
    caglioti={"U": .., "V": .., "W": ..} and instrument_eta.
    """
    x, y = pattern_arrays(pattern)
    rad = Radiation.of(pattern)
    base = background(x, y, 0.4)
    net = y - base
    noise = noise_level(net)
    table = reflection_positions(cubic_reflections(allowed=diamond_allowed), lattice_a_angstrom,
                                 rad.ka1, x[0] + 0.5, x[-1] - 0.5)
    peaks = []
    for refl, tt in table:
        near = (x > tt - 0.3) & (x < tt + 0.3)
        if not near.any() or net[near].max() < min_snr * noise:
            continue
        pos = float(x[near][np.argmax(net[near])])
        sel = (x > pos - 0.6) & (x < pos + 0.6 + rad.split(pos))
        got, stats = fit_window(x[sel], y[sel], base[sel], [(pos, float(net[near].max()), 0.08)], rad,
                                center_slack=0.1)
        got[0].hkl = refl.hkl
        got[0].extras["expected_deg"] = tt
        got[0].extras["r_squared"] = stats["r_squared"]
        peaks.append(got[0])
    if len(peaks) < 3:
        raise InputError(f"found {len(peaks)} silicon reflection(s); the Caglioti fit needs at least 3 "
                         "(is this a Si line-profile standard such as SRM 640d?)", pattern.source)

    t = np.tan(np.radians([p.center / 2 for p in peaks]))
    h = np.array([p.fwhm for p in peaks])
    h_err = np.array([p.fwhm_err if p.fwhm_err and np.isfinite(p.fwhm_err) else 0.05 * p.fwhm for p in peaks])
    weight = 1.0 / (2 * h * h_err)
    design = np.vstack([t * t, t, np.ones_like(t)]).T
    coef, *_ = np.linalg.lstsq(design * weight[:, None], h * h * weight, rcond=None)
    resid = (design @ coef - h * h) * weight
    chi2 = float(resid @ resid) / max(len(h) - 3, 1)
    cov = np.linalg.inv((design * weight[:, None]).T @ (design * weight[:, None])) * max(chi2, 1.0)
    u, v, w = coef

    def fwhm_at(tt: float) -> tuple[float, float]:
        tan = math.tan(math.radians(tt / 2))
        g = np.array([tan * tan, tan, 1.0])
        h2 = float(g @ coef)
        if h2 <= 0:
            return float("nan"), float("nan")
        return math.sqrt(h2), math.sqrt(float(g @ cov @ g)) / (2 * math.sqrt(h2))

    h28, h28_err = fwhm_at(28.44)
    warnings = []
    if not h28 < 0.1:
        warnings.append(f"instrument FWHM at 28.4° is {h28:.3f}°: broad for a line-profile standard")
    etas = np.array([p.eta for p in peaks])
    eta_w = 1.0 / np.array([max(p.eta_err or 0.05, 1e-3) for p in peaks]) ** 2
    offset = np.array([p.center - p.extras["expected_deg"] for p in peaks])
    quantities = {
        "caglioti_u": Q(u, math.sqrt(cov[0, 0]), "deg^2"),
        "caglioti_v": Q(v, math.sqrt(cov[1, 1]), "deg^2"),
        "caglioti_w": Q(w, math.sqrt(cov[2, 2]), "deg^2"),
        "fwhm_at_28_deg": Q(h28, h28_err, "deg"),
        "instrument_eta": Q(float(np.sum(eta_w * etas) / np.sum(eta_w)), float(np.std(etas, ddof=1)), ""),
        "two_theta_offset_deg": Q(float(np.mean(offset)), float(np.std(offset, ddof=1) / math.sqrt(len(offset))), "deg"),
        "n_reflections": Q(len(peaks), None, ""),
    }
    components = [Component(label=f"Si{p.hkl}", assignment=f"Si {p.hkl}", quantities={
        "two_theta_deg": Q(p.center, p.center_err, "deg"), "fwhm_deg": Q(p.fwhm, p.fwhm_err, "deg"),
        "eta": Q(p.eta, p.eta_err, ""), "hkl": Q(p.hkl, None, "")}) for p in peaks]
    grid = np.linspace(x[0], x[-1], 200)
    curve = np.array([fwhm_at(g)[0] for g in grid])
    return Result(
        quantities=quantities, components=components,
        fit={"reduced_chi2": chi2, "n_points": len(peaks),
             "r_squared": float(np.mean([p.extras["r_squared"] for p in peaks]))},
        warnings=warnings,
        curves={"fwhm": {"two_theta_deg": np.array([p.center for p in peaks]), "fwhm_deg": h,
                         "fwhm_err_deg": h_err},
                "caglioti": {"two_theta_deg": grid, "fwhm_deg": curve}},
        extras={"caglioti": {"U": float(u), "V": float(v), "W": float(w)}},
    )


def _plot(result: Result):
    from analysis.xrd.plot import plot_profile  # matplotlib only when a figure is drawn

    return plot_profile(result)


set_plot("xrd.instrument_profile", _plot)
