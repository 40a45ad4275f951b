"""nmr.deconvolve on synthetic 133Cs spectra of every Table 2 sample (paper truth)."""
import re

import numpy as np
import pytest

from analysis.data import NmrSpectrum
from analysis.nmr.deconvolve import deconvolve
from analysis.result import InputError
from analysis.synthetic import nmr as syn
from analysis.synthetic import paper


def _by_assignment(result):
    return {c.assignment: c.quantities for c in result.components}


@pytest.mark.parametrize("code", list(paper.TABLE2))
def test_table2_sample_recovered_with_default_parameters(code):
    truth = paper.TABLE2[code]
    result = deconvolve(syn.cs133_spectrum(code, seed=11))
    assert result.quantities["n_components"].value == len(truth)
    got = _by_assignment(result)
    assert set(got) == {line.assignment for line in truth}
    for line in truth:
        q = got[line.assignment]
        shift_tol = 2.0 if line.fwhm_khz > 1.5 else 1.0
        width_tol = 0.25 if line.integral_percent < 10 else 0.15
        assert q["shift_ppm"].value == pytest.approx(line.shift_ppm, abs=shift_tol), line
        assert q["fwhm_hz"].value == pytest.approx(line.fwhm_khz * 1e3, rel=width_tol), line
        assert q["integral_percent"].value == pytest.approx(line.integral_percent, abs=3.0), line


def test_integral_errors_reflect_the_overlap_of_middle_and_surface():
    # Over noise realisations the middle/surface split scatters by ~1 percentage point;
    # the reported one-sigma must be of that order, not the 0.03 of a mis-scaled inverse.
    q = _by_assignment(deconvolve(syn.cs133_spectrum("NC12.8", seed=3)))
    assert 0.3 < q["middle"]["integral_percent"].stderr < 3.0
    assert q["bulk"]["integral_percent"].stderr < q["middle"]["integral_percent"].stderr


def test_spinning_sidebands_are_left_outside_the_fit_window():
    result = deconvolve(syn.cs133_spectrum("NC8.3", seed=1))
    lo, hi = result.fit["fit_range_ppm"]
    mas_ppm = paper.CS133_MAS_HZ / paper.CS133_SF_MHZ
    assert lo > 95 - mas_ppm / 2 and hi < 159 + mas_ppm / 2
    assert result.fit["sideband_fraction"] == pytest.approx(2 * syn.SIDEBAND_FRACTION / (
        1 - 2 * syn.SIDEBAND_FRACTION), abs=0.02)
    assert any("sideband" in w for w in result.warnings)


def test_pure_noise_is_refused_rather_than_fitted():
    rng = np.random.default_rng(0)
    spec = syn.cs133_spectrum("NC8.3")
    spec.intensity = rng.normal(0, 1.0, spec.intensity.size) + 0.001 * np.arange(spec.intensity.size)
    with pytest.raises(InputError, match="no NMR signal above the noise"):
        deconvolve(spec)


def test_fixed_shift_is_held_and_has_no_error():
    result = deconvolve(syn.cs133_spectrum("NC8.3", seed=2), fixed={"core.shift_ppm": 117.0})
    core = _by_assignment(result)["core"]
    assert core["shift_ppm"].value == 117.0 and core["shift_ppm"].stderr is None


def test_fixed_by_label_applies_to_that_component():
    result = deconvolve(syn.cs133_spectrum("NC8.3", seed=2), fixed={"c1.fwhm_hz": 2000.0})
    c1 = next(c for c in result.components if c.label == "c1")
    assert c1.quantities["fwhm_hz"].value == pytest.approx(2000.0)


def test_unknown_fixed_quantity_is_explained():
    with pytest.raises(InputError, match="can fix only shift_ppm, fwhm_hz"):
        deconvolve(syn.cs133_spectrum("NC8.3"), fixed={"c1.area": 3})


def test_analyst_component_count_is_respected():
    result = deconvolve(syn.cs133_spectrum("NC12.8", seed=4), n_components=3)
    assert len(result.components) == 3


def test_starting_positions_give_one_component_each_with_library_assignments():
    result = deconvolve(syn.cs133_spectrum("NC10.4", seed=5), positions_ppm=[160, 116, 109, 96])
    assert [c.assignment for c in result.components] == ["ligand-adjacent", "core", "middle",
                                                         "surface"]


def test_voigt_on_gaussian_lines_finds_little_lorentzian_character():
    result = deconvolve(syn.cs133_spectrum("NC8.3", seed=6), lineshape="voigt", n_components=4)
    assert result.fit["lorentzian_fraction"] < 0.1


def test_unknown_lineshape_is_refused():
    with pytest.raises(InputError, match="lineshape must be one of gaussian, lorentzian, voigt"):
        deconvolve(syn.cs133_spectrum("Bulk"), lineshape="sinc")


def test_edited_site_library_renames_the_assignment():
    library = {"my-site": {"shift_ppm": 121.0, "tol_ppm": 3.0, "fwhm_khz": [0.1, 1.0]}}
    result = deconvolve(syn.cs133_spectrum("Bulk", seed=7), site_library=library)
    assert [c.assignment for c in result.components] == ["my-site"]


def test_other_nucleus_without_library_gets_one_unassigned_line():
    spec = syn.single_line_spectrum(nucleus="29Si", shift_ppm=-110.0, fwhm_hz=600.0, seed=8)
    result = deconvolve(spec)
    (comp,) = result.components
    assert comp.assignment == "unassigned"
    assert comp.quantities["shift_ppm"].value == pytest.approx(-110.0, abs=0.3)
    assert comp.quantities["fwhm_hz"].value == pytest.approx(600.0, rel=0.05)


def test_missing_spectrometer_frequency_is_refused():
    spec = NmrSpectrum(ppm=np.linspace(300, -100, 1024), intensity=np.ones(1024), nucleus="133Cs")
    with pytest.raises(InputError, match="spectrometer frequency"):
        deconvolve(spec)


def test_sidebands_recognised_from_the_spectrum_when_mas_rate_missing():
    spec = syn.cs133_spectrum("NC8.3", seed=9)
    del spec.metadata["mas_rate_hz"]
    result = deconvolve(spec)
    assert [c.assignment for c in result.components] == ["ligand-adjacent", "core", "middle",
                                                         "surface"]
    (note,) = [w for w in result.warnings if "sidebands spaced" in w]
    spacing_khz = float(re.search(r"spaced ([\d.]+) kHz", note).group(1))
    assert spacing_khz == pytest.approx(paper.CS133_MAS_HZ / 1e3, abs=0.5)


def test_line_outside_the_library_is_added_unassigned():
    from analysis.nmr.lineshapes import gaussian

    spec = syn.cs133_spectrum("NC8.3", seed=10)
    spec.intensity = spec.intensity + 0.05 * syn.TOTAL_AREA * gaussian(spec.ppm, 60.0, 10.0)
    result = deconvolve(spec)
    assert sorted(c.assignment for c in result.components) == sorted(
        ["ligand-adjacent", "core", "middle", "surface", "unassigned"])
    extra = next(c for c in result.components if c.assignment == "unassigned")
    assert extra.quantities["shift_ppm"].value == pytest.approx(60.0, abs=0.5)


@pytest.mark.parametrize("code,bulk_percent", [("NC12.8-aged", 28.0), ("NC8.9-aged", 12.0)])
def test_aged_powder_shows_the_grown_agglomerate_line(code, bulk_percent):
    """The demo's 6-month-aged spectra: the ~120 ppm 'bulk' line has grown (Figure 3c)."""
    from analysis.synthetic.nmr import cs133_spectrum

    result = deconvolve(cs133_spectrum(code, seed=3))
    bulk = [c for c in result.components if c.assignment == "bulk"]
    assert len(bulk) == 1
    assert bulk[0].quantities["integral_percent"].value == pytest.approx(bulk_percent, abs=3)
