"""How each routine's quantities read to a person: a label, the unit as shown, and a kind.

Declared once here and read through the registry (`Routine.quantity_label(name)`), so
every page, export header and report names a number the same way. A routine may
override a shared entry (`ROUTINE_OVERRIDES`) where the same name means something more
specific for it.

Kinds:
  measure  a number with a unit; SI prefixes are chosen for display where natural (s, Hz, eV)
  count    an integer ("Reflections used: 12")
  ratio    a dimensionless number
  flag     a yes/no answer
  list     a list of items (XRD marker reflections)
  text     a word or label
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("measure", "count", "ratio", "flag", "list", "text")


@dataclass(frozen=True)
class QuantityLabel:
    label: str          # "Mean diameter", "T1", "Size is a lower bound"
    kind: str = "measure"
    unit: str = ""      # the unit as stored ("" = the unit the result carries)


def _m(label: str, unit: str = "") -> QuantityLabel:
    return QuantityLabel(label, "measure", unit)


QUANTITY_LABELS: dict[str, QuantityLabel] = {
    # sizes (SAXS, TEM, XRD, NMR layer model)
    "mean_diameter_nm": _m("Mean diameter", "nm"),
    "sd_diameter_nm": _m("Size spread (SD)", "nm"),
    "volume_weighted_mean_diameter_nm": _m("Volume-weighted mean diameter", "nm"),
    "n_particles": QuantityLabel("Particles counted", "count"),
    "crystallite_size_nm": _m("Crystallite size (Scherrer)", "nm"),
    "williamson_hall_size_nm": _m("Crystallite size (Williamson–Hall)", "nm"),
    "microstrain_percent": _m("Microstrain", "%"),
    "size_lower_bound": QuantityLabel("Size is a lower bound", "flag"),
    "nmr_diameter_nm": _m("NMR diameter", "nm"),
    "core_boundary_depth_nm": _m("Core boundary depth", "nm"),
    "middle_boundary_depth_nm": _m("Middle-layer boundary depth", "nm"),
    "volume_fraction": QuantityLabel("Volume fraction", "ratio"),
    "scale": _m("Scale factor"),
    "background": _m("Background level"),
    # XRD
    "orthorhombic_markers": QuantityLabel("Orthorhombic marker reflections", "list"),
    "orthorhombic_marker_max_percent": _m("Strongest orthorhombic marker", "%"),
    "orthorhombic_phase_evident": QuantityLabel("Orthorhombic phase evident", "flag"),
    "n_reflections": QuantityLabel("Reflections used", "count"),
    "lattice_a_angstrom": _m("Lattice parameter a", "Å"),
    "two_theta_deg": _m("2θ position", "°"),
    "fwhm_deg": _m("FWHM", "°"),
    "sample_fwhm_deg": _m("Sample FWHM", "°"),
    "size_nm": _m("Size", "nm"),
    "hkl": QuantityLabel("hkl", "text"),
    "two_theta_offset_deg": _m("2θ offset", "°"),
    "caglioti_u": _m("Caglioti U"),
    "caglioti_v": _m("Caglioti V"),
    "caglioti_w": _m("Caglioti W"),
    "fwhm_at_28_deg": _m("FWHM at 28° 2θ", "°"),
    "instrument_eta": QuantityLabel("Instrument Lorentzian fraction η", "ratio"),
    "eta": QuantityLabel("Lorentzian fraction η", "ratio"),
    # NMR
    "shift_ppm": _m("Shift", "ppm"),
    "fwhm_hz": _m("Line width (FWHM)", "Hz"),
    "integral_percent": _m("Integral", "%"),
    "n_components": QuantityLabel("Components", "count"),
    "t1_s": _m("T1", "s"),
    "beta": QuantityLabel("Stretch exponent β", "ratio"),
    "inversion_depth": QuantityLabel("Inversion depth", "ratio"),
    "snr": QuantityLabel("Signal-to-noise", "ratio"),
    "shift_f1_ppm": _m("Shift F1", "ppm"),
    "shift_f2_ppm": _m("Shift F2", "ppm"),
    "fwhm_f1_hz": _m("Line width F1", "Hz"),
    "fwhm_f2_hz": _m("Line width F2", "Hz"),
    "volume_percent": _m("Cross-peak volume", "%"),
    "n_correlations": QuantityLabel("Cross peaks", "count"),
    "correlated_f2_sites": QuantityLabel("Correlated 133Cs sites", "list"),
    "moles": _m("Amount", "mol"),
    "ligand_wt_percent": _m("Ligand content", "wt%"),
    "ligands_per_particle": QuantityLabel("Ligands per particle", "ratio"),
    # PL
    "peak_wavelength_nm": _m("Peak wavelength", "nm"),
    "fwhm_nm": _m("FWHM", "nm"),
    "peak_energy_ev": _m("Peak energy", "eV"),
    "fwhm_mev": _m("FWHM (energy)", "meV"),
    # XPS
    "position_ev": _m("Binding energy", "eV"),
    "area": _m("Peak area"),
    "rsf": QuantityLabel("Sensitivity factor (RSF)", "ratio"),
    "charge_shift_ev": _m("Charge correction", "eV"),
}

# Same name, more specific meaning for one routine.
ROUTINE_OVERRIDES: dict[tuple[str, str], QuantityLabel] = {
    ("pl.peak", "fwhm_nm"): _m("Emission FWHM", "nm"),
}

# Families of names made at run time (one per element, one per integral ratio).
_PATTERNS: tuple[tuple[re.Pattern, callable], ...] = (
    (re.compile(r"^([a-z]{1,2})_pb$"), lambda m: QuantityLabel(f"{m[1].capitalize()}/Pb atomic ratio", "ratio")),
    (re.compile(r"^at_percent_([a-z]{1,2})$"), lambda m: _m(f"{m[1].capitalize()} atomic fraction", "%")),
    (re.compile(r"^(.+)_to_(.+)_ratio$"), lambda m: QuantityLabel(
        f"{_words(m[1])} : {_words(m[2])} ratio", "ratio")),
)

# Unit suffixes of quantity names (STYLE.md: units in names), dropped from fallback labels.
_UNIT_SUFFIXES = ("_nm", "_s", "_ppm", "_percent", "_hz", "_ev", "_mev", "_deg", "_angstrom", "_molar", "_ms")


def _words(text: str) -> str:
    return text.replace("_", " ")


def fallback_label(name: str) -> QuantityLabel:
    """A readable label for a name nobody declared: unit suffix dropped, words spaced."""
    stem = name
    for suffix in _UNIT_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    words = _words(stem).strip() or name
    kind = "count" if words.startswith("n ") else "measure"
    if kind == "count":
        words = words[2:] + " (count)"
    return QuantityLabel(words[0].upper() + words[1:], kind)


def label_for(routine: str, name: str) -> QuantityLabel:
    """The declared label of `name` as `routine` reports it (override, table, family, fallback)."""
    if (routine, name) in ROUTINE_OVERRIDES:
        return ROUTINE_OVERRIDES[(routine, name)]
    if name in QUANTITY_LABELS:
        return QUANTITY_LABELS[name]
    for pattern, make in _PATTERNS:
        match = pattern.match(name)
        if match:
            return make(match)
    return fallback_label(name)
