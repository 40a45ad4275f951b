"""nmr.quantify: moles of a ligand from a sample spectrum and an external reference.

Intensity convention: readers return intensities already multiplied by 2**NC_proc (the
TopSpin reader applies NC_proc when it reads 1r), so here each integral is divided only
by NS x RG. A reader that did not apply it must say so with
metadata["nc_proc_applied"] = False; then 2**NC_proc is applied here.
"""
from __future__ import annotations

import numpy as np

from analysis.data import NmrSpectrum
from analysis.nmr.prep import ascending, correct_baseline, noise_sigma, prepare
from analysis.registry import routine, set_plot
from analysis.nuclei import normalise_nucleus
from analysis.result import InputError, Q, Result

AVOGADRO = 6.02214076e23
# Reference compounds: molar mass (g/mol) and P atoms per formula unit.
REFERENCES = {
    "NH4H2PO4": (115.03, 1),
    "(NH4)2HPO4": (132.06, 1),
    "KH2PO4": (136.09, 1),
    "H3PO4": (97.99, 1),
    "Na4P2O7": (265.90, 2),
    "triphenylphosphine oxide": (278.28, 1),
}


def _scale(spec: NmrSpectrum, role: str) -> float:
    """NS x RG (x 2**-NC_proc when the reader left it unapplied) for one spectrum."""
    meta = spec.metadata
    try:
        ns, rg = float(meta["ns"]), float(meta["rg"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"the {role} spectrum has no NS (scans) or RG (receiver gain) in "
                         "its acquisition parameters, so it cannot be normalised",
                         spec.source or None) from None
    if ns <= 0 or rg <= 0:
        raise InputError(f"the {role} spectrum has NS={ns:g}, RG={rg:g}; both must be > 0",
                         spec.source or None)
    scale = ns * rg
    if meta.get("nc_proc_applied") is False:
        scale /= 2.0 ** int(meta.get("nc_proc", 0))
    return scale


def _peak_region(prep) -> tuple[float, float]:
    """The contiguous signal region holding the tallest point, widened by a fifth of its
    width each side (a ligand line's wings), within the centreband window."""
    x = prep.ppm
    inside = (x >= prep.fit_range[0]) & (x <= prep.fit_range[1])
    i = int(np.argmax(np.where(inside & prep.mask, prep.data, -np.inf)))
    a = b = i
    while a > 0 and prep.mask[a - 1]:
        a -= 1
    while b < len(x) - 1 and prep.mask[b + 1]:
        b += 1
    pad = 0.2 * (x[b] - x[a])
    return max(x[a] - pad, prep.fit_range[0]), min(x[b] + pad, prep.fit_range[1])


def integrate(spec: NmrSpectrum, ppm_range: list | None, role: str) -> tuple[float, float, list]:
    """(integral, one-sigma error, [lo, hi] ppm) of the baseline-corrected spectrum; the
    range defaults to the signal around the tallest peak."""
    path = spec.source or None
    if ppm_range is None:
        prep = prepare(spec.ppm, spec.intensity, mas_rate_hz=spec.metadata.get("mas_rate_hz"),
                       sf_mhz=spec.sf_mhz or spec.metadata.get("sf_mhz", 0), fit_range_ppm=None,
                       path=path)
        x, y, sigma = prep.ppm, prep.data, prep.sigma
        lo, hi = _peak_region(prep)
    else:
        try:
            lo, hi = sorted(float(v) for v in ppm_range)
        except (TypeError, ValueError):
            raise InputError(f"{role}_range_ppm must be two numbers [low, high]") from None
        x, raw = ascending(spec.ppm, spec.intensity)
        sigma = noise_sigma(raw)
        keep_out = (x >= lo) & (x <= hi)
        base, _, _, _ = correct_baseline(x, raw, sigma, keep_out=keep_out)
        y = raw - base
    inside = (x >= lo) & (x <= hi)
    if inside.sum() < 3:
        raise InputError(f"{role}_range_ppm {lo:g}-{hi:g} ppm holds no data points", path)
    dx = abs(x[1] - x[0])
    value = float(y[inside].sum() * dx)
    err = float(sigma * dx * np.sqrt(inside.sum()))
    if value <= 3 * err:
        raise InputError(f"no {role} signal above the noise between {lo:g} and {hi:g} ppm "
                         f"(integral {value:.3g} +- {err:.2g})", path)
    return value, err, [lo, hi]


@routine("nmr.quantify", version="1.0.0", accepts=("nmr-1d",), n_inputs=(2, 2), derived=True,
         title="31P quantification", headline_order=75)
def quantify(sample: NmrSpectrum, reference: NmrSpectrum, *,
             sample_range_ppm: list | None = None, reference_range_ppm: list | None = None,
             reference_compound: str = "NH4H2PO4", reference_mass_mg: float | None = None,
             sample_mass_mg: float | None = None, ligand_molar_mass_g_mol: float = 194.21,
             diameter_nm: float | None = None, density_g_cm3: float = 4.76) -> Result:
    """Moles of ligand (one P each), its weight percent in the sample and ligands per
    particle, from the sample (first input) and reference (second) 31P spectra.

    Each integral is divided by NS x RG; moles = reference moles of P x the ratio.
    Particles are spheres of diameter_nm and density_g_cm3 (CsPbBr3 4.76).
    """
    if reference_compound not in REFERENCES:
        raise InputError(f"unknown reference_compound {reference_compound!r}; known: "
                         f"{', '.join(REFERENCES)}")
    for name, v in (("reference_mass_mg", reference_mass_mg), ("sample_mass_mg", sample_mass_mg)):
        if v is None or v <= 0:
            raise InputError(f"{name} is needed and must be positive (weighed mass in mg)")
    if sample.nucleus and reference.nucleus and \
            normalise_nucleus(sample.nucleus) != normalise_nucleus(reference.nucleus):
        raise InputError(f"the sample is {sample.nucleus} but the reference is "
                         f"{reference.nucleus}; both must be the same nucleus")
    i_s, e_s, r_s = integrate(sample, sample_range_ppm, "sample")
    i_r, e_r, r_r = integrate(reference, reference_range_ppm, "reference")
    ratio = (i_s / _scale(sample, "sample")) / (i_r / _scale(reference, "reference"))
    rel = float(np.hypot(e_s / i_s, e_r / i_r))
    molar_mass, n_p = REFERENCES[reference_compound]
    moles = reference_mass_mg * 1e-3 / molar_mass * n_p * ratio
    ligand_g = moles * ligand_molar_mass_g_mol
    wt = 100.0 * ligand_g / (sample_mass_mg * 1e-3)
    q = {"moles": Q(moles, moles * rel, "mol"),
         "ligand_wt_percent": Q(wt, wt * rel, "%")}
    warnings = []
    if diameter_nm is not None and diameter_nm > 0:
        volume_cm3 = np.pi / 6.0 * (diameter_nm * 1e-7) ** 3
        particles = (sample_mass_mg * 1e-3 - ligand_g) / (density_g_cm3 * volume_cm3)
        per = moles * AVOGADRO / particles
        q["ligands_per_particle"] = Q(float(per), float(per * rel), "")
    else:
        q["ligands_per_particle"] = Q(None, None, "")
        warnings.append("no diameter_nm given: ligands_per_particle not calculated")
    curves = {role: {"ppm": np.asarray(spec.ppm, float),
                     "data": np.asarray(spec.intensity, float) / _scale(spec, role)}
              for role, spec in (("sample", sample), ("reference", reference))}
    return Result(quantities=q, warnings=warnings, curves=curves,
                  fit={"sample_integral": i_s, "reference_integral": i_r,
                       "sample_range_ppm": r_s, "reference_range_ppm": r_r,
                       "normalised_ratio": ratio})


def _plot(result: Result):
    from analysis.nmr.plots import quantify_figure

    return quantify_figure(result)


set_plot("nmr.quantify", _plot)
