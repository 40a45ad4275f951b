"""Synthetic SAXS curves of the paper's nanocrystals (Table 1), as a Xenocs Nano-inXider
with XSACT would export them.

Truth: spheres with a Gaussian number distribution of diameters (mean and SD from
`paper.TABLE1`), a flat background, and Poisson counting noise. The curve is computed on a
much finer diameter grid than the fit uses, so a test is not fitting its own numbers back.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.data import SaxsCurve
from analysis.saxs import number_distribution, sphere_form_factor, sphere_volume_nm3
from analysis.synthetic.paper import TABLE1_BY_CODE

# Nano-inXider SAXS configuration (Cu Kα, ~0.94 m): about 0.05-4 1/nm.
Q_MIN_PER_NM = 0.05
Q_MAX_PER_NM = 4.0
N_POINTS = 400
CU_KA_ANGSTROM = 1.5418
COUNTS_PER_CM = 4.0e4     # counts per bin per 1/cm of intensity: sets the noise level
BACKGROUND_PER_CM = 0.02  # flat residual background (capillary, solvent, fluorescence)
Q_UNITS = {"1/nm": ("nm-1", 1.0), "1/A": ("A-1", 0.1)}


def _row(code: str):
    try:
        return TABLE1_BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown sample code {code!r}; known: {', '.join(TABLE1_BY_CODE)}") from None


def true_intensity(q_per_nm: np.ndarray, mean_nm: float, sd_nm: float) -> np.ndarray:
    """Noise-free I(q) in 1/cm for a Gaussian number distribution (no background).

    The forward intensity grows with particle volume at fixed volume fraction."""
    d = np.linspace(max(mean_nm - 6 * sd_nm, 0.1), mean_nm + 6 * sd_nm, 801)
    w = number_distribution(d, mean_nm, sd_nm) * sphere_volume_nm3(d) ** 2
    i0 = 5.0 * (mean_nm / 12.8) ** 3
    return i0 * (sphere_form_factor(q_per_nm, d) @ w) / w.sum()


def saxs_curve(code: str, *, seed: int = 0) -> SaxsCurve:
    """The curve of sample `code` (e.g. "NC8.3") in memory, q in 1/nm, I and sigma in 1/cm."""
    row = _row(code)
    rng = np.random.default_rng(seed)
    q = np.linspace(Q_MIN_PER_NM, Q_MAX_PER_NM, N_POINTS)
    expected = (true_intensity(q, row.mean_diameter_nm, row.sd_diameter_nm)
                + BACKGROUND_PER_CM) * COUNTS_PER_CM
    counts = rng.poisson(expected).astype(float)
    intensity = counts / COUNTS_PER_CM
    sigma = np.sqrt(np.maximum(counts, 1.0)) / COUNTS_PER_CM
    return SaxsCurve(
        format="synthetic", source=code, q_per_nm=q, intensity=intensity, sigma=sigma,
        metadata={"sample": code, "instrument": "Xenocs Nano-inXider", "q_unit": "1/nm"},
    )


def write_saxs_curve(path: str | Path, code: str, *, q_unit: str = "1/nm", seed: int = 0,
                     fmt: str = "dat") -> Path:
    """Write sample `code`'s curve to `path` and return the path.

    fmt "dat": XSACT-style text with '#' header and a "q(nm-1) I(q) Err" column line;
    "csv": the same header, comma-separated; "pdh": SAXSquant PDH (q in 1/nm by that
    format's convention). q_unit "1/nm" or "1/A" (not for pdh)."""
    if q_unit not in Q_UNITS:
        raise ValueError(f"q_unit must be one of {', '.join(Q_UNITS)}")
    if fmt not in ("dat", "csv", "pdh"):
        raise ValueError("fmt must be dat, csv or pdh")
    if fmt == "pdh" and q_unit != "1/nm":
        raise ValueError("PDH files carry q in 1/nm")
    curve = saxs_curve(code, seed=seed)
    token, factor = Q_UNITS[q_unit]
    q = curve.q_per_nm * factor
    path = Path(path)
    if fmt == "pdh":
        lines = [
            f"{code} colloid in heptane, Xenocs Nano-inXider",
            "SAXS BOX",
            " ".join(f"{v:9d}" for v in (len(q), 0, 0, 0, 0, 0, 0, 0)),
            " ".join(f"{v:14.6E}" for v in (0.0, 938.0, 0.0, 1.0, CU_KA_ANGSTROM / 10)),
            " ".join(f"{v:14.6E}" for v in (0.0,) * 5),
        ]
        lines += [f"{a:14.6E} {b:14.6E} {c:14.6E}" for a, b, c in zip(q, curve.intensity, curve.sigma)]
        path.write_text("\n".join(lines) + "\n")
        return path
    header = [
        "Xenocs XSACT 2.6 - 1D radial integration",
        f"Sample name: {code} colloid in heptane, sealed glass capillary",
        "Instrument: Xenocs Nano-inXider",
        "Detector: Dectris Pilatus3 300K",
        f"Wavelength (A): {CU_KA_ANGSTROM}",
        "Sample-to-detector distance (mm): 938.0",
        "Exposure time (s): 600",
        "Transmission: 0.62",
        "Intensity unit: cm-1",
    ]
    if fmt == "dat":
        text = [f"# {h}" for h in header] + [f"# q({token})    I(q)    Err"]
        text += [f"{a:.6e}  {b:.6e}  {c:.6e}" for a, b, c in zip(q, curve.intensity, curve.sigma)]
    else:
        text = [f"# {h}" for h in header] + [f"q({token}),I(q),Err"]
        text += [f"{a:.6e},{b:.6e},{c:.6e}" for a, b, c in zip(q, curve.intensity, curve.sigma)]
    path.write_text("\n".join(text) + "\n")
    return path
