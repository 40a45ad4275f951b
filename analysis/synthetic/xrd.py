"""Synthetic powder patterns of cubic CsPbBr3 nanocrystals from known truth.

Truth: the crystallite size (a Table 1 code's SAXS diameter, or a number), optional
orthorhombic marker reflections, the instrument's width. Size broadening is a Lorentzian
of FWHM β = Kλ/(D cos θ) with K = 0.9, so `xrd.scherrer` with k=0.9 should give D back.
The instrument line is a Voigt equivalent to a pseudo-Voigt (FWHM, η = 0.5), so the
convolution with the size Lorentzian is an exact Voigt. Counts are Poisson.

Writers produce the real file layouts: `.xy`, DIFFRAC.EVA `.csv` and Bruker `.brml`.
"""
from __future__ import annotations

import math
import os
import zipfile
import xml.etree.ElementTree as ET

import numpy as np
from scipy.special import voigt_profile

from analysis.data import PowderPattern
from analysis.io.powder import CU_KA1_ANGSTROM, CU_KA2_ANGSTROM
from analysis.synthetic.paper import BULK_CRYSTALLITE_NM, CSPBBR3_CUBIC_A_ANGSTROM, TABLE1_BY_CODE
from analysis.xrd.model import (
    ORTHORHOMBIC_MARKERS, SI_SRM640D_A, cubic_reflections, diamond_allowed, ka2_position,
    reflection_positions, split_pseudo_voigt,
)

SCHERRER_K = 0.9
INSTRUMENT_ETA = 0.5
# Atomic numbers for the kinematic structure factor (forward-scattering approximation).
Z_CS, Z_PB, Z_BR = 55, 82, 35


def size_of(code_or_size: str | float) -> float:
    """Crystallite size (nm) for a Table 1 code, "Bulk", or a number."""
    if isinstance(code_or_size, (int, float)):
        return float(code_or_size)
    if code_or_size.lower() == "bulk":
        return BULK_CRYSTALLITE_NM
    return TABLE1_BY_CODE[code_or_size].mean_diameter_nm


def cubic_intensities(wavelength: float = CU_KA1_ANGSTROM, lo: float = 10.0, hi: float = 60.0,
                      a: float = CSPBBR3_CUBIC_A_ANGSTROM) -> list[tuple[str, float, float]]:
    """(hkl, 2θ in degrees, relative integrated intensity, strongest = 100) for cubic
    CsPbBr3: Cs at 000, Pb at ½½½, Br at ½½0, with form factors Z·exp(-b s²), a
    Debye-Waller factor, multiplicity and the Lorentz-polarisation factor."""
    out = []
    for refl, tt in reflection_positions(cubic_reflections(), a, wavelength, lo, hi):
        theta = math.radians(tt / 2)
        s2 = (math.sin(theta) / wavelength) ** 2
        damping = math.exp(-(2.4 + 3.0) * s2)  # form-factor fall-off + B = 3 Å² (soft lattice)
        intensity = 0.0
        for h, k, l in refl.triples:
            f = (Z_CS + Z_PB * (-1) ** (h + k + l)
                 + Z_BR * ((-1) ** (h + k) + (-1) ** (h + l) + (-1) ** (k + l))) * damping
            intensity += f * f * refl.multiplicity / len(refl.triples)
        lp = (1 + math.cos(2 * theta) ** 2) / (math.sin(theta) ** 2 * math.cos(theta))
        out.append((refl.hkl, tt, intensity * lp))
    top = max(i for _, _, i in out)
    return [(hkl, tt, 100.0 * i / top) for hkl, tt, i in out]


def powder_pattern(code_or_size: str | float, *, size_nm: float | None = None,
                   markers_percent: float = 0.0, instrument_fwhm_deg: float = 0.06,
                   kalpha2: bool = True, counts: float = 5000.0, seed: int = 0,
                   two_theta_range: tuple[float, float] = (10.0, 60.0),
                   step_deg: float = 0.02) -> PowderPattern:
    """A noisy pattern of cubic CsPbBr3 with crystallite size `size_nm` (default: the
    code's SAXS diameter). `counts` is the strongest reflection's peak height above the
    background; `markers_percent` adds the orthorhombic (102), (131), (221) reflections
    at that percentage of the strongest reflection's integrated intensity."""
    size = float(size_nm) if size_nm is not None else size_of(code_or_size)
    rng = np.random.default_rng(seed)
    lo, hi = two_theta_range
    x = np.round(np.arange(lo, hi + step_deg / 2, step_deg), 6)
    ratio = 0.5 if kalpha2 else 0.0
    g_inst, l_inst = split_pseudo_voigt(instrument_fwhm_deg, INSTRUMENT_ETA)
    sigma = g_inst / (2 * math.sqrt(2 * math.log(2)))

    def line(center: float, area: float) -> np.ndarray:
        beta = math.degrees(SCHERRER_K * CU_KA1_ANGSTROM / (size * 10 * math.cos(math.radians(center / 2))))
        gamma = (beta + l_inst) / 2
        y = area * voigt_profile(x - center, sigma, gamma)
        if ratio:
            y += ratio * area * voigt_profile(x - ka2_position(center, CU_KA1_ANGSTROM, CU_KA2_ANGSTROM),
                                              sigma, gamma)
        return y

    peaks = np.zeros_like(x)
    reflections = cubic_intensities(CU_KA1_ANGSTROM, lo - 2, hi + 2)
    for _, tt, rel in reflections:
        peaks += line(tt, rel)
    for _, tt in ORTHORHOMBIC_MARKERS:
        if markers_percent > 0:
            peaks += line(tt, markers_percent)  # strongest reflection has area 100
    peaks *= counts / peaks.max()
    # Diffuse background: air/sample-holder scatter falling with angle plus an amorphous hump.
    base = counts * (0.04 + 0.06 * np.exp(-(x - lo) / 12.0) + 0.02 * np.exp(-0.5 * ((x - 22.0) / 5.0) ** 2))
    y = rng.poisson(peaks + base).astype(float)
    meta = {
        "anode": "Cu", "wavelength_ka1_angstrom": CU_KA1_ANGSTROM,
        "wavelength_ka2_angstrom": CU_KA2_ANGSTROM if kalpha2 else None, "ka2_ratio": ratio,
        "monochromator": None if kalpha2 else "Johansson (Kα1)", "step_deg": step_deg,
        "two_theta_min_deg": float(x[0]), "two_theta_max_deg": float(x[-1]), "n_points": len(x),
        "sample_name": str(code_or_size),
        "truth": {"size_nm": size, "markers_percent": markers_percent,
                  "instrument_fwhm_deg": instrument_fwhm_deg, "instrument_eta": INSTRUMENT_ETA},
    }
    waves = (CU_KA1_ANGSTROM, CU_KA2_ANGSTROM) if kalpha2 else (CU_KA1_ANGSTROM,)
    return PowderPattern(format="synthetic", source=f"synthetic:{code_or_size}", metadata=meta,
                         two_theta_deg=x, intensity=y, wavelengths_angstrom=waves, ka2_ratio=ratio)


# Relative integrated intensities of silicon with Cu Kα (ICDD 00-027-1402, rounded).
SI_INTENSITIES = {"(111)": 100, "(220)": 55, "(311)": 30, "(400)": 6, "(331)": 11, "(422)": 12,
                  "(511)/(333)": 6}


def si_standard_pattern(*, caglioti: dict | None = None, kalpha2: bool = False, counts: float = 50000.0,
                        seed: int = 0, two_theta_range: tuple[float, float] = (20.0, 100.0),
                        step_deg: float = 0.01) -> PowderPattern:
    """A line-profile standard (Si, a = 5.43123 Å) whose instrument FWHM follows the
    Caglioti law `caglioti` (U, V, W in degrees²; default a D8-like 0.006, -0.001, 0.0025)
    with η = 0.5 lines. Truth is in `metadata["truth"]`."""
    cag = caglioti or {"U": 0.006, "V": -0.001, "W": 0.0025}
    rng = np.random.default_rng(seed)
    lo, hi = two_theta_range
    x = np.round(np.arange(lo, hi + step_deg / 2, step_deg), 6)
    y = np.zeros_like(x)
    lines = [(CU_KA1_ANGSTROM, 1.0)] + ([(CU_KA2_ANGSTROM, 0.5)] if kalpha2 else [])
    for refl, tt in reflection_positions(cubic_reflections(allowed=diamond_allowed), SI_SRM640D_A,
                                         CU_KA1_ANGSTROM, lo + 0.5, hi - 0.5):
        t = math.tan(math.radians(tt / 2))
        fwhm = math.sqrt(cag["U"] * t * t + cag["V"] * t + cag["W"])
        g, l = split_pseudo_voigt(fwhm, INSTRUMENT_ETA)
        for wavelength, weight in lines:
            center = ka2_position(tt, CU_KA1_ANGSTROM, wavelength)
            y += SI_INTENSITIES.get(refl.hkl, 5) * weight * voigt_profile(
                x - center, g / (2 * math.sqrt(2 * math.log(2))), l / 2)
    y *= counts / y.max()
    y = rng.poisson(y + 0.01 * counts).astype(float)
    ratio = 0.5 if kalpha2 else 0.0
    meta = {"anode": "Cu", "ka2_ratio": ratio, "sample_name": "Si line-profile standard (synthetic)",
            "truth": {"caglioti": cag, "instrument_eta": INSTRUMENT_ETA}}
    waves = (CU_KA1_ANGSTROM, CU_KA2_ANGSTROM) if kalpha2 else (CU_KA1_ANGSTROM,)
    return PowderPattern(format="synthetic", source="synthetic:Si", metadata=meta, two_theta_deg=x,
                         intensity=y, wavelengths_angstrom=waves, ka2_ratio=ratio)


def write_xy(path: str, pattern: PowderPattern) -> str:
    """Write `# header` lines and "2θ intensity" columns. Returns `path`."""
    header = [f"# sample: {pattern.metadata.get('sample_name', '')}",
              f"# Kalpha1 wavelength: {pattern.wavelengths_angstrom[0]}"]
    if pattern.ka2_ratio > 0:
        header += [f"# Kalpha2 wavelength: {pattern.wavelengths_angstrom[1]}",
                   f"# Kalpha2/Kalpha1 ratio: {pattern.ka2_ratio}"]
    else:
        header.append("# monochromator: Johansson (Kalpha1 only)")
    body = "\n".join(f"{t:.4f} {i:.0f}" for t, i in zip(pattern.two_theta_deg, pattern.intensity))
    with open(path, "w") as fh:
        fh.write("\n".join(header) + "\n" + body + "\n")
    return path


def write_eva_csv(path: str, pattern: PowderPattern) -> str:
    """Write a DIFFRAC.EVA-style csv export: `[Measurement conditions:]` key,value block,
    `[Scan points:]`, then `Angle,PSD Counts` rows. Returns `path`."""
    x = pattern.two_theta_deg
    lines = [
        "[Measurement conditions:]",
        f"File name,{os.path.basename(path)}",
        f"Sample name,{pattern.metadata.get('sample_name', '')}",
        "Anode,Cu",
        f"K-Alpha1 wavelength,{pattern.wavelengths_angstrom[0]}",
    ]
    if pattern.ka2_ratio > 0:
        lines += [f"K-Alpha2 wavelength,{pattern.wavelengths_angstrom[1]}",
                  f"K-Alpha2/K-Alpha1 intensity ratio,{pattern.ka2_ratio}", "Monochromator,None"]
    else:
        lines += ["Monochromator,Johansson Ge(111) KA1"]
    lines += [f"Start angle,{x[0]:.4f}", f"End angle,{x[-1]:.4f}",
              f"Step size,{(x[-1] - x[0]) / (len(x) - 1):.5f}", "Time per step,1",
              "[Scan points:]", "Angle,PSD Counts"]
    lines += [f"{t:.4f},{i:.0f}" for t, i in zip(x, pattern.intensity)]
    with open(path, "w", newline="\r\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def write_brml(path: str, pattern: PowderPattern, *, datum: list[str] | None = None) -> str:
    """Write a .brml zip laid out like DIFFRAC.Measurement Center's:
    `<stem>/Experiment0/RawData0.xml` with `<Datum>time,1,2θ,counts</Datum>` lines,
    `<DataViews>` describing the columns and the tube/optics in `<FixedInformation>`.
    `datum` overrides the Datum lines (for malformed-file tests). Returns `path`."""
    stem = os.path.splitext(os.path.basename(path))[0]
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    ET.register_namespace("xsi", xsi)
    root = ET.Element("RawData")
    route = ET.SubElement(ET.SubElement(root, "DataRoutes"), "DataRoute", RouteFlag="Measured")
    scan = ET.SubElement(route, "ScanInformation", ScanName="Coupled TwoTheta/Theta")
    ET.SubElement(scan, "MeasurementPoints").text = str(len(pattern.two_theta_deg))
    ET.SubElement(scan, "TimePerStep").text = "1"
    ET.SubElement(scan, "ScanModeVisibleName").text = "Continuous PSD fast"
    lines = datum if datum is not None else [
        f"1,1,{t:.4f},{i:.0f}" for t, i in zip(pattern.two_theta_deg, pattern.intensity)]
    for text in lines:
        ET.SubElement(route, "Datum").text = text
    views = ET.SubElement(route, "DataViews")
    ET.SubElement(views, "RawDataView", {f"{{{xsi}}}type": "FixedRawDataView", "Start": "0",
                                         "Length": "1", "LogicName": "MeasuredTime"})
    ET.SubElement(views, "RawDataView", {f"{{{xsi}}}type": "FixedRawDataView", "Start": "1",
                                         "Length": "1", "LogicName": "AbsorptionFactor"})
    varying = ET.SubElement(views, "RawDataView", {f"{{{xsi}}}type": "VaryingRawDataView",
                                                   "Start": "2", "Length": "1"})
    ET.SubElement(ET.SubElement(varying, "Varying"), "FieldDefinitions", FieldName="TwoTheta", AxisId="TwoTheta")
    ET.SubElement(views, "RawDataView", {f"{{{xsi}}}type": "RecordedRawDataView", "Start": "3", "Length": "1"})
    fixed = ET.SubElement(root, "FixedInformation")
    info = ET.SubElement(ET.SubElement(fixed, "MethodInformation"), "InfoList")
    ET.SubElement(info, "InfoItem", Name="SampleName", Value=str(pattern.metadata.get("sample_name", "")))
    optics = ET.SubElement(ET.SubElement(ET.SubElement(ET.SubElement(fixed, "Instrument"), "PrimaryTracks"),
                                         "TrackInfoData"), "MountedOptics")
    tube = ET.SubElement(ET.SubElement(optics, "InfoData", LogicName="TubeMount"), "Tube")
    waves = pattern.wavelengths_angstrom
    ET.SubElement(tube, "WaveLengthAlpha1", Unit="Å", Value=str(waves[0]))
    ET.SubElement(tube, "WaveLengthAlpha2", Unit="Å", Value=str(CU_KA2_ANGSTROM if len(waves) < 2 else waves[1]))
    ET.SubElement(tube, "WaveLengthRatio", Unit="", Value="0.5")
    ET.SubElement(tube, "TubeMaterial").text = "Cu"
    if pattern.ka2_ratio == 0:
        mono = ET.SubElement(optics, "InfoData", LogicName="Optics_Johansson_Cu")
        ET.SubElement(mono, "BeringInfo", ClassPath="/Component/Optic/Monochromator/Johansson")
    xml = b'<?xml version="1.0"?>\n' + ET.tostring(root, encoding="utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}/", b"")
        zf.writestr(f"{stem}/experimentCollection.xml", b'<?xml version="1.0"?>\n<ExperimentCollection />\n')
        zf.writestr(f"{stem}/Experiment0/RawData0.xml", xml)
    return path
