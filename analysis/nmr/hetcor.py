"""nmr.hetcor: projections and cross peaks of a 2D heteronuclear correlation spectrum.

For the paper's 133Cs-1H CP HETCOR (Figure 4d): which 133Cs sites (F2) are close to which
ligand protons (F1). Steps: a flat offset removed (median of the matrix); the noise from
point-to-point differences; cross peaks are local maxima of the lightly smoothed matrix
that stand `threshold_sigma` above the smoothed noise; each is fitted with a 2D Gaussian
on a constant in its neighbourhood (positions and widths with one-sigma errors, volume);
each axis's shift is assigned from that nucleus's site library (133Cs: ligand-adjacent,
surface, ...; 1H: DDA NCH2/NCH3, RCH2). Projections (sums over the other axis) are
returned as curves and plotted.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter, uniform_filter
from scipy.optimize import curve_fit

from analysis.data import NmrSpectrum2D
from analysis.nmr.sites import assign, library_for
from analysis.nuclei import normalise_nucleus
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result

FWHM = 2.0 * np.sqrt(2.0 * np.log(2.0))


def _ascending(ppm: np.ndarray, data: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    ppm = np.asarray(ppm, float)
    return (ppm[::-1].copy(), np.flip(data, axis=axis).copy()) if ppm[0] > ppm[-1] else (ppm, data)


def _noise(data: np.ndarray) -> float:
    d = np.diff(data, axis=1).ravel()
    return float(np.median(np.abs(d - np.median(d))) / 0.6745 / np.sqrt(2.0))


def _gauss2d(xy, amp, x0, y0, sx, sy, c):
    x, y = xy
    return amp * np.exp(-0.5 * (((x - x0) / sx) ** 2 + ((y - y0) / sy) ** 2)) + c


def _fit_peak(x2, x1, data, i1, i2, half1, half2, sigma):
    """2D Gaussian around index (i1, i2): dict of shifts, widths (ppm FWHM), volume, errors."""
    s1, e1 = max(i1 - half1, 0), min(i1 + half1 + 1, data.shape[0])
    s2, e2 = max(i2 - half2, 0), min(i2 + half2 + 1, data.shape[1])
    block = data[s1:e1, s2:e2]
    gx, gy = np.meshgrid(x2[s2:e2], x1[s1:e1])
    d2, d1 = abs(x2[1] - x2[0]), abs(x1[1] - x1[0])
    p0 = [float(data[i1, i2]), float(x2[i2]), float(x1[i1]), half2 * d2 / 2, half1 * d1 / 2, 0.0]
    lo = [0.0, x2[s2], x1[s1], d2, d1, -np.inf]
    hi = [np.inf, x2[e2 - 1], x1[e1 - 1], half2 * d2 * 2, half1 * d1 * 2, np.inf]
    popt, pcov = curve_fit(_gauss2d, (gx.ravel(), gy.ravel()), block.ravel(), p0=np.clip(p0, lo, hi),
                           sigma=np.full(block.size, sigma), absolute_sigma=True, bounds=(lo, hi),
                           maxfev=4000)
    err = np.sqrt(np.clip(np.diag(pcov), 0, None))
    amp, cx, cy, sx, sy, _ = popt
    volume = 2 * np.pi * amp * sx * sy
    rel = np.sqrt((err[0] / amp) ** 2 + (err[3] / sx) ** 2 + (err[4] / sy) ** 2) if amp > 0 else np.inf
    return {"f2": cx, "f2_err": err[1], "f1": cy, "f1_err": err[2], "w2": FWHM * sx, "w1": FWHM * sy,
            "volume": volume, "volume_err": volume * rel, "snr": amp / sigma}


@routine("nmr.hetcor", version="1.0.0", accepts=(NmrSpectrum2D.kind,), title="133Cs-1H HETCOR",
         default_for=(NmrSpectrum2D.kind,), headline=("n_correlations",),
         headline_components=("shift_f2_ppm", "shift_f1_ppm", "volume_percent"), headline_order=65)
def hetcor(spectrum: NmrSpectrum2D, *, threshold_sigma: float = 8.0, f2_range_ppm: list | None = None,
           f1_range_ppm: list | None = None, site_library: dict | None = None,
           f1_site_library: dict | None = None) -> Result:
    """Cross peaks of a 2D heteronuclear correlation (e.g. 133Cs-1H CP HETCOR) with both
    shifts assigned from the site libraries, their volumes (percent of all cross peaks),
    the correlated F2 sites, and the F2/F1 projections."""
    path = spectrum.source or None
    data = np.asarray(spectrum.intensity, float)
    if data.ndim != 2 or data.shape != (np.size(spectrum.ppm_f1), np.size(spectrum.ppm_f2)):
        raise InputError("the 2D spectrum's intensity does not match its two ppm axes", path)
    if min(data.shape) < 8 or not np.all(np.isfinite(data)):
        raise InputError("the 2D spectrum has fewer than 8 points on an axis or contains NaN/inf", path)
    if not threshold_sigma > 0:
        raise InputError(f"threshold_sigma must be positive, not {threshold_sigma}")
    x2, data = _ascending(spectrum.ppm_f2, data, axis=1)
    x1, data = _ascending(spectrum.ppm_f1, data, axis=0)
    for rng, x, name in ((f2_range_ppm, x2, "f2_range_ppm"), (f1_range_ppm, x1, "f1_range_ppm")):
        if rng is not None:
            try:
                a, b = sorted(float(v) for v in rng)
            except (TypeError, ValueError):
                raise InputError(f"{name} must be two numbers [low, high] in ppm") from None
            if b <= x[0] or a >= x[-1]:
                raise InputError(f"{name} {rng} lies outside the spectrum ({x[0]:.1f} to {x[-1]:.1f} ppm)", path)
    data = data - np.median(data)
    sigma = _noise(data)
    if sigma <= 0:
        raise InputError("the 2D spectrum is constant (no noise, no signal)", path)
    k1, k2 = max(3, data.shape[0] // 64), max(3, data.shape[1] // 128)
    smooth = uniform_filter(data, size=(k1, k2))
    sigma_s = sigma / np.sqrt(k1 * k2)
    half1, half2 = max(4, data.shape[0] // 24), max(6, data.shape[1] // 40)
    is_max = (smooth == maximum_filter(smooth, size=(2 * half1 + 1, 2 * half2 + 1))) & \
             (smooth > threshold_sigma * sigma_s)
    if f2_range_ppm is not None:
        a, b = sorted(map(float, f2_range_ppm))
        is_max &= ((x2 >= a) & (x2 <= b))[None, :]
    if f1_range_ppm is not None:
        a, b = sorted(map(float, f1_range_ppm))
        is_max &= ((x1 >= a) & (x1 <= b))[:, None]
    found = np.argwhere(is_max)
    if found.size == 0:
        raise InputError(f"no cross peak stands {threshold_sigma:g}x above the noise; check the "
                         "phase, the processing and the number of scans", path)
    nuc2 = normalise_nucleus(spectrum.nucleus_f2 or spectrum.metadata.get("nucleus", ""))
    nuc1 = normalise_nucleus(spectrum.nucleus_f1 or spectrum.metadata.get("nucleus_f1", ""))
    lib2, lib1 = library_for(nuc2, site_library), library_for(nuc1, f1_site_library)
    warnings = [f"no site library for {n or 'the unrecorded nucleus'} ({axis}): its shifts are "
                "'unassigned'" for n, lib, axis in ((nuc2, lib2, "F2"), (nuc1, lib1, "F1")) if not lib]
    peaks = []
    for i1, i2 in found:
        try:
            peaks.append(_fit_peak(x2, x1, data, int(i1), int(i2), half1, half2, sigma))
        except (RuntimeError, ValueError):
            warnings.append(f"the cross peak near {x2[i2]:.1f} / {x1[i1]:.1f} ppm could not be fitted; left out")
    if not peaks:
        raise InputError("no cross peak could be fitted", path)
    peaks.sort(key=lambda p: (-p["f2"], -p["f1"]))
    total = sum(p["volume"] for p in peaks)
    components = []
    for n, p in enumerate(peaks, start=1):
        a2, a1 = assign(p["f2"], lib2), assign(p["f1"], lib1)
        components.append(Component(f"x{n}", {
            "shift_f2_ppm": Q(p["f2"], p["f2_err"], "ppm"), "shift_f1_ppm": Q(p["f1"], p["f1_err"], "ppm"),
            "fwhm_f2_hz": Q(p["w2"] * spectrum.sf_f2_mhz, None, "Hz"),
            "fwhm_f1_hz": Q(p["w1"] * spectrum.sf_f1_mhz, None, "Hz"),
            "volume_percent": Q(100 * p["volume"] / total, 100 * p["volume_err"] / total, "%"),
            "snr": Q(p["snr"], None, ""),
        }, assignment=f"{a2} / {a1}"))
    correlated = sorted({c.assignment.split(" / ")[0] for c in components})
    proj2, proj1 = data.sum(axis=0), data.sum(axis=1)
    return Result(
        quantities={"n_correlations": Q(len(components), None, ""),
                    "correlated_f2_sites": Q(correlated, None, "")},
        components=components, warnings=warnings,
        fit={"noise_sigma": sigma, "threshold_sigma": threshold_sigma, "nucleus_f2": nuc2, "nucleus_f1": nuc1},
        curves={"f2_projection": {"ppm": x2, "intensity": proj2},
                "f1_projection": {"ppm": x1, "intensity": proj1}},
        extras={"assignments": {c.label: c.assignment for c in components}})


def _plot(result: Result):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    ax2, ax1 = fig.subplots(1, 2)
    for ax, key, label in ((ax2, "f2_projection", "F2"), (ax1, "f1_projection", "F1")):
        c = result.curves[key]
        ax.plot(c["ppm"], c["intensity"], color="tab:blue")
        ax.set_xlim(max(c["ppm"]), min(c["ppm"]))
        ax.set_xlabel(f"{label} ({result.fit.get('nucleus_' + label.lower(), '')}) / ppm")
    for comp in result.components:
        ax2.axvline(comp.quantities["shift_f2_ppm"].value, ls="--", lw=0.7, color="0.5")
        ax1.axvline(comp.quantities["shift_f1_ppm"].value, ls="--", lw=0.7, color="0.5")
    ax2.set_ylabel("projection (sum)")
    fig.suptitle("HETCOR projections; dashed: fitted cross peaks", fontsize=10)
    return fig


set_plot("nmr.hetcor", _plot)
