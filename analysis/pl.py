"""Photoluminescence peak position and width.

`pl.peak` fits the emission band in ENERGY, where a band's shape is physical, after
converting the per-nm spectrum with the Jacobian I(E) = I(λ)·λ²/hc (Mooney & Kambhampati,
J. Phys. Chem. Lett. 4 (2013) 3316). The model is a Gaussian or a Voigt profile on a
constant background; the peak wavelength is hc/E0 and the FWHM in nm is the wavelength
span of the energy FWHM.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares
from scipy.special import voigt_profile

from analysis.data import PlSpectrum
from analysis.ranges import parse_range
from analysis.registry import routine, set_plot
from analysis.result import InputError, Q, Result

HC_EV_NM = 1239.841984  # h c in eV nm (CODATA 2018)
MODELS = ("gaussian", "voigt")
GAUSS_FWHM = 2.0 * np.sqrt(2.0 * np.log(2.0))
MIN_POINTS = 10
# Beyond this many points in the fit window, adjacent points are averaged (see _binned).
MAX_FIT_POINTS = 20_000


def band(e: np.ndarray, p: np.ndarray, model: str) -> np.ndarray:
    """Band in energy: p = (height, centre_ev, gaussian_fwhm_ev, [lorentzian_fwhm_ev,] bg).
    The Voigt is scaled so that `height` is its peak value above background."""
    if model == "gaussian":
        h, e0, w, bg = p
        return h * np.exp(-0.5 * ((e - e0) * GAUSS_FWHM / w) ** 2) + bg
    h, e0, wg, wl, bg = p
    sg, gl = wg / GAUSS_FWHM, wl / 2.0
    return h * voigt_profile(e - e0, sg, gl) / voigt_profile(0.0, sg, gl) + bg


def voigt_fwhm(wg: float, wl: float) -> float:
    """Voigt FWHM from Gaussian and Lorentzian FWHMs (Olivero & Longbothum 1977, 0.02%)."""
    return 0.5346 * wl + np.sqrt(0.2166 * wl**2 + wg**2)


@routine("pl.peak", version="1.0.0", accepts=(PlSpectrum.kind,), title="PL peak", default_for=(PlSpectrum.kind,),
         headline=("peak_wavelength_nm", "fwhm_nm", "peak_energy_ev"), headline_order=30,
         renamed={"wavelength_min_nm": ("wavelength_range_nm", 0), "wavelength_max_nm": ("wavelength_range_nm", 1)})
def peak(spectrum: PlSpectrum, *, model: str = "gaussian", wavelength_range_nm: list | None = None) -> Result:
    """Emission peak: peak_wavelength_nm, fwhm_nm (nm), peak_energy_ev (eV) and fwhm_mev
    (meV), each with a one-sigma stderr, from a Gaussian or Voigt fit in energy.

    The fit window defaults to the band ± 3 FWHM; set wavelength_range_nm=[low, high] to
    override it (e.g. to exclude scattered excitation light)."""
    wavelength_min_nm, wavelength_max_nm = parse_range(wavelength_range_nm, "wavelength_range_nm")
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    lam = np.asarray(spectrum.wavelength_nm, dtype=float)
    y_lam = np.asarray(spectrum.intensity, dtype=float)
    src = spectrum.source or None
    keep = np.isfinite(lam) & np.isfinite(y_lam) & (lam > 0)
    if wavelength_min_nm is not None:
        keep &= lam >= wavelength_min_nm
    if wavelength_max_nm is not None:
        keep &= lam <= wavelength_max_nm
    if keep.sum() < MIN_POINTS:
        raise InputError(f"only {int(keep.sum())} points in the chosen range; at least "
                         f"{MIN_POINTS} are needed", src)
    lam, y_lam = lam[keep], y_lam[keep]
    e = HC_EV_NM / lam
    y = y_lam * lam**2 / HC_EV_NM          # per nm -> per eV
    order = np.argsort(e)
    e, y = e[order], y[order]
    p0, window = _start(e, y, src)
    if wavelength_min_nm is None and wavelength_max_nm is None:
        e, y = e[window], y[window]
    if model == "voigt":
        p0 = np.array([p0[0], p0[1], 0.8 * p0[2], 0.2 * p0[2], p0[3]])
    span = e[-1] - e[0]
    lower = [0.0, e[0], 1e-4, 0.0, -np.inf][: len(p0)] if model == "voigt" else [0.0, e[0], 1e-4, -np.inf]
    upper = [np.inf, e[-1], span * 2, span * 2, np.inf] if model == "voigt" else [np.inf, e[-1], span * 2, np.inf]
    sigma = _noise(y)
    n_read = len(e)
    e, y, sigma = _binned(e, y, sigma, MAX_FIT_POINTS)
    sol = least_squares(lambda p: (band(e, p, model) - y) / sigma, p0, bounds=(lower, upper),
                        x_scale="jac")
    n, k = len(e), len(p0)
    redchi = float(2 * sol.cost / max(n - k, 1))
    warnings: list[str] = []
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * redchi
    except np.linalg.LinAlgError:
        cov = None
        warnings.append("the fit is degenerate: uncertainties could not be estimated")
    p = sol.x
    e0 = p[1]
    w = p[2] if model == "gaussian" else voigt_fwhm(p[2], p[3])
    derived, errs = _derived(p, cov, model)
    lam_peak, fwhm_nm = derived[0], derived[1]
    if e0 - e[0] < w / 2 or e[-1] - e0 < w / 2:
        warnings.append("the band's half-maximum lies outside the fitted range")
    fit_e = band(e, p, model)
    ss_tot = np.sum((y - y.mean()) ** 2)
    lam_axis = HC_EV_NM / e
    return Result(
        quantities={
            "peak_wavelength_nm": Q(lam_peak, errs[0], "nm"),
            "fwhm_nm": Q(fwhm_nm, errs[1], "nm"),
            "peak_energy_ev": Q(float(e0), errs[2], "eV"),
            "fwhm_mev": Q(1e3 * w, None if errs[3] is None else 1e3 * errs[3], "meV"),
        },
        fit={"reduced_chi2": redchi,
             "r_squared": float(1 - np.sum((fit_e - y) ** 2) / ss_tot) if ss_tot > 0 else None,
             "n_points": int(n), **({"n_points_read": int(n_read)} if n_read != n else {})},
        warnings=warnings,
        curves={
            "energy": {"energy_ev": e, "intensity_per_ev": y, "fit": fit_e},
            "wavelength": {"wavelength_nm": lam_axis, "intensity_per_nm": y * HC_EV_NM / lam_axis**2,
                           "fit": fit_e * HC_EV_NM / lam_axis**2},
        },
        extras={"model": model},
    )


def _binned(e: np.ndarray, y: np.ndarray, sigma: np.ndarray, max_points: int):
    """At most `max_points` points: runs of adjacent points replaced by their mean energy
    and intensity, with the error of that mean. A spectrometer's few thousand points pass
    unchanged; a file of millions (a 100 MiB CSV) is fitted, drawn and stored at a spacing
    still far finer than any emission band, so the fit's values and errors are the same
    while memory and time stay bounded by `max_points`."""
    n = len(e)
    per_bin = -(-n // max_points)
    if per_bin <= 1:
        return e, y, sigma
    starts = np.arange(0, n, per_bin)
    counts = np.diff(np.append(starts, n)).astype(float)
    return (np.add.reduceat(e, starts) / counts, np.add.reduceat(y, starts) / counts,
            np.sqrt(np.add.reduceat(sigma**2, starts)) / counts)


def _noise(y: np.ndarray) -> np.ndarray:
    """Per-point noise for files without uncertainties: counting-like (∝ sqrt of the
    signal), scaled to the point-to-point scatter (second differences), so that a good
    fit has reduced chi-square near 1."""
    shape = np.sqrt(np.abs(y) + 0.01 * np.max(np.abs(y)))
    if len(y) < 5:
        return shape
    z = np.diff(y, 2) / np.sqrt(6.0) / shape[1:-1]
    k = 1.4826 * np.median(np.abs(z))
    return shape * (k if k > 0 else 1.0)


def _start(e: np.ndarray, y: np.ndarray, src: str | None):
    """Starting (height, centre, fwhm, bg) and the ±3 FWHM window around the band."""
    if not np.any(y > 0):
        raise InputError("the intensities are all zero or negative", src)
    smooth = np.convolve(np.pad(y, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    i = int(np.argmax(smooth))
    bg = float(np.percentile(y, 5))
    h = float(smooth[i] - bg)
    if h <= 0 or i < 2 or i > len(y) - 3:
        raise InputError("no emission band stands out from the background (the maximum "
                         "is at the edge of the range)", src)
    above = np.where(smooth - bg >= h / 2)[0]
    lo, hi = above.min(), above.max()
    fwhm = max(float(e[hi] - e[lo]), 3 * float(np.median(np.diff(e))))
    window = (e >= e[i] - 3 * fwhm) & (e <= e[i] + 3 * fwhm)
    if window.sum() < MIN_POINTS:
        window = np.ones_like(e, dtype=bool)
    return np.array([h, e[i], fwhm, bg]), window


def _derived(p: np.ndarray, cov: np.ndarray | None, model: str):
    """(peak nm, FWHM nm, E0 eV, FWHM eV) and their stderrs by linear propagation."""
    def f(v):
        e0 = v[1]
        w = v[2] if model == "gaussian" else voigt_fwhm(v[2], v[3])
        return np.array([HC_EV_NM / e0, HC_EV_NM / (e0 - w / 2) - HC_EV_NM / (e0 + w / 2), e0, w])

    base = f(p)
    if cov is None or not np.all(np.isfinite(np.diag(cov))):
        return base, [None] * 4
    jac = np.zeros((4, len(p)))
    for j in range(len(p)):
        h = 1e-7 * max(abs(p[j]), 1e-3)
        dp = p.copy()
        dp[j] += h
        jac[:, j] = (f(dp) - base) / h
    var = np.diag(jac @ cov @ jac.T)
    return base, [float(np.sqrt(v)) if v >= 0 else None for v in var]


def plot_peak(result: Result):
    """Spectrum and fit on the wavelength axis (left) and in energy (right)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    wl, en = result.curves["wavelength"], result.curves["energy"]
    ax1.plot(wl["wavelength_nm"], wl["intensity_per_nm"], ".", ms=2.5, color="0.35", label="data")
    ax1.plot(wl["wavelength_nm"], wl["fit"], color="C3", label="fit")
    lam = result.quantities["peak_wavelength_nm"].value
    fw = result.quantities["fwhm_nm"].value
    ax1.set(xlabel="wavelength (nm)", ylabel="intensity per nm",
            title=f"peak {lam:.1f} nm, FWHM {fw:.1f} nm")
    ax1.legend(frameon=False)
    ax2.plot(en["energy_ev"], en["intensity_per_ev"], ".", ms=2.5, color="0.35")
    ax2.plot(en["energy_ev"], en["fit"], color="C3")
    ax2.set(xlabel="energy (eV)", ylabel="intensity per eV",
            title=f"{result.quantities['peak_energy_ev'].value:.3f} eV, "
                  f"FWHM {result.quantities['fwhm_mev'].value:.0f} meV")
    fig.tight_layout()
    return fig


set_plot("pl.peak", plot_peak)
