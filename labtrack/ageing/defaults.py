"""The issue's default stability-indicating quantities and the two built-in templates."""
from __future__ import annotations

from labtrack.ageing.models import ThresholdKind

# key: (label, routine, quantity name, assignment, unit, threshold kind, amount)
QUANTITIES: dict[str, tuple[str, str, str, str, str, str, float]] = {
    "cs133_bulk_fraction": ("133Cs bulk (120 ppm) fraction", "nmr.deconvolve", "integral_percent", "bulk", "%",
                            ThresholdKind.INCREASE, 5.0),  # +5 percentage points
    "cs4pbbr6_fraction": ("Cs4PbBr6 (244 ppm) fraction", "nmr.deconvolve", "integral_percent", "Cs4PbBr6", "%",
                          ThresholdKind.APPEARS, 0.0),
    "pl_peak": ("PL peak", "pl.peak", "peak_wavelength_nm", "", "nm", ThresholdKind.CHANGE, 3.0),
    "pl_fwhm": ("PL FWHM", "pl.peak", "fwhm_nm", "", "nm", ThresholdKind.RELATIVE_INCREASE, 20.0),
    "xrd_pnma_markers": ("XRD Pnma markers", "xrd.scherrer", "orthorhombic_markers", "", "",
                         ThresholdKind.APPEARS, 0.0),
    "scherrer_size": ("Scherrer size", "xrd.scherrer", "crystallite_size_nm", "", "nm",
                      ThresholdKind.RELATIVE_CHANGE, 10.0),
}

MONTH_DAYS = 30.4375
_ALL = ["nmr", "pl", "xrd"]


def schedule(months: list[float], tolerance_days: float = 3.0, techniques: list[str] | None = None) -> list[dict]:
    """Pull points at t0, 1 week and the given months."""
    points = [{"label": "t0", "offset_days": 0.0, "tolerance_days": 1.0, "techniques": techniques or _ALL},
              {"label": "1 week", "offset_days": 7.0, "tolerance_days": 1.0, "techniques": ["pl"]}]
    points += [{"label": f"{m:g} month{'s' if m != 1 else ''}", "offset_days": round(m * MONTH_DAYS, 2),
                "tolerance_days": tolerance_days if m < 6 else 2 * tolerance_days, "techniques": techniques or _ALL}
               for m in months]
    return points


TEMPLATES = {
    "Ambient air, 6 months": dict(atmosphere="air", temperature_c=25.0, relative_humidity_percent=50.0,
                                  light="ambient", pull_points=schedule([1, 3, 6]), quantities=list(QUANTITIES),
                                  description="Powder on an open bench shelf; the paper's ageing condition."),
    "Glovebox N2, 12 months": dict(atmosphere="n2", temperature_c=25.0, relative_humidity_percent=None,
                                   light="dark", pull_points=schedule([1, 3, 6, 9, 12]),
                                   quantities=list(QUANTITIES),
                                   description="Sealed vial in the N2 glovebox (< 1 ppm O2/H2O)."),
}
