"""LabTrack's processing of real Bruker fids against TopSpin's own processed spectra.

The synthetic round trips in test_topspin.py share LabTrack's convention with LabTrack's
writer, so they cannot catch a wrong sign; these experiments (tests/data/README.md) were
processed by TopSpin itself on three spectrometers (300, 400 and 600 MHz; old DSPFVS 10
and current DSPFVS 20 digital filters; little- and big-endian fids).
"""
from pathlib import Path

import numpy as np
import pytest

from analysis.io import read
from analysis.io.topspin_processing import ProcParams, phase_factor

DATA = Path(__file__).resolve().parents[2] / "data" / "topspin"
STRYCHNINE = DATA / "strychnine-1h" / "10"
ASPIRIN = DATA / "aspirin-1h" / "1"
CYCLOSPORIN_IR = DATA / "cyclosporin-t1ir" / "1"


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("folder", [STRYCHNINE, ASPIRIN], ids=["strychnine-400MHz", "aspirin-300MHz"])
def test_fid_processed_by_labtrack_matches_topspins_1r(folder):
    topspin = read(str(folder), source="processed")
    ours = read(str(folder), source="fid")
    assert ours.intensity.size == topspin.intensity.size
    # TopSpin itself gives 1.0000 here; 0.999 leaves room only for its `abs` baseline
    # (strychnine) - a phase error of a few degrees already costs more than that.
    assert correlation(ours.intensity, topspin.intensity) > 0.999
    # Same axis: the fid axis (SFO1, SW_h, SF) and TopSpin's OFFSET/SW_p agree to a point.
    step = topspin.ppm[0] - topspin.ppm[1]
    assert np.max(np.abs(ours.ppm - topspin.ppm)) < 0.05 * step
    assert ours.ppm[np.argmax(ours.intensity)] == pytest.approx(
        topspin.ppm[np.argmax(topspin.intensity)], abs=step)


def test_the_opposite_phase_sign_would_not_match():
    """Guards the test itself: with PHC0/PHC1 applied the other way (the old bug) the
    same data do not correlate, so the check above is sensitive to the convention."""
    topspin = read(str(STRYCHNINE), source="processed")
    ours = read(str(STRYCHNINE), source="fid")
    si = ours.intensity.size
    params = ProcParams(si=si, sw_hz=1.0, phc0_deg=136.8574, phc1_deg=-21.44858)  # procs values
    # Undo LabTrack's phase on the analytic spectrum and apply the opposite sign instead.
    analytic = _analytic(ours.intensity)
    flipped = (analytic / phase_factor(si, params) ** 2).real
    assert correlation(flipped, topspin.intensity) < 0.5


def _analytic(real: np.ndarray) -> np.ndarray:
    from scipy.signal import hilbert

    return hilbert(real)


def test_ser_rows_processed_by_labtrack_match_topspins_2rr():
    topspin = read(str(CYCLOSPORIN_IR), source="processed")
    ours = read(str(CYCLOSPORIN_IR), source="fid")
    assert ours.intensity.shape == topspin.intensity.shape == (10, 8192)
    np.testing.assert_allclose(ours.delays_s, [10, 5, 4, 3, 2, 1, 0.5, 0.25, 0.1, 0.01])
    for row, (a, b) in enumerate(zip(ours.intensity, topspin.intensity)):
        assert correlation(a, b) > 0.999, f"row {row}"
    assert ours.metadata["experiment"] == "inversion-recovery"


def test_real_metadata_is_read():
    spectrum = read(str(STRYCHNINE))
    meta = spectrum.metadata
    assert spectrum.nucleus == "1H" and meta["source"] == "processed"
    assert spectrum.sf_mhz == pytest.approx(400.13, abs=0.01)
    assert meta["field_t"] == pytest.approx(9.398, abs=0.01)
    assert meta["pulprog"] == "zg30" and meta["nc_proc"] == -6
