"""XPS core-line library and relative sensitivity factors (RSF) for atomic ratios.

Doublet area ratios follow the (2j+1) degeneracies (d 3:2, f 4:3); splittings are the
values used for CsPbBr3 (Cs 3d 13.96 eV, Pb 4f 4.86 eV, Br 3d 1.05 eV). Typical binding
energies are those of CsPbBr3 after charge correction to C 1s = 284.8 eV; they only seed
fits, every position is fitted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.result import InputError


@dataclass(frozen=True)
class CoreLine:
    key: str                   # "Cs 3d": element and shell, as region names give them
    main: str                  # label of the main (lower-BE) component, e.g. "3d5/2"
    second: str = ""           # spin-orbit partner ("" for a singlet)
    splitting_ev: float = 0.0  # partner sits this far above the main line
    ratio: float = 0.0         # area(partner) / area(main)
    be_ev: float = 0.0         # typical main-line BE, for seeding only
    fwhm_ev: float = 1.2
    # Extra chemically shifted components (label, offset from main in eV), e.g. C–O in C 1s.
    shifted: tuple[tuple[str, float], ...] = ()

    @property
    def element(self) -> str:
        return self.key.split()[0]


LINES: dict[str, CoreLine] = {line.key: line for line in (
    CoreLine("Cs 3d", "Cs 3d5/2", "Cs 3d3/2", 13.96, 2 / 3, 724.2, 1.3),
    CoreLine("Pb 4f", "Pb 4f7/2", "Pb 4f5/2", 4.86, 3 / 4, 138.4, 1.0),
    CoreLine("Br 3d", "Br 3d5/2", "Br 3d3/2", 1.05, 2 / 3, 68.3, 1.0),
    CoreLine("N 1s", "N 1s (R4N+)", be_ev=402.2, fwhm_ev=1.5),
    CoreLine("C 1s", "C–C/C–H", be_ev=284.8, fwhm_ev=1.3,
             shifted=(("C–O", 1.5), ("O–C=O", 4.0))),
    CoreLine("O 1s", "O 1s", be_ev=532.0, fwhm_ev=1.6),
    CoreLine("P 2p", "P 2p3/2", "P 2p1/2", 0.87, 1 / 2, 133.5, 1.2),
)}

# Kratos RSF library (F 1s = 1, whole doublets), as tabulated in the RSF_K column of
# RxpsG's CoreLinesTable.lib (G. Speranza, github.com/GSperanza/RxpsG). The lab should
# check Cs 3d and Pb 4f against its own ESCApe library before trusting absolute ratios.
KRATOS_RSF: dict[str, float] = {
    "C 1s": 0.278, "N 1s": 0.477, "O 1s": 0.78, "F 1s": 1.0, "P 2p": 0.486,
    "S 2p": 0.668, "Cl 2p": 0.891, "Br 3d": 1.055, "Pb 4f": 8.329, "Cs 3d": 11.735,
}
RSF_TABLES: dict[str, dict[str, float]] = {"kratos": KRATOS_RSF}
RSF_SOURCES = {"kratos": "Kratos library, F 1s = 1 (RxpsG CoreLinesTable.lib, RSF_K column)"}

_KEY = re.compile(r"^\s*([A-Z][a-z]?)\s*(\d[spdfSPDF])")


def line_key(name: str) -> str | None:
    """'Cs 3d', 'Cs3d5/2', 'Pb 4f ' -> 'Cs 3d' / 'Pb 4f'; None for a survey or unknown."""
    m = _KEY.match(name)
    return f"{m.group(1)} {m.group(2).lower()}" if m else None


def line_for(key: str) -> CoreLine:
    """The library entry, or a singlet seeded from nothing for an unlisted core level."""
    return LINES.get(key) or CoreLine(key, key)


def rsf_table(scale: str, overrides: dict | None, keys: list[str]) -> dict[str, float]:
    """RSFs for `keys` on one scale. `overrides` replace entries of the built-in table of
    that scale; a scale without a built-in table needs every RSF given, so values from
    different scales never mix."""
    base = RSF_TABLES.get(scale)
    if base is None and not overrides:
        raise InputError(f"rsf_scale {scale!r} has no built-in table (known: "
                         f"{', '.join(RSF_TABLES)}); give every region's RSF in rsf")
    table = dict(base or {})
    for name, value in (overrides or {}).items():
        if "/" in str(name):
            raise InputError(f"give RSFs for whole lines such as 'Cs 3d', not {name!r}: the "
                             "areas here include both spin-orbit components")
        key = line_key(str(name)) or str(name)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InputError(f"rsf for {name!r} should be a number, not {value!r}") from None
        if value <= 0:
            raise InputError(f"rsf for {name!r} must be positive, not {value}")
        table[key] = value
    missing = [k for k in keys if k not in table]
    if missing and base is None:
        raise InputError(f"rsf_scale {scale!r} has no built-in table: give RSFs for "
                         f"{', '.join(missing)} in rsf")
    return {k: table[k] for k in keys if k in table}
