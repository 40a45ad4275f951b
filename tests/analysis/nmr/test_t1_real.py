"""nmr.t1 on a real inversion-recovery experiment against TopSpin's own T1 report.

tests/data/topspin/cyclosporin-t1ir: 1H t1ir at 600 MHz, 10 delays; TopSpin's T1/T2
module fitted I(t) = I0 + P exp(-t/T1) per peak and wrote ct1t2.txt. The peaks checked are
well separated from their neighbours, so a one-region fit in LabTrack is comparable.
"""
import re
from pathlib import Path

import pytest

from analysis.io import read
from analysis.nmr.t1 import t1

EXPERIMENT = Path(__file__).resolve().parents[2] / "data" / "topspin" / "cyclosporin-t1ir" / "1"


def topspin_t1_report() -> dict[float, float]:
    """{peak ppm: T1 s} from TopSpin's ct1t2.txt (values like '1.397s' or '857.107m')."""
    text = (EXPERIMENT / "pdata" / "1" / "ct1t2.txt").read_text(encoding="latin-1")
    out = {}
    for ppm, value, unit in re.findall(r"Peak Point at ([\d.]+) ppm.*?T1\s*=\s*([\d.]+)(m?)s?", text, re.S):
        out[float(ppm)] = float(value) * (1e-3 if unit == "m" else 1.0)
    return out


@pytest.fixture(scope="module")
def report():
    values = topspin_t1_report()
    assert len(values) == 13  # the report lists 13 peaks
    return values


@pytest.mark.parametrize("source", ["fid", "processed"])
@pytest.mark.parametrize("peak_ppm, window", [(4.338, [4.2, 4.5]), (3.156, [3.0, 3.3]),
                                              (0.972, [0.93, 1.02])])
def test_t1_matches_topspins_report_within_5_percent(report, source, peak_ppm, window):
    series = read(str(EXPERIMENT), source=source)
    # Cyclosporin, not a DDAB-capped NC: the lab's default 1H site library does not apply.
    result = t1(series, fit_range_ppm=window, site_library={})
    nearest = min(result.components, key=lambda c: abs(c.quantities["shift_ppm"].value - peak_ppm))
    assert nearest.quantities["shift_ppm"].value == pytest.approx(peak_ppm, abs=0.01)
    got = nearest.quantities["t1_s"]
    assert got.value == pytest.approx(report[peak_ppm], rel=0.05)
    assert 0 < got.stderr < 0.05 * got.value
    # A real 180 degree pulse inverts by a little less than 2 (TopSpin: -P/I0 = 1.95-1.99).
    assert 1.85 < nearest.quantities["inversion_depth"].value <= 2.05
    assert result.fit["experiment"] == "inversion-recovery"
