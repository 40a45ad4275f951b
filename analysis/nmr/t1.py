"""nmr.t1: spin-lattice relaxation per component from a saturation-recovery series.

The line shapes (positions, widths) come from a deconvolution of the longest-delay row;
every row is then fitted with those shapes fixed (linear least squares: amplitudes and a
straight baseline), and each component's amplitudes are fitted with
I(tau) = I0 (1 - exp(-tau/T1)) or the stretched form I0 (1 - exp(-(tau/T1)^beta))
(with a fitted inversion depth d exp(...) when the reader marks the series as
inversion recovery).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

from analysis.data import NmrSeries
from analysis.nmr.deconvolve import Deconvolution, deconvolve_arrays, spectrometer_frequency
from analysis.nmr.fitting import scaled_inverse
from analysis.nmr.lineshapes import shape
from analysis.nmr.prep import ascending, noise_sigma, poly_baseline
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result

MODELS = ("exponential", "stretched")
NO_SIGNAL = "its amplitude is below the noise"
NOT_CONVERGED = "the recovery fit did not converge"


def recovery(tau: np.ndarray, i0: float, t1: float, beta: float = 1.0,
             depth: float = 1.0) -> np.ndarray:
    """I0 (1 - depth exp(-(tau/T1)^beta)); depth 1 for saturation recovery, 2 for
    inversion recovery; tau and T1 in s."""
    return i0 * (1.0 - depth * np.exp(-((np.asarray(tau) / t1) ** beta)))


def row_amplitudes(series: NmrSeries, dec: Deconvolution) -> tuple[np.ndarray, np.ndarray]:
    """(areas, errors), each (rows, components): every row fitted with the deconvolution's
    line shapes held fixed, after a polynomial baseline fitted off the signal.

    Errors combine each row's noise with the uncertainty of the shapes themselves
    (propagated from the longest-delay fit's covariance), treated as independent per row.
    """
    prep, fit = dec.prep, dec.fit
    lo, hi = prep.fit_range
    u_all = (prep.ppm - prep.ppm.mean()) / (np.ptp(prep.ppm) / 2.0)
    inside = (prep.ppm >= lo) & (prep.ppm <= hi)
    x = prep.ppm[inside]
    u = (x - x.mean()) / max(np.ptp(x) / 2.0, 1e-12)
    n = len(fit.lines)
    rows = []
    sigmas = []
    for row in np.asarray(series.intensity, float):
        _, y = ascending(series.ppm, row)
        y = y - poly_baseline(u_all, y, ~prep.mask)
        sigmas.append(noise_sigma(y))
        rows.append(y[inside])
    ymat = np.array(rows).T                       # (points, rows)

    def solve(centres, widths):
        design = np.column_stack([shape(x, c, w, fit.kind, fit.eta)
                                  for c, w in zip(centres, widths)] + [np.ones_like(x), u])
        inv = scaled_inverse(design.T @ design)
        return (inv @ design.T @ ymat)[:n].T, np.diag(inv)[:n]

    centres = np.array([ln.centre for ln in fit.lines])
    widths = np.array([ln.fwhm for ln in fit.lines])
    areas, diag = solve(centres, widths)
    var = np.outer(np.square(sigmas), np.clip(diag, 0, None))
    # d(areas)/d(shape parameter) by finite differences, then J Sigma J^T per row.
    theta = np.r_[centres, widths]
    steps = np.sqrt(np.clip(np.diag(fit.shape_cov), 0, None))
    derivs = np.zeros((theta.size,) + areas.shape)
    for j in np.flatnonzero(steps > 0):
        t = theta.copy()
        t[j] += steps[j]
        derivs[j] = (solve(t[:n], t[n:])[0] - areas) / steps[j]
    var += np.einsum("jrk,jl,lrk->rk", derivs, fit.shape_cov, derivs)
    return areas, np.sqrt(var)


def fit_recovery(tau: np.ndarray, amp: np.ndarray, err: np.ndarray, model: str,
                 depth: float | None = 1.0
                 ) -> tuple[float | None, float | None, float | None, float | None,
                            tuple[float, float | None], str | None]:
    """(T1, T1 error, beta, I0, (depth, depth error)) in s, or None values and the
    reason T1 is undetermined.

    `depth` is 1 for saturation recovery; None fits it (inversion recovery, where an
    imperfect 180 degree pulse gives a depth below 2: the three-parameter
    I0 + P exp(-tau/T1) that TopSpin's T1/T2 module fits, P = -depth I0). Holding it at
    2 biases T1 low by 5-10 % for a 95 % inversion (seen on real 600 MHz data)."""
    free_depth = depth is None
    d0 = 2.0 if free_depth else float(depth)
    order = np.argsort(tau)
    tau, amp, err = tau[order], amp[order], np.maximum(err[order], 1e-300)
    i0 = float(np.max(amp[-3:]))
    noise = float(np.mean(err[-3:]))
    if float(np.min(amp[-3:])) < -3 * noise and i0 < 3 * noise:
        return None, None, None, None, (d0, None), (
            "its recovered amplitude is negative: the rows look inverted or misphased")
    if i0 < 3 * noise:
        return None, None, None, None, (d0, None), NO_SIGNAL
    target = i0 * (1 - d0 * np.exp(-1))
    above = np.flatnonzero(amp >= target)
    t1_guess = float(tau[above[0]]) if above.size else float(tau[-1])
    p0 = [i0, max(t1_guess, tau[0] * 0.5)]
    lo, hi = [0.0, tau[0] * 1e-3], [np.inf, tau[-1] * 1e3]
    if model == "stretched":
        p0, lo, hi = p0 + [0.8], lo + [0.1], hi + [1.0]
    if free_depth:
        # Start from the observed depth; bounds allow a poor inversion, not an invented one.
        observed = 1.0 - float(amp[0]) / i0
        p0, lo, hi = p0 + [float(np.clip(observed, 1.05, 2.15))], lo + [1.0], hi + [2.2]

    def curve(t, *p):
        beta = p[2] if model == "stretched" else 1.0
        return recovery(t, p[0], p[1], beta, p[-1] if free_depth else d0)

    try:
        popt, pcov = curve_fit(curve, tau, amp, p0=p0, sigma=err, absolute_sigma=True,
                               bounds=(lo, hi), maxfev=5000)
    except (RuntimeError, ValueError):
        return None, None, None, None, (d0, None), NOT_CONVERGED
    chi2 = float(np.sum(((curve(tau, *popt) - amp) / err) ** 2))
    scale = max(1.0, chi2 / max(1, len(tau) - len(popt)))
    perr = np.sqrt(np.clip(np.diag(pcov) * scale, 0, None))
    t1, t1_err = float(popt[1]), float(perr[1])
    beta = float(popt[2]) if model == "stretched" else None
    fitted = (float(popt[-1]), float(perr[-1])) if free_depth else (d0, None)
    if t1 < tau[0] / 3:
        return None, None, beta, float(popt[0]), fitted, (
            f"it had recovered fully by the shortest delay ({tau[0]:g} s), so T1 << {tau[0]:g} s")
    if t1 > 2 * tau[-1]:
        return None, None, beta, float(popt[0]), fitted, (
            f"it had not recovered by the longest delay ({tau[-1]:g} s)")
    if not np.isfinite(t1_err) or t1_err > t1:
        return None, None, beta, float(popt[0]), fitted, "the recovery curve does not fix T1 (error > 100%)"
    return t1, t1_err, beta, float(popt[0]), fitted, None


@routine("nmr.t1", version="1.1.0", accepts=("nmr-pseudo2d",), title="NMR T1", default_for=("nmr-pseudo2d",),
         headline_components=("t1_s",), headline_order=60)
def t1(series: NmrSeries, *, model: str = "exponential", fit_range_ppm: list | None = None,
       n_components: int | None = None, positions_ppm: list | None = None,
       fixed: dict | None = None, lineshape: str = "gaussian",
       site_library: dict | None = None) -> Result:
    """T1 (s) of each component of a saturation-recovery series, any nucleus.

    Line shapes come from deconvolving the longest-delay row (same parameters as
    nmr.deconvolve); model "exponential" or "stretched" (then also beta). A component
    whose recovery cannot be determined gets t1_s = null and a warning.
    """
    path = series.source or None
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    rows = np.asarray(series.intensity, float)
    delays = np.asarray(series.delays_s, float).ravel()
    if rows.ndim != 2 or rows.shape[0] != delays.size:
        raise InputError(f"the series has {rows.shape[0] if rows.ndim == 2 else 0} rows but "
                         f"{delays.size} delays (vdlist); they must match", path)
    if delays.size < 4:
        raise InputError(f"a T1 fit needs at least 4 delays, the series has {delays.size}", path)
    if np.any(delays <= 0) or not np.all(np.isfinite(delays)):
        raise InputError("the delay list (vdlist) has zero, negative or missing delays", path)
    if rows.shape[1] != np.asarray(series.ppm).size:
        raise InputError("the rows and the ppm axis have different lengths", path)
    sf = spectrometer_frequency(series, path)
    longest = int(np.argmax(delays))
    dec = deconvolve_arrays(
        series.ppm, rows[longest], nucleus=series.nucleus or series.metadata.get("nucleus", ""),
        sf_mhz=sf, mas_rate_hz=series.metadata.get("mas_rate_hz"), fit_range_ppm=fit_range_ppm,
        n_components=n_components, positions_ppm=positions_ppm, fixed=fixed,
        lineshape=lineshape, site_library=site_library, path=path)
    areas, errs = row_amplitudes(series, dec)
    warnings = [f"longest-delay row: {w}" for w in dec.warnings]
    # The reader names the experiment from the pulse program; inversion starts at -I0.
    inversion = series.metadata.get("experiment") == "inversion-recovery"
    depth = None if inversion else 1.0
    if inversion:
        warnings.append("inversion recovery (from the pulse program): I0 (1 - d exp(-tau/T1)), "
                        "inversion depth d fitted (2 for a perfect 180 degree pulse)")
    components = []
    failures = []
    recovery_curves = {"delay_s": delays}
    dense = np.geomspace(delays.min() / 2, delays.max() * 1.5, 200)
    model_curves = {"delay_s": dense}
    for k, ln in enumerate(dec.fit.lines):
        t1_s, t1_err, beta, i0, (d, d_err), why = fit_recovery(delays, areas[:, k], errs[:, k], model, depth)
        if why:
            failures.append(f"{ln.label} at {ln.centre:.1f} ppm: {why}")
            warnings.append(f"{ln.label} ({ln.assignment}, {ln.centre:.1f} ppm): T1 not "
                            f"determined - {why}")
        q = {"shift_ppm": Q(ln.centre, ln.centre_err, "ppm"), "t1_s": Q(t1_s, t1_err, "s")}
        if model == "stretched":
            q["beta"] = Q(beta, None, "")
        if inversion and t1_s is not None:
            q["inversion_depth"] = Q(d, d_err, "")
        components.append(Component(ln.label, q, assignment=ln.assignment))
        recovery_curves[ln.label] = areas[:, k]
        recovery_curves[f"{ln.label}_err"] = errs[:, k]
        if t1_s is not None:
            model_curves[ln.label] = recovery(dense, i0, t1_s, beta or 1.0, d)
    determined = [c for c in components if c.quantities["t1_s"].value is not None]
    bounded = [f for f in failures if NO_SIGNAL not in f and NOT_CONVERGED not in f
               and "negative" not in f]
    if not determined and not bounded:
        # No line has a T1 or even a bound on it: an empty success would hide the problem.
        raise InputError("no T1 could be fitted for any line (" + "; ".join(failures) + "); "
                         "check the phase of the rows and that the vdlist matches the series", path)
    return Result(components=components, warnings=warnings,
                  fit={"n_rows": int(delays.size), "model": model,
                       "experiment": "inversion-recovery" if inversion else "saturation-recovery",
                       "longest_delay_reduced_chi2": dec.fit.reduced_chi2},
                  curves={"recovery": recovery_curves, "model": model_curves},
                  extras={"assignments": {ln.label: ln.assignment for ln in dec.fit.lines}})


def _plot(result: Result):
    from analysis.nmr.plots import t1_figure

    return t1_figure(result)


set_plot("nmr.t1", _plot)
