"""Typed inputs that readers produce and routines consume.

Every object carries its units in field names and a `kind` that routines declare in
`accepts`. `metadata` holds acquisition parameters parsed from the file (JSON-safe values
only: the web app stores it on the Measurement).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass
class InstrumentData:
    kind: ClassVar[str] = ""
    technique: ClassVar[str] = ""  # the measurement technique the kind belongs to
    format: str = ""           # detected file format, e.g. "bruker-topspin", "vamas"
    source: str = ""           # path or name it was read from
    metadata: dict[str, Any] = field(default_factory=dict)

    def shapes(self) -> dict[str, list[int]]:
        """Array names and shapes, for `python -m analysis read`."""
        return {k: list(np.shape(v)) for k, v in vars(self).items() if isinstance(v, np.ndarray)}


@dataclass
class NmrSpectrum(InstrumentData):
    """A processed 1-D NMR spectrum (real part). `ppm` and `intensity` have the same
    order as the file (Bruker: high ppm first). `sf_mhz` converts ppm widths to Hz."""

    kind: ClassVar[str] = "nmr-1d"
    technique: ClassVar[str] = "nmr"
    ppm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nucleus: str = ""          # e.g. "133Cs"
    sf_mhz: float = 0.0        # spectrometer reference frequency of the observed nucleus


@dataclass
class NmrSeries(InstrumentData):
    """A pseudo-2D series (e.g. saturation recovery): one processed row per delay."""

    kind: ClassVar[str] = "nmr-pseudo2d"
    technique: ClassVar[str] = "nmr"
    ppm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (rows, points)
    delays_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nucleus: str = ""
    sf_mhz: float = 0.0


@dataclass
class NmrSpectrum2D(InstrumentData):
    """A processed 2-D correlation spectrum (e.g. 133Cs-1H HETCOR): `intensity` is
    (F1 points, F2 points); both ppm axes in file order (high ppm first). F2 is the
    observed (direct) nucleus, F1 the indirect one."""

    kind: ClassVar[str] = "nmr-2d"
    technique: ClassVar[str] = "nmr"
    ppm_f2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ppm_f1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    nucleus_f2: str = ""
    nucleus_f1: str = ""
    sf_f2_mhz: float = 0.0
    sf_f1_mhz: float = 0.0


@dataclass
class SaxsCurve(InstrumentData):
    kind: ClassVar[str] = "saxs-curve"
    technique: ClassVar[str] = "saxs"
    q_per_nm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sigma: np.ndarray | None = None


@dataclass
class Micrograph(InstrumentData):
    kind: ClassVar[str] = "micrograph"
    technique: ClassVar[str] = "tem"
    image: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    pixel_size_nm: float = 0.0


@dataclass
class PowderPattern(InstrumentData):
    """A powder diffraction scan sorted by increasing 2θ. `wavelengths_angstrom` lists
    the emission lines present (Kα1 only, or Kα1 and Kα2 with `ka2_ratio`)."""

    kind: ClassVar[str] = "powder-pattern"
    technique: ClassVar[str] = "xrd"
    two_theta_deg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wavelengths_angstrom: tuple[float, ...] = (1.540598, 1.544426)
    ka2_ratio: float = 0.5     # I(Kα2)/I(Kα1); 0 when a monochromator removes Kα2


@dataclass
class XpsRegion:
    """One core-level region. `binding_energy_ev` ascending; counts per channel."""

    name: str                  # e.g. "Cs 3d", as written in the file
    binding_energy_ev: np.ndarray
    counts: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class XpsSpectra(InstrumentData):
    kind: ClassVar[str] = "xps-spectra"
    technique: ClassVar[str] = "xps"
    regions: list[XpsRegion] = field(default_factory=list)

    def shapes(self) -> dict[str, list[int]]:
        return {r.name: list(r.counts.shape) for r in self.regions}


@dataclass
class PlSpectrum(InstrumentData):
    """An emission spectrum on a wavelength axis (energy-axis files are converted with
    the Jacobian by the reader so that `intensity` is per nm)."""

    kind: ClassVar[str] = "pl-spectrum"
    technique: ClassVar[str] = "pl"
    wavelength_nm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intensity: np.ndarray = field(default_factory=lambda: np.zeros(0))


def technique_of_kind(kind: str) -> str:
    """The technique ("nmr", "saxs", ...) that data of `kind` comes from; "" if unknown."""
    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return next((c.technique for c in walk(InstrumentData) if c.kind == kind), "")
