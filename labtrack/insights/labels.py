"""Human names for quantity kinds in the trends picker (issue 12 item 5).

Routines report machine names (`integral_percent`, `mean_diameter_nm`); a chemist picks
"133Cs line fraction — bulk". Known names are listed here; any other name is spelled out
from its own words with the unit suffix dropped (`fwhm_hz` -> "FWHM"), so a new
routine's numbers appear readable without an edit here. When the registry declares
labels per quantity (issue 12 item 1), read them from there instead.
"""
from __future__ import annotations

from dataclasses import dataclass

from labtrack.measurements.models import Technique

LABELS = {
    "integral_percent": "Line fraction",
    "shift_ppm": "Shift",
    "fwhm_hz": "Line width (FWHM)",
    "fwhm_khz": "Line width (FWHM)",
    "mean_diameter_nm": "Mean diameter",
    "sd_diameter_nm": "Diameter spread (SD)",
    "mode_diameter_nm": "Modal diameter",
    "volume_weighted_diameter_nm": "Volume-weighted diameter",
    "polydispersity_percent": "Polydispersity",
    "crystallite_size_nm": "Scherrer crystallite size",
    "williamson_hall_size_nm": "Williamson-Hall size",
    "microstrain_percent": "Microstrain",
    "lattice_a_angstrom": "Lattice parameter a",
    "two_theta_deg": "Peak position 2θ",
    "fwhm_deg": "Peak width (FWHM)",
    "size_nm": "Size from this peak",
    "cs_pb": "Cs/Pb atomic ratio",
    "br_pb": "Br/Pb atomic ratio",
    "cs_br": "Cs/Br atomic ratio",
    "binding_energy_ev": "Binding energy",
    "fwhm_ev": "Peak width (FWHM)",
    "atomic_percent": "Atomic fraction",
    "peak_wavelength_nm": "PL peak wavelength",
    "fwhm_nm": "PL width (FWHM)",
    "t1_s": "T1 relaxation time",
    "reduced_chi2": "Reduced χ² of the fit",
    "n_components": "Number of lines",
    "n_particles": "Particles counted",
    "shell_thickness_nm": "Surface layer thickness",
}
_UNIT_SUFFIXES = ("percent", "nm", "ppm", "hz", "khz", "deg", "ev", "s", "ms", "angstrom", "molar", "per", "cm", "rel")
_UPPER = {"fwhm": "FWHM", "pl": "PL", "t1": "T1", "t2": "T2", "sd": "SD", "nmr": "NMR"}


def _spelled(name: str) -> str:
    words = name.split("_")
    while len(words) > 1 and words[-1].lower() in _UNIT_SUFFIXES:
        words.pop()
    text = " ".join(_UPPER.get(w.lower(), w) for w in words)
    return text[:1].upper() + text[1:]


def quantity_label(name: str, assignment: str = "") -> str:
    """e.g. ("integral_percent", "bulk") -> "Line fraction — bulk"."""
    label = LABELS.get(name) or _spelled(name)
    return f"{label} — {assignment}" if assignment else label


@dataclass(frozen=True)
class QuantityChoice:
    technique: str
    routine: str
    name: str
    assignment: str
    unit: str
    label: str
    technique_label: str

    @property
    def value(self) -> str:
        """The picker's option value: name|assignment|routine."""
        return f"{self.name}|{self.assignment}|{self.routine}"


def quantity_choice(technique: str, routine: str, name: str, assignment: str, unit: str) -> QuantityChoice:
    technique_label = dict(Technique.choices).get(technique, technique.upper() or "Other")
    return QuantityChoice(technique=technique, routine=routine, name=name, assignment=assignment, unit=unit,
                          label=quantity_label(name, assignment), technique_label=technique_label)
