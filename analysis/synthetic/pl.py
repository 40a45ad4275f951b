"""Synthetic photoluminescence spectra of the paper's nanocrystals (Table 1).

Truth: a Gaussian band in ENERGY centred at hc/λ_peak (λ_peak = `paper.TABLE1.pl_peak_nm`)
whose width corresponds to `true_fwhm_nm(code)` (18 nm for NC12.8 up to ~22 nm for NC6.4,
typical of CsPbBr3 NCs), written on a wavelength axis with the Jacobian applied, plus a
dark offset and Poisson noise, as a fluorimeter exports it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.data import PlSpectrum
from analysis.synthetic.paper import TABLE1_BY_CODE

HC_EV_NM = 1239.841984  # h c in eV nm (CODATA 2018)
PEAK_COUNTS = 2.0e4
DARK_COUNTS = 60.0


def _row(code: str):
    try:
        return TABLE1_BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown sample code {code!r}; known: {', '.join(TABLE1_BY_CODE)}") from None


def true_fwhm_nm(code: str) -> float:
    """The emission FWHM used for `code`, in nm: broader for smaller (more confined) NCs."""
    return 18.0 + 0.6 * (12.8 - _row(code).mean_diameter_nm)


def _band_per_ev(energy_ev: np.ndarray, code: str) -> np.ndarray:
    row = _row(code)
    lam0, fwhm = row.pl_peak_nm, true_fwhm_nm(code)
    e0 = HC_EV_NM / lam0
    fwhm_ev = HC_EV_NM / (lam0 - fwhm / 2) - HC_EV_NM / (lam0 + fwhm / 2)
    s = fwhm_ev / (2 * np.sqrt(2 * np.log(2)))
    return np.exp(-0.5 * ((energy_ev - e0) / s) ** 2)


def pl_spectrum(code: str, *, seed: int = 0) -> PlSpectrum:
    """Emission spectrum of `code` on 420-620 nm (0.5 nm steps), counts per nm."""
    rng = np.random.default_rng(seed)
    lam = np.arange(420.0, 620.0001, 0.5)
    band = _band_per_ev(HC_EV_NM / lam, code) * HC_EV_NM / lam**2  # per nm: dE/dλ = hc/λ²
    counts = rng.poisson(PEAK_COUNTS * band / band.max() + DARK_COUNTS).astype(float)
    return PlSpectrum(format="synthetic", source=code, wavelength_nm=lam, intensity=counts,
                      metadata={"sample": code, "excitation_nm": 400.0})


def write_pl_spectrum(path: str | Path, code: str, *, axis: str = "wavelength",
                      seed: int = 0) -> Path:
    """Write `code`'s spectrum and return the path.

    axis "wavelength": CSV "Wavelength (nm),Intensity (counts)", ascending nm.
    axis "energy": tab-separated "Energy (eV)<TAB>Intensity (counts/eV)", descending eV
    (even steps in energy, counts per eV)."""
    path = Path(path)
    header = ["Sample: " + code, "Instrument: Edinburgh FS5 spectrofluorometer",
              "Excitation wavelength (nm): 400", "Slit widths (nm): 1.0 / 1.0",
              "Integration time (s): 0.1"]
    if axis == "wavelength":
        spec = pl_spectrum(code, seed=seed)
        lines = header + ["Wavelength (nm),Intensity (counts)"]
        lines += [f"{x:.1f},{y:.0f}" for x, y in zip(spec.wavelength_nm, spec.intensity)]
    elif axis == "energy":
        rng = np.random.default_rng(seed)
        energy = np.round(np.arange(2.95, 2.0, -0.002), 3)
        band = _band_per_ev(energy, code)
        counts = rng.poisson(PEAK_COUNTS * band + DARK_COUNTS).astype(float)
        lines = header + ["Energy (eV)\tIntensity (counts/eV)"]
        lines += [f"{x:.3f}\t{y:.0f}" for x, y in zip(energy, counts)]
    else:
        raise ValueError("axis must be 'wavelength' or 'energy'")
    path.write_text("\n".join(lines) + "\n")
    return path
