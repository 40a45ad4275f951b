"""Synthetic solid-state NMR spectra built from known truth (paper.TABLE2).

Spectra look like processed Bruker data: real part, ppm axis descending (high ppm first),
a rolling baseline, white noise at a stated peak signal-to-noise ratio, and first-order
spinning sidebands at +-MAS rate. Intensities are "true" (already multiplied by
2**NC_proc, as the TopSpin reader returns them); `nc_proc` is only recorded.

Every site's sidebands carry the same fraction of its intensity, so the percentages of
Table 2 hold whether one counts the centreband alone or centreband plus sidebands.
"""
from __future__ import annotations

import numpy as np

from analysis.data import NmrSeries, NmrSpectrum
from analysis.nmr.lineshapes import gaussian
from analysis.synthetic import paper

# 800 ppm at 78.724 MHz = 63 kHz: both first-order sidebands (+-305 ppm) of every line
# stay inside, and 8k points give 7.7 Hz/point, so the narrowest line (320 Hz) has 40.
CS133_SW_PPM = 800.0
CS133_CENTRE_PPM = 120.0
SIDEBAND_FRACTION = 0.03   # of a site's intensity in each first-order sideband
TOTAL_AREA = 1.0e8         # intensity x ppm of all Cs, arbitrary spectrometer units

# Table 2 has no T1 for some lines ("could not be accurately measured"); the generator
# still needs one. These stand-ins are plausible, not the paper's.
T1_STAND_IN_S = {"ligand-adjacent": 0.02, "core": 15.0, "bulk": 35.0, "middle": 9.0,
                 "surface": 4.5}

P31_SF_MHZ = 242.94        # 31P at 14.1 T
NH4H2PO4_MOLAR_MASS = 115.03


def ppm_axis(n_points: int, centre_ppm: float, sw_ppm: float) -> np.ndarray:
    """Descending ppm axis of a processed Bruker spectrum (first point = left edge)."""
    left = centre_ppm + sw_ppm / 2.0
    return left - np.arange(n_points) * (sw_ppm / n_points)


def _lines(ppm: np.ndarray, lines: list[tuple[float, float, float]], sf_mhz: float,
           mas_hz: float | None) -> np.ndarray:
    """Sum of Gaussian lines (shift_ppm, fwhm_hz, area) with optional first-order
    sidebands at +-mas_hz; the centreband keeps 1 - 2*SIDEBAND_FRACTION of the area."""
    out = np.zeros_like(ppm)
    for shift, fwhm_hz, area in lines:
        w = fwhm_hz / sf_mhz
        if mas_hz:
            step = mas_hz / sf_mhz
            out += area * (1 - 2 * SIDEBAND_FRACTION) * gaussian(ppm, shift, w)
            out += area * SIDEBAND_FRACTION * (gaussian(ppm, shift + step, w)
                                               + gaussian(ppm, shift - step, w))
        else:
            out += area * gaussian(ppm, shift, w)
    return out


def _baseline(ppm: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """A slow roll of a few percent of the tallest peak, like a real probe background."""
    u = (ppm - ppm.mean()) / (np.ptp(ppm) / 2.0)
    a = rng.uniform(-1, 1, 4)
    return height * (0.02 * a[0] + 0.015 * a[1] * u + 0.02 * a[2] * u**2
                     + 0.01 * np.sin(2.2 * u + 3 * a[3]))


def _table2_lines(code: str) -> tuple[paper.CsLine, ...]:
    lines = paper.TABLE2.get(code) or paper.AGED_TABLE2.get(code)
    if lines is None:
        known = ", ".join([*paper.TABLE2, *paper.AGED_TABLE2])
        raise ValueError(f"unknown Table 2 sample {code!r}; known: {known}")
    return lines


def _cs_metadata(nc_proc: int, sw_ppm: float) -> dict:
    return {"nucleus": "133Cs", "sf_mhz": paper.CS133_SF_MHZ, "mas_rate_hz": paper.CS133_MAS_HZ,
            "ns": 64, "rg": 101.0, "nc_proc": nc_proc, "sw_hz": sw_ppm * paper.CS133_SF_MHZ,
            "synthetic": True}


def cs133_spectrum(code: str, *, n_points: int = 8192, snr: float = 300.0,
                   baseline: bool = True, sidebands: bool = True, seed: int = 0,
                   nc_proc: int = 0, lines: tuple[paper.CsLine, ...] | None = None) -> NmrSpectrum:
    """133Cs MAS spectrum of Table 2 sample `code` (e.g. "NC8.3", "Bulk"), or of the
    given `lines` (e.g. paper.aged_lines for a sample part-way through ageing).

    `snr` is the tallest centreband point over the noise standard deviation.
    """
    rng = np.random.default_rng(seed)
    sf = paper.CS133_SF_MHZ
    ppm = ppm_axis(n_points, CS133_CENTRE_PPM, CS133_SW_PPM)
    lines = [(ln.shift_ppm, ln.fwhm_khz * 1e3, TOTAL_AREA * ln.integral_percent / 100.0)
             for ln in (lines if lines is not None else _table2_lines(code))]
    clean = _lines(ppm, lines, sf, paper.CS133_MAS_HZ if sidebands else None)
    height = float(clean.max())
    data = clean + rng.normal(0.0, height / snr, n_points)
    if baseline:
        data += _baseline(ppm, height, rng)
    return NmrSpectrum(format="synthetic", source=f"synthetic:{code}", ppm=ppm, intensity=data,
                       nucleus="133Cs", sf_mhz=sf, metadata=_cs_metadata(nc_proc, CS133_SW_PPM))


def default_delays(max_t1_s: float, n: int = 16, shortest_s: float = 0.005) -> list[float]:
    """`n` delays log-spaced from `shortest_s` to 5 x the longest T1 (s)."""
    return [float(t) for t in np.geomspace(shortest_s, 5.0 * max_t1_s, n)]


def cs133_t1_truth(code: str) -> list[tuple[str, float, float]]:
    """(assignment, shift_ppm, T1 in s) used by `cs133_saturation_recovery` for `code`;
    Table 2's T1 where it gives one, else T1_STAND_IN_S."""
    return [(ln.assignment, ln.shift_ppm,
             ln.t1_s if ln.t1_s is not None else T1_STAND_IN_S[ln.assignment])
            for ln in _table2_lines(code)]


def _recovery_series(ppm: np.ndarray, lines: list[tuple[float, float, float, float]],
                     delays: np.ndarray, sf: float, mas_hz: float | None, snr: float,
                     rng: np.random.Generator, baseline: bool) -> np.ndarray:
    full = _lines(ppm, [ln[:3] for ln in lines], sf, mas_hz)
    sigma = float(full.max()) / snr
    base = _baseline(ppm, float(full.max()), rng) * 0.5 if baseline else 0.0
    rows = np.empty((len(delays), len(ppm)))
    for i, tau in enumerate(delays):
        rec = [(s, w, a * (1.0 - np.exp(-tau / t1))) for s, w, a, t1 in lines]
        rows[i] = _lines(ppm, rec, sf, mas_hz) + base + rng.normal(0.0, sigma, len(ppm))
    return rows


def cs133_saturation_recovery(code: str, *, delays_s: list[float] | None = None,
                              n_points: int = 8192, snr: float = 300.0, seed: int = 0,
                              baseline: bool = True) -> NmrSeries:
    """133Cs saturation-recovery pseudo-2D of Table 2 sample `code`: one row per delay
    (s), I(tau) = I0 (1 - exp(-tau/T1)) per site; `snr` refers to the fully recovered row."""
    rng = np.random.default_rng(seed)
    sf = paper.CS133_SF_MHZ
    truth = cs133_t1_truth(code)
    delays = np.asarray(delays_s if delays_s is not None
                        else default_delays(max(t for _, _, t in truth)), float)
    ppm = ppm_axis(n_points, CS133_CENTRE_PPM, CS133_SW_PPM)
    lines = [(ln.shift_ppm, ln.fwhm_khz * 1e3, TOTAL_AREA * ln.integral_percent / 100.0, t1)
             for ln, (_, _, t1) in zip(_table2_lines(code), truth)]
    rows = _recovery_series(ppm, lines, delays, sf, paper.CS133_MAS_HZ, snr, rng, baseline)
    meta = _cs_metadata(0, CS133_SW_PPM) | {"experiment": "saturation-recovery"}
    return NmrSeries(format="synthetic", source=f"synthetic:{code}:t1", ppm=ppm, intensity=rows,
                     delays_s=delays, nucleus="133Cs", sf_mhz=sf, metadata=meta)


def single_line_series(*, nucleus: str = "29Si", sf_mhz: float = 119.23,
                       shift_ppm: float = -110.0, fwhm_hz: float = 600.0, t1_s: float = 20.0,
                       delays_s: list[float] | None = None, n_points: int = 4096,
                       sw_ppm: float = 300.0, snr: float = 300.0, seed: int = 0) -> NmrSeries:
    """Saturation recovery of one Gaussian line of any nucleus (static, no sidebands)."""
    rng = np.random.default_rng(seed)
    delays = np.asarray(delays_s if delays_s is not None else default_delays(t1_s), float)
    ppm = ppm_axis(n_points, shift_ppm, sw_ppm)
    rows = _recovery_series(ppm, [(shift_ppm, fwhm_hz, TOTAL_AREA, t1_s)], delays, sf_mhz,
                            None, snr, rng, baseline=True)
    meta = {"nucleus": nucleus, "sf_mhz": sf_mhz, "ns": 16, "rg": 64.0, "nc_proc": 0,
            "experiment": "saturation-recovery", "synthetic": True}
    return NmrSeries(format="synthetic", source=f"synthetic:{nucleus}:t1", ppm=ppm,
                     intensity=rows, delays_s=delays, nucleus=nucleus, sf_mhz=sf_mhz,
                     metadata=meta)


def single_line_spectrum(*, nucleus: str = "29Si", sf_mhz: float = 119.23,
                         shift_ppm: float = -110.0, fwhm_hz: float = 600.0,
                         n_points: int = 4096, sw_ppm: float = 300.0, snr: float = 300.0,
                         seed: int = 0, ns: int = 16, rg: float = 64.0,
                         area: float = TOTAL_AREA) -> NmrSpectrum:
    """One Gaussian line of any nucleus with a baseline and noise (peak SNR `snr`)."""
    rng = np.random.default_rng(seed)
    ppm = ppm_axis(n_points, shift_ppm, sw_ppm)
    clean = area * gaussian(ppm, shift_ppm, fwhm_hz / sf_mhz)
    height = float(clean.max())
    data = clean + _baseline(ppm, height, rng) + rng.normal(0.0, height / snr, n_points)
    meta = {"nucleus": nucleus, "sf_mhz": sf_mhz, "ns": ns, "rg": rg, "nc_proc": 0,
            "synthetic": True}
    return NmrSpectrum(format="synthetic", source=f"synthetic:{nucleus}", ppm=ppm,
                       intensity=data, nucleus=nucleus, sf_mhz=sf_mhz, metadata=meta)


def p31_pair(*, wt_percent: float = paper.OPA_WT_PERCENT_NC83,
             seed: int = 0) -> tuple[NmrSpectrum, NmrSpectrum, dict]:
    """31P spectra of an NC8.3 powder carrying `wt_percent` OPA and of an NH4H2PO4
    reference, plus the parameters nmr.quantify needs (masses, ranges, diameter).

    Processed intensity is proportional to moles of P x NS x RG, as on a spectrometer.
    """
    rng = np.random.default_rng(seed)
    sample_mg, ref_mg = 40.0, 10.0
    mol_sample = sample_mg * wt_percent / 100.0 / paper.OPA_MOLAR_MASS_G_MOL * 1e-3
    mol_ref = ref_mg / NH4H2PO4_MOLAR_MASS * 1e-3
    per_mol_scan_rg = 1.0e9  # spectrometer units per mol of P per scan per unit RG
    ns_s, rg_s, ns_r, rg_r = 20480, 203.0, 8, 2.0
    sample = single_line_spectrum(nucleus="31P", sf_mhz=P31_SF_MHZ, shift_ppm=28.0,
                                  fwhm_hz=1500.0, n_points=8192, sw_ppm=400.0, snr=80.0,
                                  seed=int(rng.integers(1 << 30)), ns=ns_s, rg=rg_s,
                                  area=mol_sample * per_mol_scan_rg * ns_s * rg_s)
    reference = single_line_spectrum(nucleus="31P", sf_mhz=P31_SF_MHZ, shift_ppm=0.9,
                                     fwhm_hz=300.0, n_points=8192, sw_ppm=400.0, snr=2000.0,
                                     seed=int(rng.integers(1 << 30)), ns=ns_r, rg=rg_r,
                                     area=mol_ref * per_mol_scan_rg * ns_r * rg_r)
    params = {"reference_compound": "NH4H2PO4", "reference_mass_mg": ref_mg,
              "sample_mass_mg": sample_mg,
              "ligand_molar_mass_g_mol": paper.OPA_MOLAR_MASS_G_MOL,
              "diameter_nm": paper.TABLE1_BY_CODE["NC8.3"].mean_diameter_nm,
              "sample_range_ppm": [0.0, 56.0], "reference_range_ppm": [-15.0, 17.0]}
    return sample, reference, params


def write_cs133_experiments(folder: str, code: str, *, seed: int = 0, snr: float = 300.0,
                            with_t1: bool = True) -> dict[str, str]:
    """Write Table 2 sample `code` as TopSpin experiments under `folder`: expno 10 the
    1-D 133Cs MAS spectrum, expno 11 (if `with_t1`) its saturation recovery.
    Returns {"1d": path, "t1": path} of the expno folders."""
    from analysis.synthetic.topspin import write_topspin_1d, write_topspin_pseudo2d

    spec = cs133_spectrum(code, seed=seed, snr=snr)
    meta = spec.metadata
    out = {"1d": str(write_topspin_1d(folder, spec, expno=10, ns=meta["ns"], rg=meta["rg"],
                                      mas_rate_hz=meta["mas_rate_hz"],
                                      title=f"{code} 133Cs MAS 24 kHz"))}
    if with_t1:
        series = cs133_saturation_recovery(code, seed=seed + 1, snr=snr)
        out["t1"] = str(write_topspin_pseudo2d(folder, series, expno=11, ns=meta["ns"],
                                               rg=meta["rg"], mas_rate_hz=meta["mas_rate_hz"],
                                               title=f"{code} 133Cs saturation recovery"))
    return out


def write_p31_pair(folder: str, *, wt_percent: float = paper.OPA_WT_PERCENT_NC83,
                   seed: int = 0) -> tuple[str, str, dict]:
    """Write the 31P sample (expno 20) and NH4H2PO4 reference (expno 21) of `p31_pair` as
    TopSpin experiments; returns (sample path, reference path, nmr.quantify parameters)."""
    from analysis.synthetic.topspin import write_topspin_1d

    sample, reference, params = p31_pair(wt_percent=wt_percent, seed=seed)
    paths = [str(write_topspin_1d(folder, spec, expno=expno, ns=spec.metadata["ns"],
                                  rg=spec.metadata["rg"], mas_rate_hz=12000.0, title=title))
             for spec, expno, title in ((sample, 20, "NC8.3 31P"),
                                        (reference, 21, "NH4H2PO4 31P reference"))]
    return paths[0], paths[1], params


# The paper's ligand spectra of NC8.3 (Figure 4 b-d and text), 14.1 T: (shift ppm, FWHM Hz,
# relative area). 13C CP areas are not quantitative (CP); 1H NCH2,3 : RCH2 is 1 : 4.
LIGAND_SPECTRA = {
    "13C": {"sf_mhz": 150.90, "mas_hz": 12000.0, "centre_ppm": 100.0, "sw_ppm": 400.0,
            "lines": [(62.0, 300.0, 2.0), (55.0, 300.0, 2.0), (30.0, 450.0, 16.0), (14.0, 250.0, 2.0)]},
    "1H": {"sf_mhz": 600.13, "mas_hz": 14000.0, "centre_ppm": 5.0, "sw_ppm": 100.0,
           "lines": [(3.5, 1200.0, 1.0), (1.2, 900.0, 4.0)]},
    "31P": {"sf_mhz": P31_SF_MHZ, "mas_hz": 14000.0, "centre_ppm": 30.0, "sw_ppm": 400.0,
            "lines": [(25.0, 1500.0, 1.0)]},
}


def ligand_spectrum(nucleus: str, *, n_points: int = 8192, snr: float = 200.0,
                    seed: int = 0) -> NmrSpectrum:
    """NC8.3's 13C CP, 1H or 31P MAS spectrum from the paper's shifts (LIGAND_SPECTRA),
    with first-order sidebands, a rolling baseline and noise (peak SNR `snr`)."""
    spec = LIGAND_SPECTRA[nucleus]
    rng = np.random.default_rng(seed)
    ppm = ppm_axis(n_points, spec["centre_ppm"], spec["sw_ppm"])
    lines = [(shift, fwhm, TOTAL_AREA * area) for shift, fwhm, area in spec["lines"]]
    clean = _lines(ppm, lines, spec["sf_mhz"], spec["mas_hz"])
    height = float(clean.max())
    data = clean + _baseline(ppm, height, rng) + rng.normal(0.0, height / snr, n_points)
    meta = {"nucleus": nucleus, "sf_mhz": spec["sf_mhz"], "mas_rate_hz": spec["mas_hz"],
            "ns": 1024, "rg": 128.0, "nc_proc": 0, "synthetic": True}
    return NmrSpectrum(format="synthetic", source=f"synthetic:NC8.3:{nucleus}", ppm=ppm,
                       intensity=data, nucleus=nucleus, sf_mhz=spec["sf_mhz"], metadata=meta)


# Figure 4d (NC8.3 133Cs-1H CP HETCOR, 14 kHz MAS): the 163 ppm (ligand-adjacent) and 95 ppm
# (surface) 133Cs sites both correlate with the DDA+ 1H lines at 3.5 (NCH2/NCH3) and 1.2 ppm
# (RCH2); 163 ppm gains most in the 133Cs projection. (Cs ppm, H ppm, relative volume);
# widths from Table 2 (2.3 and 1.9 kHz) and ~1 ppm in 1H. The volumes are illustrative.
HETCOR_PEAKS = [(163.0, 3.5, 1.0), (163.0, 1.2, 0.8), (95.0, 3.5, 0.6), (95.0, 1.2, 0.5)]
HETCOR_WIDTHS_HZ = {163.0: 2300.0, 95.0: 1900.0}


def hetcor_spectrum(*, n_f2: int = 1024, n_f1: int = 128, snr: float = 60.0, seed: int = 0,
                    peaks: list[tuple[float, float, float]] | None = None) -> "NmrSpectrum2D":
    """A processed 133Cs(F2)-1H(F1) HETCOR of NC8.3 (HETCOR_PEAKS), 2D Gaussian cross peaks,
    white noise at peak SNR `snr`; both axes high ppm first."""
    from analysis.data import NmrSpectrum2D

    rng = np.random.default_rng(seed)
    sf2, sf1 = paper.CS133_SF_MHZ, 600.13
    ppm2 = ppm_axis(n_f2, 120.0, 400.0)
    ppm1 = ppm_axis(n_f1, 5.0, 30.0)
    data = np.zeros((n_f1, n_f2))
    for cs, h, volume in (peaks if peaks is not None else HETCOR_PEAKS):
        w2 = HETCOR_WIDTHS_HZ.get(cs, 2000.0) / sf2
        data += volume * np.outer(gaussian(ppm1, h, 1.0), gaussian(ppm2, cs, w2))
    height = float(data.max()) or 1.0
    data = data / height * 1e7 + rng.normal(0.0, 1e7 / snr, data.shape)
    meta = {"nucleus": "133Cs", "nucleus_f1": "1H", "sf_mhz": sf2, "mas_rate_hz": 14000.0,
            "experiment": "2d-correlation", "synthetic": True}
    return NmrSpectrum2D(format="synthetic", source="synthetic:NC8.3:hetcor", ppm_f2=ppm2, ppm_f1=ppm1,
                         intensity=data, nucleus_f2="133Cs", nucleus_f1="1H", sf_f2_mhz=sf2,
                         sf_f1_mhz=sf1, metadata=meta)
