"""HETCOR: a 2D TopSpin experiment without a vdlist is read with both axes, and nmr.hetcor
finds the paper's Figure 4d correlations (133Cs 163 and 95 ppm with 1H 3.5 and 1.2 ppm)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from analysis.data import NmrSpectrum2D
from analysis.io import detect_format, read
from analysis.nmr.hetcor import hetcor
from analysis.result import InputError
from analysis.synthetic import nmr as syn
from analysis.synthetic.topspin import write_topspin_hetcor, write_topspin_pseudo2d

EXPECTED = {("ligand-adjacent", "DDA NCH2/NCH3"), ("ligand-adjacent", "DDA RCH2"),
            ("surface", "DDA NCH2/NCH3"), ("surface", "DDA RCH2")}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def hetcor_folder(tmp_path_factory):
    return write_topspin_hetcor(tmp_path_factory.mktemp("hetcor"), syn.hetcor_spectrum(seed=1))


def test_2d_without_vdlist_is_read_with_both_axes(hetcor_folder):
    assert detect_format(str(hetcor_folder)).format == "bruker-topspin-2d-spectrum"
    spectrum = read(str(hetcor_folder))
    truth = syn.hetcor_spectrum(seed=1)
    assert isinstance(spectrum, NmrSpectrum2D) and spectrum.intensity.shape == (128, 1024)
    assert (spectrum.nucleus_f2, spectrum.nucleus_f1) == ("133Cs", "1H")
    np.testing.assert_allclose(spectrum.ppm_f2, truth.ppm_f2, atol=1e-6)
    np.testing.assert_allclose(spectrum.ppm_f1, truth.ppm_f1, atol=1e-6)
    np.testing.assert_allclose(spectrum.intensity, truth.intensity, atol=1e-6 * truth.intensity.max())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_correlations_are_found_and_assigned(seed):
    result = hetcor(syn.hetcor_spectrum(seed=seed))
    got = {tuple(c.assignment.split(" / ")): c.quantities for c in result.components}
    assert set(got) == EXPECTED
    assert result.quantities["correlated_f2_sites"].value == ["ligand-adjacent", "surface"]
    total = sum(v for _, _, v in syn.HETCOR_PEAKS)
    for cs, h, volume in syn.HETCOR_PEAKS:
        q = next(q for q in got.values() if abs(q["shift_f2_ppm"].value - cs) < 5
                 and abs(q["shift_f1_ppm"].value - h) < 0.5)
        assert q["shift_f2_ppm"].value == pytest.approx(cs, abs=1.0)
        assert q["shift_f1_ppm"].value == pytest.approx(h, abs=0.1)
        # Volumes within 2 percentage points of the truth (SNR 60).
        assert q["volume_percent"].value == pytest.approx(100 * volume / total, abs=2.0)


def test_hetcor_through_the_cli_from_a_topspin_folder(hetcor_folder):
    proc = run_cli("run", "nmr.hetcor", str(hetcor_folder), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["quantities"]["n_correlations"]["value"] == 4
    assert {tuple(c["assignment"].split(" / ")) for c in out["components"]} == EXPECTED


def test_noise_only_hetcor_is_an_error():
    with pytest.raises(InputError, match="no cross peak stands 8x above the noise"):
        hetcor(syn.hetcor_spectrum(seed=4, peaks=[]))


def test_pseudo2d_that_lost_its_vdlist_still_says_so(tmp_path):
    series = syn.single_line_series(t1_s=5.0, seed=5)
    series.intensity = series.intensity * (2e8 / np.abs(series.intensity).max())
    folder = write_topspin_pseudo2d(tmp_path, series)
    (folder / "vdlist").unlink()
    with pytest.raises(InputError, match="vdlist is missing"):
        read(str(folder))
