"""xrd.scherrer and xrd.instrument_profile on synthetic truth and the real SRM 640d file."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.io import read
from analysis.result import InputError
from analysis.runner import render_figure, run_files
from analysis.synthetic.paper import BULK_CRYSTALLITE_NM, TABLE1
from analysis.synthetic.xrd import powder_pattern, si_standard_pattern, write_brml, write_xy
from analysis.xrd import scherrer
from analysis.xrd.profile import instrument_profile
from tests.analysis.real_files import real_file

ROOT = Path(__file__).resolve().parents[2]
SI_BRML = real_file("xrd/Si-Std_SRM640d_D8D_20-97_7_16hm.brml")
needs_si = pytest.mark.skipif(not SI_BRML.exists(), reason=f"real SRM 640d file not found at {SI_BRML}")
ALL_MARKERS = {"(102)", "(131)", "(221)"}


def size_of(result):
    return result.quantities["crystallite_size_nm"].value


def marker_hkls(result):
    return {m["hkl"] for m in result.quantities["orthorhombic_markers"].value}


# ---------------------------------------------------------------- Scherrer accuracy
@pytest.mark.parametrize("size_nm", [5.0, *(row.mean_diameter_nm for row in TABLE1[::2]), 15.0])
def test_scherrer_size_within_10_percent_with_doublet_noise_and_instrument(size_nm):
    pattern = powder_pattern("x", size_nm=size_nm, instrument_fwhm_deg=0.06, kalpha2=True, seed=7)
    result = scherrer(pattern, instrument_fwhm_deg=0.06)
    assert size_of(result) == pytest.approx(size_nm, rel=0.10)
    assert 0 < result.quantities["crystallite_size_nm"].stderr < 0.1 * size_nm


def test_scherrer_size_of_kalpha1_only_pattern():
    pattern = powder_pattern("NC10.4", kalpha2=False, seed=2)
    assert size_of(scherrer(pattern, instrument_fwhm_deg=0.06)) == pytest.approx(10.4, rel=0.10)


def test_bulk_crystal_is_reported_as_beyond_100_nm_with_a_warning():
    result = scherrer(powder_pattern("Bulk", seed=1), instrument_fwhm_deg=0.06)
    assert result.quantities["size_lower_bound"].value is True
    assert size_of(result) is None or size_of(result) > 100
    assert any("> 100 nm" in w and "resolution limit" in w for w in result.warnings)
    assert BULK_CRYSTALLITE_NM == 270.0


def test_nanocrystal_is_not_flagged_as_lower_bound():
    result = scherrer(powder_pattern("NC8.3", seed=1), instrument_fwhm_deg=0.06)
    assert result.quantities["size_lower_bound"].value is False
    assert not any("resolution limit" in w for w in result.warnings)


def test_reflections_are_indexed_to_cubic_cspbbr3():
    result = scherrer(powder_pattern("NC12.8", seed=4), instrument_fwhm_deg=0.06)
    by_hkl = {c.quantities["hkl"].value: c for c in result.components}
    assert {"(100)", "(110)", "(200)", "(211)", "(220)"} <= set(by_hkl)
    assert by_hkl["(200)"].quantities["two_theta_deg"].value == pytest.approx(30.43, abs=0.05)
    assert by_hkl["(200)"].assignment == "cubic (200)"
    assert result.quantities["lattice_a_angstrom"].value == pytest.approx(5.87, abs=0.01)


def test_without_instrument_correction_sizes_are_smaller_and_warned():
    pattern = powder_pattern("NC12.8", seed=5)
    raw = scherrer(pattern)
    corrected = scherrer(pattern, instrument_fwhm_deg=0.06)
    assert size_of(raw) < size_of(corrected)
    assert any("lower bounds" in w for w in raw.warnings)


def test_constant_caglioti_matches_constant_instrument_width():
    pattern = powder_pattern("NC9.9", seed=6)
    by_width = scherrer(pattern, instrument_fwhm_deg=0.06)
    by_caglioti = scherrer(pattern, caglioti={"U": 0.0, "V": 0.0, "W": 0.06**2})
    assert size_of(by_caglioti) == pytest.approx(size_of(by_width), rel=1e-6)


def test_williamson_hall_option_adds_size_and_strain():
    result = scherrer(powder_pattern("NC10.4", seed=8), instrument_fwhm_deg=0.06, williamson_hall=True)
    assert result.quantities["williamson_hall_size_nm"].value == pytest.approx(10.4, rel=0.2)
    assert abs(result.quantities["microstrain_percent"].value) < 0.2


def test_williamson_hall_is_absent_by_default():
    result = scherrer(powder_pattern("NC10.4", seed=8), instrument_fwhm_deg=0.06)
    assert "williamson_hall_size_nm" not in result.quantities


def test_giving_both_instrument_width_and_caglioti_is_an_input_error():
    with pytest.raises(InputError, match="either instrument_fwhm_deg or caglioti"):
        scherrer(powder_pattern("NC8.3"), instrument_fwhm_deg=0.06, caglioti={"U": 0, "V": 0, "W": 0.003})


def test_malformed_caglioti_is_an_input_error():
    with pytest.raises(InputError, match="caglioti must look like"):
        scherrer(powder_pattern("NC8.3"), caglioti={"u": 0.1})


def test_flat_pattern_is_an_input_error():
    pattern = powder_pattern("NC8.3")
    pattern.intensity[:] = 1000.0
    with pytest.raises(InputError, match="no diffraction peaks"):
        scherrer(pattern)


# ---------------------------------------------------------------- orthorhombic markers
@pytest.mark.parametrize("size_nm", [10.0, BULK_CRYSTALLITE_NM])
def test_markers_at_5_percent_are_found_with_their_intensity(size_nm):
    pattern = powder_pattern("x", size_nm=size_nm, markers_percent=5.0, seed=11)
    result = scherrer(pattern, instrument_fwhm_deg=0.06)
    markers = result.quantities["orthorhombic_markers"].value
    assert {m["hkl"] for m in markers} == ALL_MARKERS
    for m in markers:
        assert m["relative_intensity_percent"] == pytest.approx(5.0, abs=1.5)
    assert {round(m["two_theta_deg"]) for m in markers} == {24, 27, 29}


@pytest.mark.parametrize("size_nm", [5.0, 8.3, 12.8, BULK_CRYSTALLITE_NM])
def test_no_markers_reported_when_absent(size_nm):
    pattern = powder_pattern("x", size_nm=size_nm, markers_percent=0.0, seed=12)
    result = scherrer(pattern, instrument_fwhm_deg=0.06)
    assert result.quantities["orthorhombic_markers"].value == []
    assert not any(c.assignment.startswith("orthorhombic") for c in result.components)


def test_markers_below_the_threshold_are_reported_but_not_flagged():
    # Issue 15: the lab's threshold sets orthorhombic_phase_evident; it no longer hides
    # significant reflections (this test used to expect an empty list).
    pattern = powder_pattern("NC12.8", markers_percent=5.0, seed=11)
    result = scherrer(pattern, instrument_fwhm_deg=0.06, marker_threshold_percent=10.0)
    assert marker_hkls(result) == ALL_MARKERS
    assert result.quantities["orthorhombic_phase_evident"].value is False
    assert scherrer(pattern, instrument_fwhm_deg=0.06).quantities["orthorhombic_phase_evident"].value is True


# ---------------------------------------------------------------- instrument profile
@needs_si
def test_srm640d_instrument_width_is_plausible():
    result = instrument_profile(read(str(SI_BRML)))
    fwhm = result.quantities["fwhm_at_28_deg"]
    assert 0.02 < fwhm.value < 0.1 and 0 < fwhm.stderr < 0.01
    assert result.quantities["n_reflections"].value >= 6
    hkls = {c.quantities["hkl"].value for c in result.components}
    assert {"(111)", "(220)", "(311)", "(400)"} <= hkls


@needs_si
def test_srm640d_caglioti_feeds_scherrer():
    profile = instrument_profile(read(str(SI_BRML)))
    caglioti = profile.extras["caglioti"]
    assert set(caglioti) == {"U", "V", "W"}
    pattern = powder_pattern("NC8.3", instrument_fwhm_deg=0.052, seed=3)
    result = scherrer(pattern, caglioti=caglioti,
                      instrument_eta=profile.quantities["instrument_eta"].value)
    assert size_of(result) == pytest.approx(8.3, rel=0.10)


@pytest.mark.parametrize("kalpha2", [False, True])
def test_instrument_profile_recovers_the_caglioti_width(kalpha2):
    truth = {"U": 0.006, "V": -0.001, "W": 0.0025}
    result = instrument_profile(si_standard_pattern(caglioti=truth, kalpha2=kalpha2, seed=4))
    t = math.tan(math.radians(28.44 / 2))
    expected = math.sqrt(truth["U"] * t * t + truth["V"] * t + truth["W"])
    assert result.quantities["fwhm_at_28_deg"].value == pytest.approx(expected, rel=0.05)
    assert result.quantities["instrument_eta"].value == pytest.approx(0.5, abs=0.1)


def test_instrument_profile_refuses_a_pattern_without_silicon():
    with pytest.raises(InputError, match="silicon reflection"):
        instrument_profile(powder_pattern("NC12.8", seed=1))


# ---------------------------------------------------------------- contract, CLI and figures
def test_json_result_uses_contract_names(tmp_path):
    path = write_xy(str(tmp_path / "nc.xy"), powder_pattern("NC8.3", markers_percent=5.0, seed=2))
    out = run_files("xrd.scherrer", [path], {"instrument_fwhm_deg": "0.06"}).to_json()
    assert out["quantities"]["crystallite_size_nm"]["unit"] == "nm"
    assert isinstance(out["quantities"]["orthorhombic_markers"]["value"], list)
    peak = out["components"][0]["quantities"]
    assert {"two_theta_deg", "fwhm_deg", "hkl", "size_nm"} <= set(peak)
    json.dumps(out)


def test_cli_scherrer_on_brml_writes_the_figure(tmp_path):
    path = write_brml(str(tmp_path / "nc.brml"), powder_pattern("NC9.9", seed=2))
    png = tmp_path / "fit.png"
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "xrd.scherrer", path, "--json",
                           "--param", "instrument_fwhm_deg=0.06", "--plot", str(png)],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["quantities"]["crystallite_size_nm"]["value"] == pytest.approx(9.9, rel=0.1)
    assert png.read_bytes()[:4] == b"\x89PNG"


@needs_si
def test_instrument_profile_figure_renders():
    result = run_files("xrd.instrument_profile", [str(SI_BRML)])
    assert render_figure(result, "svg").startswith(b"<?xml")
