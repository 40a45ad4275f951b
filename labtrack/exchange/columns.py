"""What a spreadsheet column can fill in LabTrack, the units LabTrack stores, and how a
unit written in a header ("OPA (mM)") is recognised and converted. Pure data and
functions: no database."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from labtrack.samples.models import Atmosphere, BatchStatus, Light, SampleForm

EXTRA = "batch.extra"  # a protocol's extra parameter, named by the column itself


@dataclass(frozen=True)
class Target:
    """One LabTrack field a column may fill. `key` is "batch.<field>" or "sample.<field>";
    `unit` is the unit LabTrack stores (in the field's name), `dimension` what may be
    converted to it."""

    key: str
    label: str
    kind: str  # text, number, integer, datetime, choice, protocol, code, parent, extra
    unit: str = ""
    dimension: str = ""
    aliases: tuple[str, ...] = ()
    choices: type | None = None
    example: str = ""

    @property
    def owner(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field_name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def header(self) -> str:
        """The template's header: the label with LabTrack's unit, e.g. "OPA concentration (M)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


TARGETS: tuple[Target, ...] = (
    Target("batch.code", "Batch code", "code", aliases=("batch", "synthesis", "synthesis code", "batch id"),
           example="NC8.3"),
    Target("batch.protocol", "Protocol", "protocol", aliases=("protocol name", "procedure"), example="CsPbBr3 hot injection v2"),
    Target("batch.synthesised_at", "Synthesised at", "datetime",
           aliases=("synthesis date", "date", "synthesised", "synthesized at", "synthesized"), example="2024-03-05 14:30"),
    Target("batch.status", "Status", "choice", choices=BatchStatus, aliases=("batch status",), example="complete"),
    Target("batch.opa_concentration_molar", "OPA concentration", "number", "M", "concentration",
           aliases=("opa", "opa conc", "[opa]", "opa concentration"), example="0.1"),
    Target("batch.reaction_duration_s", "Reaction duration", "number", "s", "time",
           aliases=("reaction time", "duration", "growth time"), example="60"),
    Target("batch.temperature_c", "Temperature", "number", "°C", "temperature",
           aliases=("t", "temp", "reaction temperature"), example="25"),
    Target("batch.cs_octanoate_volume_ul", "Cs-octanoate volume", "number", "µL", "volume",
           aliases=("cs-octanoate", "cs octanoate", "cs-oct", "cs oct volume"), example="200"),
    Target("batch.pbbr2_solution_volume_ml", "PbBr2 solution volume", "number", "mL", "volume",
           aliases=("pbbr2", "pbbr2 solution", "pbbr2 volume"), example="2"),
    Target("batch.ddab_solution_volume_ul", "DDAB solution volume", "number", "µL", "volume",
           aliases=("ddab", "ddab solution", "ddab volume"), example="500"),
    Target("batch.quench_time_s", "DDAB quench time", "number", "s", "time", aliases=("quench time", "quench"),
           example="30"),
    Target("batch.washing_steps", "Washing steps", "integer", aliases=("washes", "wash steps", "washing"), example="2"),
    Target("batch.washing_notes", "Washing notes", "text", aliases=("wash notes",)),
    Target("batch.drying", "Drying", "text", aliases=("dried",), example="air, 15 min"),
    Target("batch.notes", "Batch notes", "text", aliases=("synthesis notes", "notes", "comment", "comments")),
    Target("sample.code", "Sample code", "code", aliases=("sample", "sample id", "aliquot"), example="NC8.3-P"),
    Target("sample.form", "Sample form", "choice", choices=SampleForm, aliases=("form", "type"), example="powder"),
    Target("sample.prepared_at", "Prepared at", "datetime", aliases=("prepared", "preparation date"),
           example="2024-03-05 16:00"),
    Target("sample.parent", "Parent sample", "parent", aliases=("parent", "made from")),
    Target("sample.storage_location", "Storage location", "text", aliases=("location", "storage")),
    Target("sample.atmosphere", "Atmosphere", "choice", choices=Atmosphere, aliases=("storage atmosphere",),
           example="air"),
    Target("sample.storage_temperature_c", "Storage temperature", "number", "°C", "temperature",
           aliases=("storage temp",)),
    Target("sample.light", "Light", "choice", choices=Light, aliases=("light exposure",), example="dark"),
    Target("sample.mass_mg", "Mass", "number", "mg", "mass", aliases=("sample mass", "weight"), example="12.5"),
    Target("sample.notes", "Sample notes", "text", aliases=("aliquot notes",)),
    Target(EXTRA, "Protocol extra parameter (named by the column)", "extra"),
)
TARGETS_BY_KEY = {t.key: t for t in TARGETS}
TEMPLATE_TARGETS = tuple(t for t in TARGETS if t.key != EXTRA)


def normalise_name(text: str) -> str:
    """A column name as it is remembered: lower case, single spaces, µ spelled one way."""
    text = (text or "").replace("\u03bc", "\u00b5").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for t in TARGETS:
        if t.key == EXTRA:
            continue
        for name in (t.label, t.header, t.field_name, t.key, *t.aliases):
            index.setdefault(normalise_name(name), t.key)
    return index


ALIASES = _alias_index()


# Factors to LabTrack's unit of each dimension (temperature: offsets, below).
_SCALES: dict[str, dict[str, float]] = {
    "concentration": {"M": 1.0, "mol/L": 1.0, "mol/l": 1.0, "mol L-1": 1.0, "mM": 1e-3, "mmol/L": 1e-3,
                      "mmol/l": 1e-3, "µM": 1e-6, "nM": 1e-9},
    "volume": {"L": 1e6, "l": 1e6, "mL": 1e3, "ml": 1e3, "µL": 1.0, "µl": 1.0, "nL": 1e-3},
    "time": {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0, "h": 3600.0, "hours": 3600.0,
             "ms": 1e-3},
    "mass": {"kg": 1e6, "g": 1e3, "mg": 1.0, "µg": 1e-3},
}
# Each dimension's scale is relative to the unit named here; converting to a field's unit
# divides by that unit's own scale, so "mL" → µL and "µL" → mL both work.
_TEMPERATURE_OFFSETS = {"°C": 0.0, "C": 0.0, "degC": 0.0, "K": -273.15}


def _clean_unit(unit: str) -> str:
    unit = unit.strip().replace("\u03bc", "\u00b5").replace("\u00a0", " ")
    if re.match(r"^u[A-Za-z]", unit):  # uL, uM, ug: the keyboard's µ
        unit = "\u00b5" + unit[1:]
    return unit.replace("º", "°").replace("deg C", "degC").replace("° C", "°C")


def dimension_of(unit: str) -> str:
    """Which dimension a unit measures ("" if LabTrack does not know it)."""
    unit = _clean_unit(unit)
    if unit in _TEMPERATURE_OFFSETS:
        return "temperature"
    for dimension, scales in _SCALES.items():
        if unit in scales:
            return dimension
    folded = unit.casefold()
    found = {d for d, scales in _SCALES.items() for u in scales if u.casefold() == folded}
    return found.pop() if len(found) == 1 else ""


def _scale(dimension: str, unit: str) -> float | None:
    scales = _SCALES[dimension]
    if unit in scales:
        return scales[unit]
    matches = [v for u, v in scales.items() if u.casefold() == unit.casefold()]
    return matches[0] if len(set(matches)) == 1 else None


def converter(target: Target, unit: str) -> tuple[Callable[[float], float] | None, str]:
    """(function turning a value in `unit` into the target's unit, problem). No unit means
    the target's own unit. The problem names the column's unit, what the field measures
    and the units LabTrack can convert."""
    if not unit:
        return (lambda v: v), ""
    unit = _clean_unit(unit)
    if target.kind != "number":
        return None, f"{target.label} has no unit, but the header gives one ({unit})."
    known = sorted(_TEMPERATURE_OFFSETS) if target.dimension == "temperature" else sorted(_SCALES[target.dimension])
    if target.dimension == "temperature":
        if unit not in _TEMPERATURE_OFFSETS:
            return None, _refusal(target, unit, known)
        offset = _TEMPERATURE_OFFSETS[unit]
        return (lambda v: v + offset), ""
    source, wanted = _scale(target.dimension, unit), _scale(target.dimension, target.unit)
    if source is None or wanted is None:
        return None, _refusal(target, unit, known)
    factor = source / wanted
    return (lambda v: v * factor), ""


def _refusal(target: Target, unit: str, known: list[str]) -> str:
    other = dimension_of(unit)
    what = f"{unit} is a unit of {other}" if other else f"LabTrack does not know the unit {unit}"
    return (f"{what}, but {target.label} is a {target.dimension} stored in {target.unit}; "
            f"use one of {', '.join(known)} in the header, or no unit for {target.unit}.")


_HEADER_UNIT = re.compile(r"^(?P<base>.*?)\s*[\(\[](?P<unit>[^()\[\]]{1,20})[\)\]]\s*$")


@dataclass
class Header:
    """A header split into its name and the unit in brackets, if any."""

    text: str
    base: str
    unit: str = ""
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = normalise_name(self.base)


def split_header(text: str) -> Header:
    text = "" if text is None else str(text).strip()
    match = _HEADER_UNIT.match(text)
    if match and match.group("base"):
        return Header(text, match.group("base").strip(), match.group("unit").strip())
    return Header(text, text)
