"""NC8.3 written as a Bruker TopSpin experiment, read back and deconvolved by the runner."""
import pytest

from analysis.runner import run_files
from analysis.synthetic import nmr as syn
from analysis.synthetic import paper

topspin = pytest.importorskip("analysis.synthetic.topspin")


def test_nc83_topspin_folder_deconvolves_within_table2_tolerances(tmp_path):
    folder = topspin.write_topspin_1d(tmp_path / "NC8.3", syn.cs133_spectrum("NC8.3", seed=31))
    result = run_files("nmr.deconvolve", [str(folder)])
    got = {c.assignment: c.quantities for c in result.components}
    truth = paper.TABLE2["NC8.3"]
    assert len(got) == len(truth)
    for line in truth:
        q = got[line.assignment]
        shift_tol = 2.0 if line.fwhm_khz > 1.5 else 1.0
        width_tol = 0.25 if line.integral_percent < 10 else 0.15
        assert q["shift_ppm"].value == pytest.approx(line.shift_ppm, abs=shift_tol)
        assert q["fwhm_hz"].value == pytest.approx(line.fwhm_khz * 1e3, rel=width_tol)
        assert q["integral_percent"].value == pytest.approx(line.integral_percent, abs=3.0)


def test_written_p31_pair_quantifies_through_the_runner(tmp_path):
    sample, reference, params = syn.write_p31_pair(str(tmp_path / "p31"), seed=4)
    result = run_files("nmr.quantify", [sample, reference], params)
    assert result.quantities["ligand_wt_percent"].value == pytest.approx(
        paper.OPA_WT_PERCENT_NC83, rel=0.10)


def test_written_saturation_recovery_gives_table2_t1(tmp_path):
    paths = syn.write_cs133_experiments(str(tmp_path / "NC10.4"), "NC10.4", seed=5)
    result = run_files("nmr.t1", [paths["t1"]])
    got = {c.assignment: c.quantities["t1_s"].value for c in result.components}
    assert got["middle"] == pytest.approx(9.9, rel=0.10)
    assert got["surface"] == pytest.approx(4.0, rel=0.10)


def test_noise_only_experiment_is_refused_by_the_cli_in_one_line(tmp_path):
    import subprocess
    import sys

    import numpy as np

    spec = syn.cs133_spectrum("NC8.3")
    spec.intensity = np.random.default_rng(1).normal(0.0, 1e4, spec.intensity.size)
    folder = topspin.write_topspin_1d(tmp_path / "empty", spec)
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "nmr.deconvolve",
                           str(folder)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "no NMR signal above the noise" in proc.stderr
