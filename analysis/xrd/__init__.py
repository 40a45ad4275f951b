"""Powder XRD: Scherrer / Williamson-Hall crystallite sizes with the orthorhombic (Pnma)
marker reflections (`scherrer`), and the instrument line profile from a standard
(`instrument_profile`). Inside: `model` (reflections, Kα doublet), `fit` (peak windows,
background, noise), `markers`, `plot`.
"""
from analysis.xrd.profile import instrument_profile
from analysis.xrd.scherrer import scherrer

__all__ = ["instrument_profile", "scherrer"]
