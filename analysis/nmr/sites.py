"""The editable site library: where each known environment sits and how wide it is.

A library is a dict `{assignment: {"shift_ppm": ..., "tol_ppm": ..., "fwhm_khz": [lo, hi]}}`
(optionally `"report_absent": true`: its absence is a finding worth a warning).
`shift_ppm` is the starting position, the fit keeps the line within +-`tol_ppm` of it,
and `fwhm_khz` bounds its width. The 133Cs defaults are from Hooper et al. (Table 2 and
the text: ligand-adjacent ~160, bulk ~120, core ~116, middle ~108, surface ~95 ppm;
Cs4PbBr6 ~244 ppm); the width ranges bracket Table 2's values with room to spare.
"""
from __future__ import annotations

from typing import Any

from analysis.nuclei import normalise_nucleus
from analysis.result import InputError

CS133_SITES: dict[str, dict[str, Any]] = {
    "Cs4PbBr6": {"shift_ppm": 244.0, "tol_ppm": 6.0, "fwhm_khz": [0.1, 2.0]},
    "ligand-adjacent": {"shift_ppm": 160.0, "tol_ppm": 5.0, "fwhm_khz": [1.2, 3.6]},
    "bulk": {"shift_ppm": 120.0, "tol_ppm": 4.0, "fwhm_khz": [0.1, 0.5]},
    "core": {"shift_ppm": 116.0, "tol_ppm": 4.0, "fwhm_khz": [0.4, 1.1]},
    "middle": {"shift_ppm": 108.0, "tol_ppm": 4.0, "fwhm_khz": [0.8, 2.2]},
    "surface": {"shift_ppm": 95.0, "tol_ppm": 4.0, "fwhm_khz": [1.3, 3.2]},
}

# The paper's other nuclei (Hooper et al., Figure 4 and its text; 14.1 T, MAS 12-14 kHz).
# 13C CP: DDA+ NCH2/NCH3 near 62/55 ppm on the NC (pure DDAB's NCH3 sits ~6 ppm lower);
# octanoic acid's COOH (178 ppm) is looked for because its absence is the finding. The
# alkyl chain (RCH2 ~30, CH3 ~14 ppm) is standard dodecyl 13C, not from the paper.
C13_SITES: dict[str, dict[str, Any]] = {
    "OctA COOH": {"shift_ppm": 178.0, "tol_ppm": 4.0, "fwhm_khz": [0.05, 1.5], "report_absent": True},
    "DDA NCH2": {"shift_ppm": 62.0, "tol_ppm": 3.0, "fwhm_khz": [0.05, 1.5]},
    "DDA NCH3": {"shift_ppm": 55.0, "tol_ppm": 3.5, "fwhm_khz": [0.05, 1.5]},
    "DDA RCH2": {"shift_ppm": 30.0, "tol_ppm": 5.0, "fwhm_khz": [0.05, 2.0]},
    "DDA CH3": {"shift_ppm": 14.0, "tol_ppm": 3.0, "fwhm_khz": [0.05, 1.5]},
}
# 1H MAS: DDA+ N-adjacent NCH2/NCH3 at 3.5 ppm, alkyl RCH2 at 1.2 ppm (integral 1 : 4).
H1_SITES: dict[str, dict[str, Any]] = {
    "DDA NCH2/NCH3": {"shift_ppm": 3.5, "tol_ppm": 0.8, "fwhm_khz": [0.1, 3.0]},
    "DDA RCH2": {"shift_ppm": 1.2, "tol_ppm": 0.6, "fwhm_khz": [0.1, 3.0]},
}
# 31P: mono-ionic OPA bound to the surface ~25 ppm; free TOPO 48 ppm (Figure S10).
P31_SITES: dict[str, dict[str, Any]] = {
    "TOPO": {"shift_ppm": 48.0, "tol_ppm": 4.0, "fwhm_khz": [0.05, 3.0], "report_absent": True},
    "OPA (bound)": {"shift_ppm": 25.0, "tol_ppm": 5.0, "fwhm_khz": [0.05, 4.0]},
}

DEFAULT_LIBRARIES: dict[str, dict[str, dict[str, Any]]] = {
    "133Cs": CS133_SITES, "13C": C13_SITES, "1H": H1_SITES, "31P": P31_SITES}
# Named ratios of assigned integrals a routine reports when both lines are present.
INTEGRAL_RATIOS: dict[str, list[tuple[str, str, str]]] = {
    "1H": [("nch_to_rch2_ratio", "DDA NCH2/NCH3", "DDA RCH2")],   # paper: 1 : 4
    "13C": [("nch2_to_nch3_ratio", "DDA NCH2", "DDA NCH3")],
}


def library_for(nucleus: str, override: dict | None) -> dict[str, dict[str, Any]]:
    """The site library to use: `override` if given (checked), else the nucleus default
    (empty for nuclei without one). Sorted by descending shift."""
    raw = override if override is not None else DEFAULT_LIBRARIES.get(normalise_nucleus(nucleus), {})
    if not isinstance(raw, dict):
        raise InputError("site_library must be an object {assignment: {shift_ppm, ...}}")
    out = {}
    for name, site in raw.items():
        if isinstance(site, (int, float)):
            site = {"shift_ppm": float(site)}
        if not isinstance(site, dict) or "shift_ppm" not in site:
            raise InputError(f"site_library entry {name!r} needs at least a shift_ppm")
        lo, hi = site.get("fwhm_khz", [0.05, 10.0])
        if not 0 < lo < hi:
            raise InputError(f"site_library entry {name!r}: fwhm_khz must be [low, high] > 0")
        out[str(name)] = {"shift_ppm": float(site["shift_ppm"]),
                          "tol_ppm": float(site.get("tol_ppm", 4.0)),
                          "fwhm_khz": [float(lo), float(hi)],
                          "report_absent": bool(site.get("report_absent", False))}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["shift_ppm"]))


def assign(shift_ppm: float, library: dict[str, dict[str, Any]]) -> str:
    """The library site whose window holds `shift_ppm` (nearest centre), else "unassigned"."""
    best, best_d = "unassigned", None
    for name, site in library.items():
        d = abs(shift_ppm - site["shift_ppm"])
        if d <= site["tol_ppm"] + 1e-9 and (best_d is None or d < best_d):
            best, best_d = name, d
    return best
