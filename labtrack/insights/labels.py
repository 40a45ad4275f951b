"""Quantity kinds as the trends picker offers them (issue 12 item 5): "Integral — bulk"
under "Solid-state NMR". The label itself is the routine's declared one
(analysis/quantity_labels.py, read through labtrack.analyses.presentation), the same on
the batch page, the run page and in exports."""
from __future__ import annotations

from dataclasses import dataclass

from labtrack.analyses.presentation import name_label
from labtrack.measurements.models import Technique


def quantity_label(routine: str, name: str, assignment: str = "") -> str:
    """e.g. ("nmr.deconvolve", "integral_percent", "bulk") -> "Integral — bulk"."""
    label = name_label(routine, name)
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
                          label=quantity_label(routine, name, assignment), technique_label=technique_label)
