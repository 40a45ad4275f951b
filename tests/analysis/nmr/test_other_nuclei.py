"""Site libraries for the paper's other nuclei: synthetic 13C CP, 1H and 31P spectra of
NC8.3 written from the paper's values are assigned by the default nmr.deconvolve."""
import dataclasses

import numpy as np
import pytest

from analysis.nmr.deconvolve import deconvolve
from analysis.synthetic import nmr as syn


def by_assignment(result):
    return {c.assignment: c.quantities for c in result.components}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_13c_ddab_lines_are_assigned_and_missing_octa_is_reported(seed):
    result = deconvolve(syn.ligand_spectrum("13C", seed=seed))
    got = by_assignment(result)
    assert set(got) == {"DDA NCH2", "DDA NCH3", "DDA RCH2", "DDA CH3"}
    assert got["DDA NCH2"]["shift_ppm"].value == pytest.approx(62.0, abs=0.5)
    assert got["DDA NCH3"]["shift_ppm"].value == pytest.approx(55.0, abs=0.5)
    # Two NCH2 and two NCH3 carbons per DDA+ (equal in the synthetic CP spectrum).
    assert result.quantities["nch2_to_nch3_ratio"].value == pytest.approx(1.0, abs=0.1)
    assert any(w.startswith("no OctA COOH line near 178 ppm") for w in result.warnings)


def test_13c_octanoic_acid_cooh_is_assigned_when_present():
    spectrum = syn.ligand_spectrum("13C", seed=4)
    ppm = spectrum.ppm
    sigma = 300.0 / spectrum.sf_mhz / 2.3548
    cooh = 1.5e8 / (sigma * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((ppm - 178.0) / sigma) ** 2)
    result = deconvolve(dataclasses.replace(spectrum, intensity=spectrum.intensity + cooh),
                        fit_range_ppm=[0, 200])
    assert "OctA COOH" in by_assignment(result)
    assert not any("OctA COOH" in w for w in result.warnings)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_1h_ddab_lines_and_their_1_to_4_ratio(seed):
    result = deconvolve(syn.ligand_spectrum("1H", seed=seed))
    got = by_assignment(result)
    assert got["DDA NCH2/NCH3"]["shift_ppm"].value == pytest.approx(3.5, abs=0.1)
    assert got["DDA RCH2"]["shift_ppm"].value == pytest.approx(1.2, abs=0.1)
    ratio = result.quantities["nch_to_rch2_ratio"]
    assert ratio.value == pytest.approx(0.25, abs=0.02)      # paper: NCH2,3 : RCH2 = 1 : 4
    assert 0 < ratio.stderr < 0.02


@pytest.mark.parametrize("seed", [1, 2])
def test_31p_bound_opa_is_assigned_and_missing_topo_is_reported(seed):
    result = deconvolve(syn.ligand_spectrum("31P", seed=seed))
    (comp,) = result.components
    assert comp.assignment == "OPA (bound)"
    assert comp.quantities["shift_ppm"].value == pytest.approx(25.0, abs=0.5)
    assert any(w.startswith("no TOPO line near 48 ppm") for w in result.warnings)
    assert not any("no site library" in w for w in result.warnings)


def test_207pb_has_no_library_yet_and_says_so():
    spectrum = syn.single_line_spectrum(nucleus="207Pb", sf_mhz=125.60, shift_ppm=300.0,
                                        fwhm_hz=8000.0, sw_ppm=1500.0, seed=5)
    result = deconvolve(spectrum)
    assert len(result.components) == 1
    assert any("no site library for 207Pb" in w for w in result.warnings)
