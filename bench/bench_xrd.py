"""Powder XRD: reading a real Bruker .brml and the Scherrer fit of a nanocrystal pattern."""
from __future__ import annotations

from pathlib import Path

from bench import benchmark

# The project's copy (tests/data, Apache-2.0), else the team's shared/data.
_ROOT = Path(__file__).resolve().parents[1]
_NAME = "Si-Std_SRM640d_D8D_20-97_7_16hm.brml"
SI_BRML = _ROOT / "tests" / "data" / "xrd" / _NAME
if not SI_BRML.exists():
    SI_BRML = _ROOT / ".." / "shared" / "data" / "xrd" / _NAME


@benchmark("xrd.scherrer", target_s=0.3)
def scherrer_nc83():
    """xrd.scherrer on a synthetic NC8.3 pattern (10-60°, 0.02° step, Kα doublet, markers fitted)."""
    from analysis.synthetic.xrd import powder_pattern
    from analysis.xrd import scherrer

    pattern = powder_pattern("NC8.3", seed=0)
    return lambda: scherrer(pattern, instrument_fwhm_deg=0.06)


@benchmark("xrd.read_brml", target_s=0.3)
def read_real_brml():
    """Read the real D8 DAVINCI SRM 640d .brml (9227 points, 400 kB of XML in a zip)."""
    from analysis.io.brml import read_brml

    if not SI_BRML.exists():
        return {"skipped": f"{SI_BRML} not found"}
    return lambda: read_brml(str(SI_BRML))


@benchmark("xrd.read_raw", target_s=0.05)
def read_real_raw():
    """Read a real Bruker RAW1.01 scan (2374 points; tests/data/xrd/BT86.raw from xylib)."""
    from analysis.io.bruker_raw import read_bruker_raw

    path = _ROOT / "tests" / "data" / "xrd" / "BT86.raw"
    if not path.exists():
        return {"skipped": f"{path} not found"}
    return lambda: read_bruker_raw(str(path))
