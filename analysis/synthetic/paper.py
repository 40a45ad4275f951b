"""Known truth from the seed paper (Hooper et al., CsPbBr3 nanocrystals).

Table 1 (synthesis, PL, SAXS diameters) and Table 2 (133Cs deconvolution and T1) are
transcribed as printed. The XPS ratios are read off Figure 5(a), whose text gives the end
points (Cs/Pb 0.96 for NC12.8 to 0.84 for NC6.4; Br/Pb 3.3-3.8; N/Pb 0.3-0.5); the values
in between are our reading of the plot, good to about ±0.02 (Cs/Pb) and ±0.1 (Br/Pb).
Generators, tests and the demo seed all take their numbers from here.
"""
from __future__ import annotations

from dataclasses import dataclass

# 133Cs Larmor frequency at 14.1 T (paper: 78.724 MHz); MAS 24 kHz.
CS133_SF_MHZ = 78.724
CS133_MAS_HZ = 24_000.0
CSPBBR3_DENSITY_G_CM3 = 4.76
CSPBBR3_CUBIC_A_ANGSTROM = 5.87
BULK_CRYSTALLITE_NM = 270.0


@dataclass(frozen=True)
class Table1Row:
    code: str
    opa_concentration_molar: float
    reaction_duration_s: float
    pl_peak_nm: float
    pl_peak_err_nm: float
    mean_diameter_nm: float
    sd_diameter_nm: float  # the paper's "±" on the SAXS mean is the distribution's spread


TABLE1 = (
    Table1Row("NC12.8", 0.10, 600, 516, 2, 12.8, 1.0),
    Table1Row("NC10.4", 0.10, 300, 515, 2, 10.4, 0.9),
    Table1Row("NC9.9", 0.15, 300, 514, 2, 9.9, 0.8),
    Table1Row("NC8.9", 0.30, 300, 510, 2, 8.9, 0.6),
    Table1Row("NC8.3", 0.40, 300, 509, 2, 8.3, 0.5),
    Table1Row("NC7.7", 0.15, 120, 507, 2, 7.7, 0.4),
    Table1Row("NC6.4", 0.30, 30, 499, 3, 6.4, 0.5),
)
TABLE1_BY_CODE = {row.code: row for row in TABLE1}


@dataclass(frozen=True)
class CsLine:
    """One 133Cs component of Table 2. `t1_s` None where the paper reports none."""

    assignment: str  # ligand-adjacent | bulk | core | middle | surface
    shift_ppm: float
    fwhm_khz: float
    t1_s: float | None
    integral_percent: float


# Table 2. The paper's three unlabelled "nanocrystal layers" rows are core (~116 ppm),
# middle (~108 ppm) and surface (~95 ppm), as its layer model assigns them.
TABLE2: dict[str, tuple[CsLine, ...]] = {
    "Bulk": (CsLine("bulk", 121.4, 0.39, 200.0, 100),),
    "NC12.8": (
        CsLine("ligand-adjacent", 163, 1.9, None, 7),
        CsLine("bulk", 119.5, 0.32, 33, 15),
        CsLine("core", 116.0, 0.56, 24, 24),
        CsLine("middle", 109, 1.5, 11.3, 38),
        CsLine("surface", 94, 2.0, 4.3, 16),
    ),
    "NC10.4": (
        CsLine("ligand-adjacent", 162, 2.4, 0.01, 10),
        CsLine("core", 116.5, 0.63, 15.4, 17),
        CsLine("middle", 109.7, 1.1, 9.9, 47),
        CsLine("surface", 96, 2.2, 4.0, 26),
    ),
    "NC9.9": (
        CsLine("ligand-adjacent", 163, 2.4, None, 9),
        CsLine("core", 117.1, 0.63, 20.9, 16),
        CsLine("middle", 110.4, 1.1, 10.6, 49),
        CsLine("surface", 96, 2.2, 4.6, 26),
    ),
    "NC8.9": (
        CsLine("ligand-adjacent", 161, 2.4, None, 9),
        CsLine("bulk", 119.5, 0.32, 36, 2),
        CsLine("core", 116.4, 0.8, 12, 14),
        CsLine("middle", 109, 1.3, 8.9, 42),
        CsLine("surface", 95, 2.0, 3.9, 33),
    ),
    "NC8.3": (
        CsLine("ligand-adjacent", 159, 2.3, 0.02, 8),
        CsLine("core", 116.5, 0.8, None, 8),
        CsLine("middle", 108, 1.2, 8.6, 39),
        CsLine("surface", 95, 1.9, 4.5, 45),
    ),
    "NC7.7": (
        CsLine("ligand-adjacent", 160, 2.3, 0.04, 10),
        CsLine("core", 116.2, 0.7, None, 7),
        CsLine("middle", 108.3, 1.3, 9.8, 41),
        CsLine("surface", 95, 2.1, 5.0, 42),
    ),
    "NC6.4": (
        CsLine("ligand-adjacent", 158, 2.2, None, 15),
        CsLine("middle", 106, 1.6, 4.5, 38),
        CsLine("surface", 93, 2.0, 4.4, 47),
    ),
}


def _aged(code: str, bulk_percent: float, cs4pbbr6_percent: float) -> tuple[CsLine, ...]:
    """Table 2 lines of `code` after ageing: the agglomerated 'bulk' line grown to
    `bulk_percent` (the rest scaled down) plus a small Cs4PbBr6 line at 244 ppm."""
    fresh = [line for line in TABLE2[code] if line.assignment != "bulk"]
    bulk = next((line for line in TABLE2[code] if line.assignment == "bulk"), None)
    rest = 100.0 - bulk_percent - cs4pbbr6_percent
    scale = rest / sum(line.integral_percent for line in fresh)
    lines = [CsLine(line.assignment, line.shift_ppm, line.fwhm_khz, line.t1_s, line.integral_percent * scale)
             for line in fresh]
    lines.append(CsLine("bulk", bulk.shift_ppm if bulk else 119.5, bulk.fwhm_khz if bulk else 0.32,
                        bulk.t1_s if bulk else 35.0, bulk_percent))
    if cs4pbbr6_percent:
        lines.append(CsLine("Cs4PbBr6", 244.0, 0.4, None, cs4pbbr6_percent))
    return tuple(sorted(lines, key=lambda line: -line.shift_ppm))


def aged_lines(code: str, bulk_percent: float, cs4pbbr6_percent: float = 0.0) -> tuple[CsLine, ...]:
    """Lines of `code` part-way through ageing (the demo's ageing studies)."""
    return _aged(code, bulk_percent, cs4pbbr6_percent)


# The 6-month-aged powders of Figure 3(c): the paper shows the ~120 ppm agglomerate line
# grown and, in some aged samples, < 1% Cs4PbBr6 at 244 ppm, without a table; these
# integrals are our illustrative reading, for the demo's ageing story, not for accuracy tests.
AGED_TABLE2: dict[str, tuple[CsLine, ...]] = {
    "NC12.8-aged": _aged("NC12.8", bulk_percent=28.0, cs4pbbr6_percent=0.8),
    "NC8.9-aged": _aged("NC8.9", bulk_percent=12.0, cs4pbbr6_percent=0.0),
}

# Paper's layer model: core boundary ~2.3 nm and middle/surface boundary ~0.8 nm below
# the surface (text under Figure 3).
LAYER_CORE_DEPTH_NM = 2.3
LAYER_SURFACE_DEPTH_NM = 0.8


@dataclass(frozen=True)
class XpsRatios:
    cs_pb: float
    br_pb: float
    n_pb: float


# Figure 5(a) as read (see the module docstring); N/Pb within the stated 0.3-0.5.
XPS_RATIOS: dict[str, XpsRatios] = {
    "NC12.8": XpsRatios(0.96, 3.5, 0.30),
    "NC10.4": XpsRatios(0.86, 3.8, 0.45),
    "NC9.9": XpsRatios(0.90, 3.6, 0.40),
    "NC8.9": XpsRatios(0.89, 3.4, 0.35),
    "NC8.3": XpsRatios(0.88, 3.3, 0.40),
    "NC7.7": XpsRatios(0.86, 3.5, 0.50),
    "NC6.4": XpsRatios(0.84, 3.7, 0.45),
}

# 31P quantification of NC8.3 (paper: OPA 0.03 wt%, < 1 ligand per particle).
OPA_WT_PERCENT_NC83 = 0.03
OPA_MOLAR_MASS_G_MOL = 194.21  # octylphosphonic acid C8H19O3P
