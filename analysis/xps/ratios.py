"""XPS atomic ratios: charge correction, background, peak areas, RSFs, ratios to Pb.

Areas are divided by dwell × scans so regions recorded with different acquisition times
compare; RSFs come from one scale (Kratos, F 1s = 1, by default). See xps_lines.py for the
line library and the RSF table, xps_background.py and xps_fit.py for the numerics.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.data import XpsRegion, XpsSpectra
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result
from analysis.xps.background import Background, background_area_variance, integrated_area
from analysis.xps.background import background as make_background
from analysis.xps.fit import RegionFit, fit_region
from analysis.xps.lines import RSF_SOURCES, CoreLine, line_for, line_key, rsf_table

REFERENCE_ELEMENT = "Pb"


@dataclass
class _Measured:
    key: str
    line: CoreLine
    region: XpsRegion
    bg: Background
    fit: RegionFit | None
    area: float        # counts·eV per second of acquisition (or per channel if no timing)
    area_err: float


@routine("xps.atomic_ratios", version="1.0.0", accepts=(XpsSpectra.kind,), title="XPS ratios",
         default_for=(XpsSpectra.kind,), calibration=("rsf",), headline=("*_pb",), headline_order=80)
def atomic_ratios(spectra: XpsSpectra, *, c1s_reference_ev: float = 284.8,
                  charge_shift_ev: float | None = None, background: str = "shirley",
                  end_average_points: int = 10, area_method: str = "integration",
                  rsf: dict | None = None, rsf_scale: str = "kratos") -> Result:
    """Surface atomic ratios to Pb (cs_pb, br_pb, n_pb, every X_pb) and atomic percentages
    from core-level regions, with Poisson and fit uncertainties.

    Each region gets a background (Shirley by default, end levels averaged over
    `end_average_points` channels) and a fit with spin-orbit doublets constrained; its area
    is integrated or fitted (`area_method`), divided by dwell × scans and by its RSF. Binding
    energies are charge-corrected so that adventitious C 1s sits at `c1s_reference_ev`,
    unless `charge_shift_ev` (eV added to every binding energy) is given. `rsf` replaces
    entries of the `rsf_scale` table by line name, e.g. {"Cs 3d": 7.89}.
    """
    if area_method not in ("integration", "fit"):
        raise InputError(f"area_method must be 'integration' or 'fit', not {area_method!r}")
    if end_average_points < 1:
        raise InputError("end_average_points must be at least 1")
    warnings: list[str] = []
    chosen = _choose_regions(spectra, warnings)
    measured = [_measure(key, region, background, end_average_points, area_method,
                         warnings) for key, region in chosen]
    shift, shift_err = _charge_shift(measured, c1s_reference_ev, charge_shift_ev, warnings)
    rsfs = rsf_table(rsf_scale, rsf, [m.key for m in measured])
    for m in measured:
        if m.key not in rsfs:
            warnings.append(f"no {rsf_scale} RSF for {m.key}: it is shown but not quantified")
    quant = [m for m in measured if m.key in rsfs]

    quantities = _ratios(quant, rsfs, warnings)
    quantities["charge_shift_ev"] = Q(shift, shift_err, "eV")
    components = [_component(m, rsfs.get(m.key), shift, shift_err) for m in measured]
    chi2 = [m.fit.reduced_chi2 for m in measured if m.fit is not None]
    curves = {f"region:{m.key}": _curves(m, shift) for m in measured}
    return Result(
        quantities=quantities, components=components, warnings=warnings, curves=curves,
        fit={"reduced_chi2": max(chi2) if chi2 else None,
             "n_points": int(sum(len(m.region.counts) for m in measured)),
             "area_method": area_method, "background": background,
             "rsf_scale": rsf_scale},
        extras={"rsf": rsfs, "rsf_scale": rsf_scale,
                "rsf_source": RSF_SOURCES.get(rsf_scale, "user"),
                "regions": [m.key for m in measured]},
    )


def _choose_regions(spectra: XpsSpectra, warnings: list[str]) -> list[tuple[str, XpsRegion]]:
    chosen: dict[str, XpsRegion] = {}
    for region in spectra.regions:
        key = line_key(region.name)
        if key is None:
            warnings.append(f"region {region.name!r} is not a core level: skipped")
        elif key in chosen:
            warnings.append(f"{key} appears more than once: the first region is used")
        elif len(region.counts) < 10:
            warnings.append(f"region {region.name!r} has only {len(region.counts)} points: "
                            "skipped")
        else:
            chosen[key] = region
    if not chosen:
        raise InputError("no core-level regions (such as 'Pb 4f' or 'Cs 3d') in the file; "
                         f"found: {', '.join(r.name for r in spectra.regions) or 'none'}",
                         spectra.source or None)
    energies = {r.metadata.get("pass_energy_ev") for r in chosen.values()} - {None}
    if len(energies) > 1:
        warnings.append(f"regions were recorded at different pass energies "
                        f"({', '.join(f'{e:g}' for e in sorted(energies))} eV); RSFs assume one")
    return list(chosen.items())


def _measure(key: str, region: XpsRegion, bg_kind: str, n_end: int, method: str,
             warnings: list[str]) -> _Measured:
    x, y = region.binding_energy_ev.astype(float), region.counts.astype(float)
    line = line_for(key)
    bg = make_background(bg_kind, x, y, n_end)
    try:
        fit = fit_region(line, x, y, bg.values)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        fit = None
        warnings.append(f"{key}: peak fit failed ({exc}); positions from the data maximum")
    if line.second and fit is not None and fit.position_ev + line.splitting_ev > x[-1]:
        warnings.append(f"{key}: the region stops before {line.second}; only the fitted "
                        "area accounts for it")
    if method == "fit" and fit is not None:
        area = fit.total_area
        err = float(np.sqrt(fit.total_area_err**2 + background_area_variance(x, bg)))
    else:
        if method == "fit":
            warnings.append(f"{key}: integrated instead of fitted")
        area, err = integrated_area(x, y, bg)
    dwell, scans = region.metadata.get("dwell_s"), region.metadata.get("scans")
    if dwell and scans and dwell > 0 and scans > 0:
        area, err = area / (dwell * scans), err / (dwell * scans)
    else:
        warnings.append(f"{key}: no dwell time or scan count; areas are per channel")
    if area <= 0:
        warnings.append(f"{key}: no intensity above the background")
    return _Measured(key, line, region, bg, fit, area, err)


def _charge_shift(measured: list[_Measured], reference: float, given: float | None,
                  warnings: list[str]) -> tuple[float, float | None]:
    if given is not None:
        return float(given), None
    carbon = next((m for m in measured if m.key == "C 1s"), None)
    if carbon is None or carbon.fit is None:
        warnings.append("no fitted C 1s region: binding energies are not charge-corrected "
                        "(give charge_shift_ev to correct them)")
        return 0.0, None
    return reference - carbon.fit.position_ev, carbon.fit.position_err


def _ratios(quant: list[_Measured], rsfs: dict[str, float], warnings: list[str]) -> dict[str, Q]:
    amounts: dict[str, tuple[float, float]] = {}
    for m in quant:
        element = m.line.element
        if element in amounts:
            warnings.append(f"{element} has more than one region; {m.key} is not used")
            continue
        amounts[element] = (m.area / rsfs[m.key], m.area_err / rsfs[m.key])
    out: dict[str, Q] = {}
    ref = amounts.get(REFERENCE_ELEMENT)
    if ref is None or ref[0] <= 0:
        warnings.append("no usable Pb 4f region: ratios to Pb are not reported")
    else:
        for element, (n, err) in amounts.items():
            if element == REFERENCE_ELEMENT:
                continue
            ratio = n / ref[0]
            rel = np.hypot(err / n if n else 0.0, ref[1] / ref[0])
            out[f"{element.lower()}_pb"] = Q(ratio, abs(ratio) * rel, "")
    total = sum(n for n, _ in amounts.values())
    if total > 0:
        for element, (n, _) in amounts.items():
            # d(n_i/Σn)/d(n_j) = (δij·Σn − n_i)/Σn²
            var = sum(((total * (e == element) - n) / total**2) ** 2 * err_j**2
                      for e, (_, err_j) in amounts.items())
            out[f"at_percent_{element.lower()}"] = Q(100 * n / total, 100 * np.sqrt(var), "%")
    return out


def _component(m: _Measured, rsf: float | None, shift: float, shift_err: float | None) -> Component:
    if m.fit is not None:
        pos, pos_err = m.fit.position_ev + shift, float(np.hypot(m.fit.position_err,
                                                                  shift_err or 0.0))
        fwhm = Q(m.fit.fwhm_ev, m.fit.fwhm_err, "eV")
    else:
        pos, pos_err = float(m.region.binding_energy_ev[np.argmax(m.region.counts)]) + shift, None
        fwhm = Q(None, None, "eV")
    assignment = m.line.main
    if m.line.second:
        assignment += (f" + {m.line.second} ({m.line.splitting_ev:g} eV, area "
                       f"{1:g}:{m.line.ratio:.3g})")
    timed = "dwell_s" in m.region.metadata and m.region.metadata.get("dwell_s")
    return Component(label=m.key, assignment=assignment, quantities={
        "area": Q(m.area, m.area_err, "counts eV/s" if timed else "counts eV"),
        "rsf": Q(rsf, None, ""),
        "position_ev": Q(pos, pos_err, "eV"),
        "fwhm_ev": fwhm,
    })


def _curves(m: _Measured, shift: float) -> dict[str, np.ndarray]:
    out = {"binding_energy_ev": m.region.binding_energy_ev + shift,
           "counts": m.region.counts.astype(float), "background": m.bg.values}
    if m.fit is not None:
        out["fit"] = m.bg.values + m.fit.model
        for label, curve in m.fit.components:
            out[label] = m.bg.values + curve
    return out


def plot_atomic_ratios(result: Result):
    """A grid of small panels: each region's counts, background, components and envelope
    on the charge-corrected binding-energy axis (decreasing to the right)."""
    from matplotlib.figure import Figure

    names = list(result.curves)
    ncols = min(3, max(1, len(names)))
    nrows = int(np.ceil(len(names) / ncols)) or 1
    fig = Figure(figsize=(3.6 * ncols, 2.8 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        cols = result.curves[name]
        x = cols["binding_energy_ev"]
        ax.plot(x, cols["counts"], ".", ms=2, color="0.3", label="data")
        ax.plot(x, cols["background"], "-", lw=1, color="tab:gray", label="background")
        for label, curve in cols.items():
            if label not in ("binding_energy_ev", "counts", "background", "fit"):
                ax.fill_between(x, cols["background"], curve, alpha=0.35, label=label)
        if "fit" in cols:
            ax.plot(x, cols["fit"], "-", lw=1.2, color="tab:red", label="fit")
        ax.set_xlim(x.max(), x.min())
        # Sizes in points at the figure's 3.6 in panel width: the page shows it ~1:1, so
        # 9-10 pt stays readable (6 pt legends were ~6 px on screen).
        ax.set_title(name.removeprefix("region:"), fontsize=11)
        ax.set_xlabel("binding energy (eV)", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.legend(fontsize=9, frameon=False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].set_ylabel("counts per channel", fontsize=10)
    return fig


set_plot("xps.atomic_ratios", plot_atomic_ratios)
