"""SAXS: reading curves (units, formats, sniffing) and fitting size distributions."""
import subprocess
import sys

import numpy as np
import pytest

from analysis import io as readers
from analysis.data import SaxsCurve
from analysis.result import InputError
from analysis.runner import render_figure, run_files
from analysis.saxs import polydisperse_spheres, size_distribution
from analysis.synthetic.paper import TABLE1
from analysis.synthetic.pl import write_pl_spectrum
from analysis.synthetic.saxs import saxs_curve, write_saxs_curve

# q in 1/A for some samples and 1/nm for others, across all three file formats.
FILE_CASES = [
    ("NC12.8", "1/A", "dat"), ("NC10.4", "1/nm", "csv"), ("NC9.9", "1/A", "csv"),
    ("NC8.9", "1/nm", "pdh"), ("NC8.3", "1/A", "dat"), ("NC7.7", "1/nm", "dat"),
    ("NC6.4", "1/A", "csv"),
]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


@pytest.mark.parametrize("code,q_unit,fmt", FILE_CASES)
def test_size_distribution_matches_table1_from_files(tmp_path, code, q_unit, fmt):
    row = next(r for r in TABLE1 if r.code == code)
    path = write_saxs_curve(tmp_path / f"{code}.{fmt}", code, q_unit=q_unit, fmt=fmt, seed=3)
    result = run_files("saxs.size_distribution", [str(path)])
    q = result.quantities
    assert q["mean_diameter_nm"].value == pytest.approx(row.mean_diameter_nm, rel=0.03)
    assert q["sd_diameter_nm"].value == pytest.approx(row.sd_diameter_nm, rel=0.20)
    assert q["mean_diameter_nm"].stderr > 0 and q["sd_diameter_nm"].stderr > 0
    assert q["volume_weighted_mean_diameter_nm"].value > q["mean_diameter_nm"].value


def test_lognormal_shape_recovers_mean_of_gaussian_sample():
    result = size_distribution(saxs_curve("NC9.9", seed=1), shape="lognormal")
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(9.9, rel=0.03)


def test_montecarlo_mode_recovers_mean_and_sd():
    result = size_distribution(saxs_curve("NC8.3", seed=2), mode="montecarlo", n_repetitions=5)
    q = result.quantities
    assert q["mean_diameter_nm"].value == pytest.approx(8.3, rel=0.03)
    assert q["sd_diameter_nm"].value == pytest.approx(0.5, rel=0.25)
    assert q["mean_diameter_nm"].stderr is not None


def test_montecarlo_mode_resolves_two_populations():
    # Equal volume fractions: forward intensity scales with particle volume.
    q = np.geomspace(0.05, 4.0, 300)
    y = (polydisperse_spheres(q, 6.0, 0.4, (6.0 / 15.0) ** 3, 0.001)
         + polydisperse_spheres(q, 15.0, 1.0, 1.0, 0.0))
    sigma = 0.01 * y
    curve = SaxsCurve(q_per_nm=q, intensity=y + np.random.default_rng(0).normal(0, sigma), sigma=sigma)
    dist = size_distribution(curve, mode="montecarlo", n_repetitions=2).curves["distribution"]
    d, vol = dist["diameter_nm"], dist["volume"]
    assert vol[(d > 5) & (d < 7)].max() > 0.2
    assert vol[(d > 13) & (d < 17)].max() > 0.2
    assert vol[(d > 8.5) & (d < 11.5)].max() < 0.1


def test_q_range_parameters_restrict_the_fit():
    result = size_distribution(saxs_curve("NC8.3"), q_range_per_nm=[0.1, 2.0])
    assert result.fit["n_points"] == int(np.sum((saxs_curve("NC8.3").q_per_nm >= 0.1)
                                                & (saxs_curve("NC8.3").q_per_nm <= 2.0)))
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(8.3, rel=0.03)


def test_curve_without_sigma_uses_relative_error_model_and_says_so():
    c = saxs_curve("NC10.4")
    c.sigma = None
    result = size_distribution(c)
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(10.4, rel=0.03)
    assert any("relative error model" in w for w in result.warnings)


def test_angstrom_and_nm_files_give_the_same_q(tmp_path):
    a = readers.read(str(write_saxs_curve(tmp_path / "a.dat", "NC8.3", q_unit="1/A")))
    n = readers.read(str(write_saxs_curve(tmp_path / "n.dat", "NC8.3", q_unit="1/nm")))
    np.testing.assert_allclose(a.q_per_nm, n.q_per_nm, rtol=1e-6)
    assert a.metadata["q_unit_in_file"] == "A-1" and n.metadata["q_unit_in_file"] == "nm-1"


def test_xsact_header_metadata_is_read(tmp_path):
    curve = readers.read(str(write_saxs_curve(tmp_path / "c.dat", "NC8.3")))
    assert curve.metadata["instrument"] == "Xenocs Nano-inXider"
    assert curve.metadata["transmission"] == pytest.approx(0.62)
    assert curve.sigma is not None and curve.format == "saxs-text"


def test_pdh_header_gives_wavelength_and_distance(tmp_path):
    curve = readers.read(str(write_saxs_curve(tmp_path / "c.pdh", "NC8.3", fmt="pdh")))
    assert curve.format == "saxs-pdh"
    assert curve.metadata["wavelength_nm"] == pytest.approx(0.15418)
    assert curve.metadata["sample_detector_distance_mm"] == pytest.approx(938.0)


@pytest.mark.parametrize("title,factor", [("q (Å⁻¹)", 10.0), ("q [1/nm]", 1.0),
                                          ("Q(A^-1)", 10.0), ("q / nm-1", 1.0)])
def test_unit_spellings_in_column_titles(tmp_path, title, factor):
    q = np.linspace(0.01, 0.4, 40)
    path = tmp_path / "c.txt"
    path.write_text(f"# {title}   I(q)\n" + "\n".join(f"{a:.5f}  {np.exp(-a * 10):.5e}" for a in q))
    curve = readers.read(str(path))
    np.testing.assert_allclose(curve.q_per_nm, q * factor)


def test_headerless_curve_needs_the_q_unit_option(tmp_path):
    c = saxs_curve("NC8.3")
    path = tmp_path / "bare.dat"
    path.write_text("\n".join(f"{a:.6e} {b:.6e}" for a, b in zip(c.q_per_nm, c.intensity)))
    with pytest.raises(InputError, match="q unit is not stated"):
        readers.read(str(path))
    curve = readers.read(str(path), q_unit="1/A")
    assert curve.q_per_nm[-1] == pytest.approx(40.0)


def test_sniffer_does_not_claim_pl_spectra(tmp_path):
    for axis in ("wavelength", "energy"):
        path = write_pl_spectrum(tmp_path / f"pl_{axis}.csv", "NC8.3", axis=axis)
        assert readers.detect_format(str(path)).format == "pl-text"


def test_sniffer_declines_a_two_theta_scan(tmp_path):
    from analysis.io.saxs import sniff

    two_theta = np.arange(10.0, 80.0, 0.02)
    path = tmp_path / "scan.csv"
    path.write_text("2Theta,Intensity\n" + "\n".join(f"{t:.2f},{100 + 50 * np.sin(t):.1f}" for t in two_theta))
    assert not sniff(str(path))
    path.write_text("\n".join(f"{t:.2f} {100 + 50 * np.sin(t):.1f}" for t in two_theta))
    assert not sniff(str(path))


def test_figure_renders(tmp_path):
    path = write_saxs_curve(tmp_path / "c.dat", "NC7.7")
    svg = render_figure(run_files("saxs.size_distribution", [str(path)]), "svg")
    assert svg.startswith(b"<?xml") and b"diameter" in svg


# ----- bad input -------------------------------------------------------------------------

def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_unknown_unit_in_header_is_refused(tmp_path):
    rows = "\n".join(f"{0.01 * i:.3f} {100.0 / i:.3f}" for i in range(1, 30))
    path = _write(tmp_path, "c.dat", "# q(1/pm)  I(q)\n" + rows)
    with pytest.raises(InputError, match="unknown q unit '1/pm'"):
        readers.read(path)


def test_unknown_q_unit_option_is_refused(tmp_path):
    path = write_saxs_curve(tmp_path / "c.dat", "NC8.3")
    with pytest.raises(InputError, match="unknown q unit 'furlongs'"):
        readers.read(str(path), q_unit="furlongs")


def test_non_numeric_row_is_reported_with_its_line_number(tmp_path):
    rows = [f"{0.01 * i:.3f} {100.0 / i:.3f}" for i in range(1, 30)]
    rows[10] = "0.110 oops"
    path = _write(tmp_path, "c.dat", "# q(nm-1)  I(q)\n" + "\n".join(rows))
    with pytest.raises(InputError, match="line 12 is not numbers"):
        readers.read(path)


def test_too_few_points_is_refused(tmp_path):
    rows = "\n".join(f"{0.1 * i:.3f} {100.0 / i:.3f}" for i in range(1, 8))
    path = _write(tmp_path, "c.dat", "# q(nm-1)  I(q)\n" + rows)
    with pytest.raises(InputError, match="only 7 data points"):
        readers.read(path)


def test_all_zero_intensity_exits_2_via_cli(tmp_path):
    rows = "\n".join(f"{0.05 * i:.3f} 0.0 0.1" for i in range(1, 40))
    path = _write(tmp_path, "zero.dat", "# q(nm-1)  I(q)  Err\n" + rows)
    proc = run_cli("run", "saxs.size_distribution", path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "zero or negative" in proc.stderr and "zero.dat" in proc.stderr


def test_missing_q_unit_exits_2_via_cli_and_names_the_option(tmp_path):
    c = saxs_curve("NC8.3")
    path = _write(tmp_path, "bare.dat", "\n".join(f"{a:.6e} {b:.6e}" for a, b in zip(c.q_per_nm, c.intensity)))
    proc = run_cli("run", "saxs.size_distribution", path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert "q_unit=1/nm" in proc.stderr


def test_cli_q_unit_param_is_forwarded_to_the_reader(tmp_path):
    c = saxs_curve("NC8.3")
    path = _write(tmp_path, "bare.dat", "\n".join(f"{a / 10:.6e} {b:.6e} {s:.6e}" for a, b, s in
                                                  zip(c.q_per_nm, c.intensity, c.sigma)))
    proc = run_cli("run", "saxs.size_distribution", path, "--param", "q_unit=1/A", "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"mean_diameter_nm"' in proc.stdout


def test_unknown_shape_is_refused():
    with pytest.raises(InputError, match="shape must be one of"):
        size_distribution(saxs_curve("NC8.3"), shape="cube")


# ----- shared text-table parsing ---------------------------------------------------------

def test_semicolon_file_with_decimal_commas_is_parsed():
    from analysis.io.text_table import parse_text_table

    table = parse_text_table("q (1/nm);I\n" + "\n".join(f"0,{i};{100 - i},5" for i in range(1, 20)))
    assert table.delimiter == ";"
    assert table.column_names == ["q (1/nm)", "I"]
    assert table.data[0].tolist() == [0.1, 99.5]


def test_tab_file_with_text_footer_is_parsed():
    from analysis.io.text_table import parse_text_table

    text = "Energy (eV)\tCounts\n" + "\n".join(f"{2 + i / 100}\t{i}" for i in range(30)) + "\nEnd of data\n"
    table = parse_text_table(text)
    assert table.delimiter == "\t" and table.data.shape == (30, 2)


def test_pdh_numeric_header_lines_are_not_taken_as_data():
    from analysis.io.text_table import parse_text_table

    text = "title\nSAXS\n  20 0 0 0 0 0 0 0\n 0 1 0 1 0.15\n 0 0 0 0 0\n" + "\n".join(
        f"{0.1 * i} {10.0 / i} 0.1" for i in range(1, 21))
    table = parse_text_table(text)
    assert table.first_data_line == 5 and table.data.shape == (20, 3)
