"""Synthetic XPS of the paper's nanocrystals: Cs 3d, Pb 4f, Br 3d, N 1s and C 1s regions
built from the Figure 5(a) atomic ratios with the same RSF table the routine uses.

Peak areas (per second) are amount × RSF × a common flux; each region sits on a Shirley
background made from its own peaks, all lines are shifted by a charging offset (+1.3 eV by
default) that the C 1s correction must remove, and counts carry Poisson noise.
`write_vamas` writes the spectra as a VAMAS file the way a Kratos AXIS (or SpecsLab
Prodigy / CasaXPS) export lays it out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.data import XpsRegion, XpsSpectra
from analysis.synthetic.paper import XPS_RATIOS
from analysis.xps.fit import pseudo_voigt
from analysis.xps.lines import KRATOS_RSF, LINES

AL_KALPHA_EV = 1486.6
PASS_ENERGY_EV = 20.0        # paper: core levels at 20 eV pass energy
CHARGING_EV = 1.3
FLUX = 4.0e4 / KRATOS_RSF["Pb 4f"]   # counts·eV/s per unit amount × RSF (Pb 4f area 4e4)
CARBON_PER_N = 26            # didodecyldimethylammonium: 2 × C12 + 2 CH3
ADVENTITIOUS_C_PER_PB = 6.0
ETA = 0.3                    # Lorentzian fraction of every line


@dataclass(frozen=True)
class _Acq:
    """Window (true BE, eV), step, scans and background level (counts/s) of one region."""

    key: str
    lo: float
    hi: float
    scans: int
    base_cps: float
    step_ev: float = 0.1
    dwell_s: float = 0.1


ACQUISITION = (
    _Acq("Cs 3d", 716.0, 746.0, 20, 6000.0),
    _Acq("Pb 4f", 132.0, 150.0, 10, 2500.0),
    _Acq("Br 3d", 62.0, 76.0, 10, 3000.0),
    _Acq("N 1s", 396.0, 409.0, 120, 800.0),
    _Acq("C 1s", 279.0, 296.0, 5, 3000.0),
)
_WIDTHS = {"Cs 3d": 1.3, "Pb 4f": 1.0, "Br 3d": 1.0, "N 1s": 1.5, "C 1s": 1.3}
_C1S_SHARES = (1.0, 0.2, 0.06)  # C–C/C–H, C–O, O–C=O areas relative to C–C


def amounts(code: str) -> dict[str, float]:
    """Atoms per Pb for sample `code` (Cs, Br, N from the paper; C from DDA+ and
    adventitious carbon)."""
    r = XPS_RATIOS[code]
    return {"Pb": 1.0, "Cs": r.cs_pb, "Br": r.br_pb, "N": r.n_pb,
            "C": CARBON_PER_N * r.n_pb + ADVENTITIOUS_C_PER_PB}


def _peaks(key: str, x_true: np.ndarray, area_cps: float) -> np.ndarray:
    line, fwhm = LINES[key], _WIDTHS[key]
    if key == "C 1s":
        shares = np.array(_C1S_SHARES) / sum(_C1S_SHARES)
        offsets = (0.0,) + tuple(off for _, off in line.shifted)
        return sum(pseudo_voigt(x_true, area_cps * s, line.be_ev + off, fwhm, ETA)
                   for s, off in zip(shares, offsets))
    main = area_cps / (1 + line.ratio) if line.second else area_cps
    out = pseudo_voigt(x_true, main, line.be_ev, fwhm, ETA)
    if line.second:
        out = out + pseudo_voigt(x_true, main * line.ratio, line.be_ev + line.splitting_ev,
                                 fwhm, ETA)
    return out


def xps_spectra(code: str, *, seed: int = 0, charging_ev: float = CHARGING_EV,
                include_carbon: bool = True) -> XpsSpectra:
    """In-memory spectra for `code`: one XpsRegion per core level, binding energy (as
    measured, i.e. charged) ascending, Poisson counts per channel."""
    rng = np.random.default_rng(seed)
    n = amounts(code)
    regions = []
    for acq in ACQUISITION:
        if acq.key == "C 1s" and not include_carbon:
            continue
        x_true = np.round(np.arange(acq.lo, acq.hi + acq.step_ev / 2, acq.step_ev), 6)
        area_cps = n[acq.key.split()[0]] * KRATOS_RSF[acq.key] * FLUX
        peaks = _peaks(acq.key, x_true, area_cps)
        # Shirley-shaped step: inelastic tail grows with the peak area at lower BE.
        cum = np.concatenate(([0.0], np.cumsum(0.5 * (peaks[1:] + peaks[:-1]) * acq.step_ev)))
        step = 0.15 * peaks.max()
        rate = acq.base_cps + step * cum / cum[-1] + peaks
        counts = rng.poisson(rate * acq.dwell_s * acq.scans).astype(float)
        meta = {"species": acq.key.split()[0], "transition": acq.key.split()[1],
                "dwell_s": acq.dwell_s, "scans": acq.scans, "pass_energy_ev": PASS_ENERGY_EV,
                "source_label": "Al (mono)", "source_energy_ev": AL_KALPHA_EV,
                "technique": "XPS", "block_id": acq.key, "sample_id": code}
        regions.append(XpsRegion(acq.key, np.round(x_true + charging_ev, 6), counts, meta))
    return XpsSpectra(format="synthetic", source=f"synthetic:{code}", regions=regions,
                      metadata={"sample": code, "charging_ev": charging_ev})


def write_vamas(path: str | Path, code: str, *, abscissa: str = "kinetic",
                scan_mode: str = "REGULAR", seed: int = 0, flavour: str = "kratos",
                charging_ev: float = CHARGING_EV, include_carbon: bool = True) -> Path:
    """Write `code`'s spectra as a VAMAS file and return its path. `abscissa` is
    "kinetic" or "binding", `scan_mode` "REGULAR" or "IRREGULAR", `flavour` "kratos",
    "specs" or "casaxps" (header comments, labels and CasaXPS processing lines)."""
    if abscissa not in ("kinetic", "binding") or scan_mode not in ("REGULAR", "IRREGULAR") \
            or flavour not in ("kratos", "specs", "casaxps"):
        raise ValueError("abscissa kinetic|binding, scan_mode REGULAR|IRREGULAR, "
                         "flavour kratos|specs|casaxps")
    spectra = xps_spectra(code, seed=seed, charging_ev=charging_ev,
                          include_carbon=include_carbon)
    out = _header(flavour, scan_mode, code, len(spectra.regions))
    for region in spectra.regions:
        out += _block(region, abscissa, scan_mode, flavour)
    out.append("end of experiment")
    path = Path(path)
    path.write_text("\r\n".join(out) + "\r\n", encoding="latin-1")
    return path


def _header(flavour: str, scan_mode: str, code: str, n_blocks: int) -> list[str]:
    comments = {
        "kratos": [],
        "specs": ["Created by SpecsLab Prodigy, Version 4.100.1-r111001"],
        "casaxps": ["Casa Info Follows CasaXPS Version 2.3.25PR1.0", "0",
                    "Created by SpecsLab Prodigy, Version 4.100.1-r111001"],
    }[flavour]
    instrument = "Kratos AXIS Supra" if flavour == "kratos" else "PHOIBOS 150"
    out = ["VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4",
           "LabTrack synthetic", instrument, "synthetic", f"{code}.experiment",
           str(len(comments)), *comments, "NORM", scan_mode, "1", "1", "Index", "d",
           "0", "0", "0", "0", str(n_blocks)]
    return out


def _block(region: XpsRegion, abscissa: str, scan_mode: str, flavour: str) -> list[str]:
    m = region.metadata
    be_desc = region.binding_energy_ev[::-1]      # instruments sweep KE upwards
    counts = region.counts[::-1]
    if abscissa == "kinetic":
        x, label = np.round(AL_KALPHA_EV - be_desc, 6), "Kinetic Energy"
    else:
        x, label = be_desc, "Binding Energy"
    transmission = np.round(50.0 * (x.mean() / np.abs(x).clip(1)) ** 0.5, 4)
    comments = _comments(region, flavour)
    species, transition = (m["species"], m["transition"]) if flavour == "kratos" \
        else (region.name, "")
    signal = "Intensity" if flavour == "kratos" else "counts"
    out = [region.name, m["sample_id"], "2024", "3", "12", "10", "20", "30", "0",
           str(len(comments)), *comments, "XPS", "1", m["source_label"],
           f"{AL_KALPHA_EV}", "225", "1E+37", "1E+37", "54.7", "0", "FAT",
           f"{PASS_ENERGY_EV:g}", "1E+37", "-4.5" if flavour == "kratos" else "4.5",
           "0", "1E+37", "1E+37", "0", "0", species, transition, "-1"]
    if scan_mode == "REGULAR":
        out += [label, "eV", f"{x[0]:.6g}", f"{x[1] - x[0]:.6g}", "2",
                signal, "d", "Transmission", "d"]
        columns = [counts, transmission]
    else:
        out += ["3", label, "eV", signal, "d", "Transmission", "d"]
        columns = [x, counts, transmission]
    out += ["pulse counting", f"{m['dwell_s']:g}", str(m["scans"]), "0", "0", "0", "0", "0"]
    table = np.column_stack(columns)
    out.append(str(table.size))
    for col in columns:
        out += [f"{col.min():.6g}", f"{col.max():.6g}"]
    out += [f"{v:.6g}" for v in table.ravel()]
    return out


def _comments(region: XpsRegion, flavour: str) -> list[str]:
    m = region.metadata
    if flavour == "kratos":
        return ["Creation", "Created by : synthetic", "Settings", "Excitation",
                "Mode : XPS - monochromatic", "Anode library : Al", "ESCA modes",
                f"Resolution : {PASS_ENERGY_EV:.2f}", "Scan",
                f"Dwell time : {m['dwell_s'] * 1000:g}ms", f"Sweeps : {m['scans']}",
                "Instrument Conditions", "Work function : -4.50", "Acquisition Conditions",
                "X-ray Power : 225.00W"]
    lines = [f"Spectrum ID = {region.name}", "Analyzer lens = MediumArea:1.5kV"]
    if flavour == "casaxps":
        lo, hi = region.binding_energy_ev[[0, -1]]
        lines = ["Casa Info Follows", "1", f"Calib M = {284.8 + CHARGING_EV:g} A = 284.8 BE ADD",
                 "0", "1",
                 f"CASA region (*{region.name}*) (*Shirley*) {hi:g} {lo:g} 1 2 0 0 0 0 0 0 "
                 f"(*{region.name}*) 0 0 1", "1",
                 f"CASA comp (*{region.name}*) (*GL(30)*) Area 1000 0 1e+9 -1 1 MFWHM 1.2 "
                 f"0.3 5 -1 1 Position {(lo + hi) / 2:g} {lo:g} {hi:g} -1 1 RSF 1 MASS 1 "
                 "INDEX -1 (**) CONST (**) UNCORRECTEDRSF 1"] + lines
    return lines
