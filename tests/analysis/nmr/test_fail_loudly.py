"""Silent failures turned into clear messages: inverted or misphased spectra, a T1 series
with no fittable line, nucleus labels in other spellings, nuclei without a site library."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import hilbert

from analysis.io import read
from analysis.nmr import t1 as t1_module
from analysis.nmr.deconvolve import deconvolve
from analysis.nmr.t1 import t1
from analysis.nuclei import normalise_nucleus
from analysis.result import InputError
from analysis.synthetic import nmr as syn
from analysis.synthetic.topspin import write_topspin_1d, write_topspin_pseudo2d


def rephased(spectrum, degrees: float):
    """The same spectrum with a zero-order phase error of `degrees` (real part of the
    analytic signal rotated), as a wrong PHC0 would leave it."""
    analytic = hilbert(spectrum.intensity - np.median(spectrum.intensity))
    rotated = (analytic * np.exp(1j * np.deg2rad(degrees))).real
    return dataclasses.replace(spectrum, intensity=rotated)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


# ---------------------------------------------------------------- phase

def test_inverted_spectrum_is_refused_as_negative():
    spectrum = syn.cs133_spectrum("NC8.3", seed=1)
    spectrum.intensity = -spectrum.intensity
    with pytest.raises(InputError, match=r"integral is negative.*PHC0 \+ 180"):
        deconvolve(spectrum)


@pytest.mark.parametrize("degrees", [60.0, 90.0, -90.0, 135.0])
def test_clearly_misphased_spectrum_is_refused(degrees):
    spectrum = rephased(syn.cs133_spectrum("NC8.3", seed=2), degrees)
    with pytest.raises(InputError, match=r"misphased|integral is negative"):
        deconvolve(spectrum)


def test_slightly_misphased_spectrum_is_fitted_with_a_warning():
    result = deconvolve(rephased(syn.cs133_spectrum("NC8.3", seed=3), 20.0))
    assert any(w.startswith("check the phase: a negative lobe") for w in result.warnings)


def test_well_phased_spectrum_gets_no_phase_warning():
    result = deconvolve(syn.cs133_spectrum("NC8.3", seed=4))
    assert not any("phase" in w for w in result.warnings)


def test_misphased_topspin_experiment_is_exit_2_with_one_line(tmp_path):
    spectrum = rephased(syn.cs133_spectrum("NC8.3", seed=5, baseline=False), 90.0)
    spectrum.intensity = spectrum.intensity * (2e8 / np.abs(spectrum.intensity).max())
    folder = write_topspin_1d(tmp_path, spectrum, write_fid=False)
    proc = run_cli("run", "nmr.deconvolve", str(folder))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "misphased" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- T1 without a fittable line

def test_inverted_saturation_recovery_is_an_error_not_an_empty_success(tmp_path):
    """The old phase-sign bug's symptom: every row inverted. Now exit 2 with a message."""
    series = syn.cs133_saturation_recovery("NC8.3", seed=6)
    series.intensity = -series.intensity * (2e8 / np.abs(series.intensity).max())
    folder = write_topspin_pseudo2d(tmp_path, series)
    proc = run_cli("run", "nmr.t1", str(folder))
    assert proc.returncode == 2, proc.stdout
    assert "integral is negative" in proc.stderr and proc.stderr.count("\n") == 1


def test_longest_delay_row_without_signal_is_an_error():
    series = syn.single_line_series(t1_s=20.0, seed=7)
    series.delays_s = np.asarray(series.delays_s)[::-1].copy()   # vdlist in the wrong order
    with pytest.raises(InputError, match="no NMR signal"):
        t1(series)


def test_no_line_with_a_fittable_recovery_is_an_error(monkeypatch):
    def below_noise(*args, **kwargs):
        return None, None, None, None, (1.0, None), t1_module.NO_SIGNAL

    monkeypatch.setattr(t1_module, "fit_recovery", below_noise)
    with pytest.raises(InputError, match=r"no T1 could be fitted for any line \(c1 at -110.0 ppm"):
        t1(syn.single_line_series(t1_s=20.0, seed=8))


def test_a_line_outside_the_delay_range_still_reports_the_bound():
    # Not an error: "T1 << shortest delay" is information, given as a warning.
    series = syn.single_line_series(t1_s=0.0005, delays_s=syn.default_delays(10.0), seed=3)
    result = t1(series)
    assert any("recovered fully by the shortest delay" in w for w in result.warnings)


# ---------------------------------------------------------------- nucleus labels

@pytest.mark.parametrize("label", ["<<133Cs>>", "<133Cs>", "Cs133", "133cs", "CS-133", " 133Cs "])
def test_nucleus_spellings_normalise_to_133cs(label):
    assert normalise_nucleus(label) == "133Cs"


@pytest.mark.parametrize("label", ["<<133Cs>>", "Cs133", "133cs"])
def test_deconvolution_finds_the_133cs_library_whatever_the_spelling(label):
    reference = deconvolve(syn.cs133_spectrum("NC8.3", seed=9))
    spectrum = syn.cs133_spectrum("NC8.3", seed=9)
    spectrum.nucleus = label
    result = deconvolve(spectrum)
    assert [c.assignment for c in result.components] == [c.assignment for c in reference.components]
    assert "unassigned" not in {c.assignment for c in result.components}
    assert not any("site library" in w for w in result.warnings)


def test_topspin_reader_normalises_a_bracketed_nuc1(tmp_path):
    spectrum = syn.cs133_spectrum("NC8.3", seed=10, baseline=False)
    spectrum.intensity = spectrum.intensity * (2e8 / np.abs(spectrum.intensity).max())
    spectrum.nucleus = "<133Cs>"          # written as ##$NUC1= <<133Cs>>
    folder = write_topspin_1d(tmp_path, spectrum, write_fid=False)
    assert "<<133Cs>>" in (folder / "acqus").read_text()
    read_back = read(str(folder))
    assert read_back.nucleus == "133Cs" and read_back.metadata["field_t"] is not None


def test_nucleus_without_a_site_library_is_said_in_a_warning():
    result = deconvolve(syn.single_line_spectrum(nucleus="29Si", seed=11))
    assert any("no site library for 29Si" in w and "unassigned" in w for w in result.warnings)


def test_unrecorded_nucleus_is_said_in_a_warning():
    spectrum = syn.single_line_spectrum(seed=12)
    spectrum.nucleus = ""
    spectrum.metadata["nucleus"] = ""
    result = deconvolve(spectrum)
    assert any("nucleus is not recorded" in w for w in result.warnings)


def test_real_fid_processed_with_the_old_phase_sign_is_refused():
    """Real 400 MHz strychnine fid (tests/data): processed with PHC0/PHC1 of the wrong sign,
    as LabTrack did before, it is now an input error instead of a silent bad fit."""
    from pathlib import Path

    from analysis.io.topspin_processing import ProcParams, phase_factor
    from analysis.nmr.prep import prepare

    folder = Path(__file__).resolve().parents[2] / "data" / "topspin" / "strychnine-1h" / "10"
    good = read(str(folder), source="fid")
    params = ProcParams(si=good.intensity.size, sw_hz=1.0, phc0_deg=136.8574, phc1_deg=-21.44858)
    wrong = (hilbert(good.intensity) / phase_factor(good.intensity.size, params) ** 2).real
    prepare(good.ppm, good.intensity, mas_rate_hz=None, sf_mhz=good.sf_mhz, fit_range_ppm=None)
    with pytest.raises(InputError, match=r"misphased|integral is negative"):
        prepare(good.ppm, wrong, mas_rate_hz=None, sf_mhz=good.sf_mhz, fit_range_ppm=None)
