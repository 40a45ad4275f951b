"""nmr.deconvolve: a 1-D spectrum as a sum of lines, assigned from the site library.

Pipeline: polynomial baseline fitted off-signal -> refuse a spectrum without signal ->
centreband window (spinning sidebands recognised from the MAS rate and left outside) ->
library candidates fitted together, dropped one at a time while BIC improves, then
unassigned lines added while BIC improves -> percent integrals with propagated errors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.data import NmrSpectrum
from analysis.nmr.fitting import FitOutcome, percent_with_errors
from analysis.nmr.lineshapes import LINESHAPES
from analysis.nmr.prep import Prepared, prepare
from analysis.nmr.select import choose_components
from analysis.nmr.sites import DEFAULT_LIBRARIES, INTEGRAL_RATIOS, library_for
from analysis.nuclei import normalise_nucleus
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result


@dataclass
class Deconvolution:
    prep: Prepared
    fit: FitOutcome
    sf_mhz: float
    warnings: list[str]
    nucleus: str = ""


def spectrometer_frequency(obj, path: str | None = None) -> float:
    """The observe frequency in MHz from the object or its metadata; InputError if absent."""
    sf = float(obj.sf_mhz or obj.metadata.get("sf_mhz") or 0.0)
    if sf <= 0:
        raise InputError("the spectrometer frequency (SF) is missing, so widths cannot be "
                         "given in Hz", path)
    return sf


def deconvolve_arrays(ppm: np.ndarray, intensity: np.ndarray, *, nucleus: str, sf_mhz: float,
                      mas_rate_hz: float | None, fit_range_ppm: list | None = None,
                      n_components: int | None = None, positions_ppm: list | None = None,
                      fixed: dict | None = None, lineshape: str = "gaussian",
                      site_library: dict | None = None, path: str | None = None) -> Deconvolution:
    """Baseline, window, component choice and fit of one spectrum (no Result yet)."""
    if lineshape not in LINESHAPES:
        raise InputError(f"lineshape must be one of {', '.join(LINESHAPES)}, got {lineshape!r}")
    if fixed is not None and not isinstance(fixed, dict):
        raise InputError('fixed must be an object, e.g. {"c1.shift_ppm": 116}')
    warnings: list[str] = []
    prep = prepare(ppm, intensity, mas_rate_hz=mas_rate_hz, sf_mhz=sf_mhz,
                   fit_range_ppm=fit_range_ppm, path=path)
    if not mas_rate_hz:
        warnings.append(
            f"no MAS rate in the metadata; sidebands spaced {prep.inferred_spacing_ppm * sf_mhz / 1e3:.1f}"
            " kHz were recognised in the spectrum" if prep.inferred_spacing_ppm else
            "no MAS rate in the metadata and no sideband pattern found: treated as static")
    library = library_for(nucleus, site_library)
    warnings.extend(prep.warnings)
    if not library:
        name = normalise_nucleus(nucleus)
        known = ", ".join(sorted(DEFAULT_LIBRARIES))
        if site_library is not None:
            what = "the site_library given is empty"
        elif name:
            what = f"no site library for {name} (defaults exist for {known})"
        else:
            what = f"the nucleus is not recorded in the data, so no site library (defaults exist for {known})"
        warnings.append(f"{what}: every line is 'unassigned' and the number of lines is chosen by "
                        "BIC alone; give site_library to assign them")
    fit = choose_components(prep, library, sf_mhz, n_components=n_components,
                            positions_ppm=positions_ppm, fixed=fixed, lineshape=lineshape)
    if prep.sidebands and (prep.sideband_fraction or 0) > 0.005:
        warnings.append(f"{len(prep.sidebands)} spinning sideband region(s) left out of the fit "
                        f"({100 * (prep.sideband_fraction or 0):.1f}% of the centreband "
                        "intensity); integrals are of the centreband")
    for ln in fit.lines:
        for what in ln.at_bound:
            warnings.append(f"{ln.label} ({ln.assignment}): {what} stopped at the site-library "
                            "limit; its uncertainty is unreliable - edit the library or fix it")
    if lineshape == "gaussian" and library and any(
            ln.assignment == "unassigned" for ln in fit.lines):
        warnings.append("a line outside the site library was needed; if it sits under another "
                        "line rather than at a new shift, the lines may not be Gaussian - "
                        "try lineshape=voigt")
    assigned = {ln.assignment for ln in fit.lines}
    lo, hi = float(prep.ppm[0]), float(prep.ppm[-1])
    for name, site in library.items():
        # A site the lab looks for because its absence means something (e.g. OctA COOH).
        if site.get("report_absent") and name not in assigned and lo <= site["shift_ppm"] <= hi:
            warnings.append(f"no {name} line near {site['shift_ppm']:g} ppm: not detected above the "
                            "noise (site library)")
    if fit.reduced_chi2 > 3:
        warnings.append(f"reduced chi2 is {fit.reduced_chi2:.1f}: the lines do not describe "
                        "the spectrum to within the noise")
    return Deconvolution(prep, fit, sf_mhz, warnings, normalise_nucleus(nucleus))


def _components(dec: Deconvolution) -> list[Component]:
    sf, lines = dec.sf_mhz, dec.fit.lines
    pct, pct_err = percent_with_errors(np.array([ln.area for ln in lines]), dec.fit.area_cov)
    out = []
    for ln, p, pe in zip(lines, pct, pct_err):
        out.append(Component(ln.label, {
            "shift_ppm": Q(ln.centre, ln.centre_err, "ppm"),
            "fwhm_hz": Q(ln.fwhm * sf, None if ln.fwhm_err is None else ln.fwhm_err * sf, "Hz"),
            "integral_percent": Q(float(p), float(pe), "%"),
        }, assignment=ln.assignment))
    return out


def integral_ratios(dec: Deconvolution) -> dict[str, Q]:
    """The nucleus's named integral ratios (sites.INTEGRAL_RATIOS) where both lines were
    assigned, with errors from the fitted area covariance."""
    out = {}
    index = {ln.assignment: i for i, ln in enumerate(dec.fit.lines)}
    areas, cov = np.array([ln.area for ln in dec.fit.lines]), dec.fit.area_cov
    for name, top, bottom in INTEGRAL_RATIOS.get(dec.nucleus, []):
        if top in index and bottom in index and areas[index[bottom]] > 0:
            i, j = index[top], index[bottom]
            r = areas[i] / areas[j]
            rel2 = cov[i, i] / areas[i] ** 2 + cov[j, j] / areas[j] ** 2 - 2 * cov[i, j] / (areas[i] * areas[j])
            out[name] = Q(float(r), float(abs(r) * np.sqrt(max(rel2, 0.0))), "")
    return out


def to_result(dec: Deconvolution) -> Result:
    """The Result of a deconvolution: components, fit statistics and curves to plot."""
    fit, prep = dec.fit, dec.prep
    y, model = fit.y, fit.model()
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    stats = {"reduced_chi2": fit.reduced_chi2,
             "r_squared": 1.0 - float(np.sum((y - model) ** 2)) / ss_tot if ss_tot > 0 else None,
             "n_points": fit.n_points, "bic": fit.bic, "peak_snr": prep.peak_snr,
             "noise_sigma": prep.sigma, "fit_range_ppm": list(prep.fit_range),
             "lineshape": fit.kind, "sideband_fraction": prep.sideband_fraction}
    if fit.kind == "voigt":
        stats["lorentzian_fraction"] = fit.eta
    spectrum = {"ppm": fit.x, "data": y, "fit": model, "residual": y - model,
                "fit_baseline": fit.baseline}
    for ln, curve in zip(fit.lines, fit.line_curves()):
        spectrum[ln.label] = curve + fit.baseline
    quantities = {"n_components": Q(len(fit.lines), None, "")}
    quantities.update(integral_ratios(dec))
    return Result(
        quantities=quantities,
        components=_components(dec), fit=stats, warnings=list(dec.warnings),
        curves={"spectrum": spectrum, "full": {"ppm": prep.ppm, "data": prep.data}},
        extras={"assignments": {ln.label: ln.assignment for ln in fit.lines},
                "sidebands_ppm": [list(s) for s in prep.sidebands]})


@routine("nmr.deconvolve", version="1.0.0", accepts=("nmr-1d",), title="NMR deconvolution", default_for=("nmr-1d",),
         headline_components=("shift_ppm", "integral_percent"), headline_order=70)
def deconvolve(spectrum: NmrSpectrum, *, fit_range_ppm: list | None = None,
               n_components: int | None = None, positions_ppm: list | None = None,
               fixed: dict | None = None, lineshape: str = "gaussian",
               site_library: dict | None = None) -> Result:
    """Deconvolve a 1-D MAS spectrum into Gaussian (or Lorentzian/Voigt) lines.

    Components report shift_ppm, fwhm_hz and integral_percent (percent of the fitted
    centreband intensity) with one-sigma errors, and an assignment from the site library
    (133Cs defaults from Hooper et al.). The number of lines is chosen by BIC (1-6)
    unless n_components is given; positions_ppm gives starting positions; fixed pins
    values, e.g. {"c1.shift_ppm": 116} or {"core.fwhm_hz": 600}. Components are labelled
    c1, c2, ... from high to low shift.
    """
    sf = spectrometer_frequency(spectrum, spectrum.source or None)
    dec = deconvolve_arrays(
        spectrum.ppm, spectrum.intensity, nucleus=spectrum.nucleus or spectrum.metadata.get(
            "nucleus", ""), sf_mhz=sf, mas_rate_hz=spectrum.metadata.get("mas_rate_hz"),
        fit_range_ppm=fit_range_ppm, n_components=n_components, positions_ppm=positions_ppm,
        fixed=fixed, lineshape=lineshape, site_library=site_library,
        path=spectrum.source or None)
    return to_result(dec)


def _plot(result: Result):
    from analysis.nmr.plots import deconvolution_figure

    return deconvolution_figure(result)


set_plot("nmr.deconvolve", _plot)
