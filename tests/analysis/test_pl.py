"""Photoluminescence: reading spectra (wavelength or energy axis) and the peak fit."""
import subprocess
import sys

import numpy as np
import pytest

from analysis import io as readers
from analysis.data import PlSpectrum
from analysis.pl import peak
from analysis.result import InputError
from analysis.runner import render_figure, run_files
from analysis.synthetic.paper import TABLE1
from analysis.synthetic.pl import pl_spectrum, true_fwhm_nm, write_pl_spectrum


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


@pytest.mark.parametrize("row", TABLE1, ids=[r.code for r in TABLE1])
@pytest.mark.parametrize("axis", ["wavelength", "energy"])
def test_peak_wavelength_matches_table1(tmp_path, row, axis):
    path = write_pl_spectrum(tmp_path / f"{row.code}.csv", row.code, axis=axis, seed=5)
    result = run_files("pl.peak", [str(path)])
    q = result.quantities
    assert q["peak_wavelength_nm"].value == pytest.approx(row.pl_peak_nm, abs=1.0)
    assert q["fwhm_nm"].value == pytest.approx(true_fwhm_nm(row.code), rel=0.05)
    assert q["peak_energy_ev"].value == pytest.approx(1239.842 / row.pl_peak_nm, abs=0.005)
    assert q["peak_wavelength_nm"].stderr > 0 and q["fwhm_mev"].stderr > 0


def test_voigt_model_gives_the_same_peak():
    result = peak(pl_spectrum("NC7.7", seed=2), model="voigt")
    assert result.quantities["peak_wavelength_nm"].value == pytest.approx(507, abs=1.0)
    assert result.quantities["fwhm_nm"].value == pytest.approx(true_fwhm_nm("NC7.7"), rel=0.05)


def test_energy_file_is_converted_with_the_jacobian(tmp_path):
    # A band flat in energy (per eV) is ∝ 1/λ² per nm after conversion.
    energy = np.linspace(2.0, 3.0, 101)
    path = tmp_path / "flat.txt"
    path.write_text("Energy (eV)\tIntensity\n" + "\n".join(f"{e:.3f}\t1000" for e in energy))
    spec = readers.read(str(path))
    ratio = spec.intensity * spec.wavelength_nm**2
    np.testing.assert_allclose(ratio / ratio[0], 1.0, rtol=1e-9)
    assert np.all(np.diff(spec.wavelength_nm) > 0)


def test_fit_window_parameters_restrict_the_points():
    result = peak(pl_spectrum("NC8.3"), wavelength_range_nm=[480, 540])
    assert result.fit["n_points"] == 121
    assert result.quantities["peak_wavelength_nm"].value == pytest.approx(509, abs=1.0)


def test_headerless_wavelength_csv_is_recognised(tmp_path):
    spec = pl_spectrum("NC9.9")
    path = tmp_path / "bare.csv"
    path.write_text("\n".join(f"{a:.1f},{b:.0f}" for a, b in zip(spec.wavelength_nm, spec.intensity)))
    assert readers.detect_format(str(path)).format == "pl-text"


def test_pl_sniffer_declines_a_saxs_curve(tmp_path):
    from analysis.io.pl import sniff
    from analysis.synthetic.saxs import write_saxs_curve

    assert not sniff(str(write_saxs_curve(tmp_path / "c.csv", "NC8.3", fmt="csv")))


def test_figure_renders(tmp_path):
    path = write_pl_spectrum(tmp_path / "s.csv", "NC6.4")
    png = render_figure(run_files("pl.peak", [str(path)]), "png")
    assert png[:4] == b"\x89PNG"


# ----- bad input -------------------------------------------------------------------------

def test_non_numeric_row_exits_2_via_cli(tmp_path):
    spec = pl_spectrum("NC8.3")
    rows = [f"{a:.1f},{b:.0f}" for a, b in zip(spec.wavelength_nm, spec.intensity)]
    rows[50] = "445.0,saturated"
    path = tmp_path / "bad.csv"
    path.write_text("Wavelength (nm),Intensity\n" + "\n".join(rows))
    proc = run_cli("run", "pl.peak", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "line 52 is not numbers" in proc.stderr and "bad.csv" in proc.stderr


def test_all_zero_spectrum_exits_2_via_cli(tmp_path):
    path = tmp_path / "dark.csv"
    path.write_text("Wavelength (nm),Intensity\n" + "\n".join(f"{400 + i},0" for i in range(100)))
    proc = run_cli("run", "pl.peak", str(path), "--json")
    assert proc.returncode == 2
    assert "zero or negative" in proc.stderr


def test_too_few_points_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("Wavelength (nm),Intensity\n" + "\n".join(f"{500 + i},{10 + i}" for i in range(6)))
    with pytest.raises(InputError, match="only 6 data points"):
        readers.read(str(path))


def test_energy_title_with_wavelength_values_is_refused(tmp_path):
    from analysis.io.pl import read_pl

    path = tmp_path / "odd.csv"
    path.write_text("Energy (eV),Intensity\n" + "\n".join(f"{450 + i},{i}" for i in range(50)))
    with pytest.raises(InputError, match="neither wavelength"):
        read_pl(str(path))


def test_flat_spectrum_has_no_band():
    spec = PlSpectrum(wavelength_nm=np.linspace(450, 550, 101), intensity=np.full(101, 50.0))
    with pytest.raises(InputError, match="no emission band"):
        peak(spec)


def test_unknown_model_is_refused():
    with pytest.raises(InputError, match="model must be one of"):
        peak(pl_spectrum("NC8.3"), model="lorentzian")


def test_a_spectrum_of_a_million_points_is_fitted_binned_with_the_same_answer(monkeypatch):
    """A file of millions of points (a 100 MiB CSV) is averaged to MAX_FIT_POINTS before the
    fit: the peak, width and their errors agree with the full-resolution fit and the truth.
    The band and a flat background are drawn in energy, as the routine models them, so the
    errors compare like with like (a misfit would inflate the binned fit's reduced χ²)."""
    import analysis.pl as pl_module
    from analysis.synthetic.pl import HC_EV_NM, PEAK_COUNTS, _band_per_ev

    rng = np.random.default_rng(11)
    lam = np.linspace(420.0, 620.0, 150_000)
    per_nm = (_band_per_ev(HC_EV_NM / lam, "NC8.9") + 0.003) * HC_EV_NM / lam**2
    counts = rng.poisson(PEAK_COUNTS * per_nm / per_nm.max()).astype(float)
    dense = PlSpectrum(format="synthetic", source="dense", wavelength_nm=lam, intensity=counts, metadata={})

    monkeypatch.setattr(pl_module, "MAX_FIT_POINTS", 5_000)
    binned = peak(dense)
    monkeypatch.setattr(pl_module, "MAX_FIT_POINTS", 10**9)
    full = peak(dense)

    assert binned.fit["n_points"] <= 5_000 < binned.fit["n_points_read"] == full.fit["n_points"]
    assert len(binned.curves["energy"]["energy_ev"]) == binned.fit["n_points"]
    for name, agree in (("peak_wavelength_nm", 0.005), ("fwhm_nm", 0.005), ("peak_energy_ev", 1e-5)):
        b, f = binned.quantities[name], full.quantities[name]
        assert b.value == pytest.approx(f.value, abs=agree), name
        assert b.stderr == pytest.approx(f.stderr, rel=0.05), name
    assert binned.fit["reduced_chi2"] == pytest.approx(full.fit["reduced_chi2"], rel=0.05)
    row = next(r for r in TABLE1 if r.code == "NC8.9")
    assert binned.quantities["peak_wavelength_nm"].value == pytest.approx(row.pl_peak_nm, abs=0.05)
    assert binned.quantities["fwhm_nm"].value == pytest.approx(true_fwhm_nm("NC8.9"), rel=0.01)
