"""Bruker TopSpin reader against the synthetic TopSpin writer: round trips, fid vs processed,
2rr tiling, vdlists, zips and the errors a chemist sees."""
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from analysis.data import NmrSeries
from analysis.io import detect_format, read
from analysis.io.topspin_processing import group_delay, parse_vdlist
from analysis.result import InputError
from analysis.synthetic.paper import CS133_SF_MHZ, TABLE2
from analysis.synthetic.topspin import (gaussian_lines_spectrum, write_topspin_1d, write_topspin_pseudo2d,
                                        zip_folder)


def table2_spectrum(code="NC8.3", si=8192):
    lines = [(line.shift_ppm, line.fwhm_khz * 1e3 / CS133_SF_MHZ, line.integral_percent) for line in TABLE2[code]]
    return gaussian_lines_spectrum(lines, si=si)


def recovery_series(rows=16, si=8192):
    base = table2_spectrum(si=si)
    delays = np.geomspace(0.01, 200.0, rows)
    intensity = np.outer(1.0 - np.exp(-delays / 10.0), base.intensity)
    return NmrSeries(ppm=base.ppm, intensity=intensity, delays_s=delays, nucleus="133Cs", sf_mhz=CS133_SF_MHZ)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


def window_integrals(spectrum, edges=(175, 150, 125, 112, 102, 85)):
    """Integrals between fixed ppm edges, as percent of their sum."""
    ints = [spectrum.intensity[(spectrum.ppm <= hi) & (spectrum.ppm > lo)].sum()
            for hi, lo in zip(edges[:-1], edges[1:])]
    return 100.0 * np.array(ints) / np.sum(ints)


@pytest.fixture(scope="module")
def exp1d(tmp_path_factory):
    folder = tmp_path_factory.mktemp("NC8.3")
    spectrum = table2_spectrum()
    return write_topspin_1d(folder, spectrum, title="NC8.3 133Cs MAS", ns=64, rg=101.0, d1_s=90.0), spectrum


@pytest.fixture(scope="module")
def exp2d(tmp_path_factory):
    series = recovery_series()
    folder = tmp_path_factory.mktemp("NC8.3-T1")
    return write_topspin_pseudo2d(folder, series, xdim=(4, 1024), write_ser=True, vdlist_units="mixed"), series


# ------------------------------------------------------------------ 1D

def test_processed_1d_round_trip_keeps_axis_and_intensities(exp1d):
    folder, truth = exp1d
    spectrum = read(str(folder))
    assert spectrum.format == "bruker-topspin" and spectrum.kind == "nmr-1d"
    np.testing.assert_allclose(spectrum.ppm, truth.ppm, atol=1e-9)
    np.testing.assert_allclose(spectrum.intensity, truth.intensity, atol=2.0**-2)


@pytest.mark.parametrize("dtype,big_endian,nc_proc", [("int32", True, 3), ("float64", False, -5), ("float64", True, 0)])
def test_byte_order_data_type_and_nc_proc_are_honoured(tmp_path, dtype, big_endian, nc_proc):
    truth = table2_spectrum("NC6.4", si=2048)
    folder = write_topspin_1d(tmp_path, truth, nc_proc=nc_proc, dtype=dtype, big_endian=big_endian, write_fid=False)
    spectrum = read(str(folder))
    np.testing.assert_allclose(spectrum.intensity, truth.intensity, atol=2.0**nc_proc)
    assert spectrum.metadata["nc_proc"] == nc_proc


def test_ppm_axis_follows_offset_and_sw_p_convention(tmp_path):
    ppm = 200.0 - np.arange(1024) * 0.25  # given in increasing order on purpose
    truth = gaussian_lines_spectrum([(120.0, 3.0, 1.0)], si=1024, ppm_left=200.0, ppm_right=-56.0)
    truth.ppm, truth.intensity = ppm[::-1], truth.intensity[::-1]
    spectrum = read(str(write_topspin_1d(tmp_path, truth, write_fid=False)))
    assert spectrum.ppm[0] == pytest.approx(200.0) and spectrum.ppm[1] - spectrum.ppm[0] == pytest.approx(-0.25)
    assert spectrum.ppm[np.argmax(spectrum.intensity)] == pytest.approx(120.0, abs=0.25)


def test_metadata_comes_from_acqus_procs_and_title(exp1d):
    meta = read(str(exp1d[0])).metadata
    assert meta["nucleus"] == "133Cs"
    assert meta["field_t"] == pytest.approx(14.1, abs=0.01)
    assert meta["sfo1_mhz"] == pytest.approx(CS133_SF_MHZ, rel=1e-3)
    assert (meta["mas_rate_hz"], meta["ns"], meta["rg"], meta["d1_s"]) == (24000.0, 64, 101.0, 90.0)
    assert (meta["pulprog"], meta["experiment"], meta["title"]) == ("zg", "one-pulse", "NC8.3 133Cs MAS")
    assert meta["date"] == "2023-11-14T22:13:20+00:00"
    assert (meta["nc_proc"], meta["n_points"], meta["source"]) == (-2, 8192, "processed")


def test_spectrum_carries_nucleus_and_sf(exp1d):
    spectrum = read(str(exp1d[0]))
    assert spectrum.nucleus == "133Cs" and spectrum.sf_mhz == pytest.approx(CS133_SF_MHZ)


def test_fid_path_gives_same_peaks_and_relative_integrals(exp1d):
    processed = read(str(exp1d[0]))
    from_fid = read(str(exp1d[0]), source="fid")
    assert from_fid.metadata["source"] == "fid" and from_fid.metadata["nc_proc"] is None
    np.testing.assert_allclose(from_fid.ppm, processed.ppm, atol=1e-6)
    for hi, lo in ((175, 150), (125, 112), (112, 102), (102, 85)):
        band = (processed.ppm <= hi) & (processed.ppm > lo)
        assert processed.ppm[band][np.argmax(from_fid.intensity[band])] == pytest.approx(
            processed.ppm[band][np.argmax(processed.intensity[band])], abs=0.07)
    np.testing.assert_allclose(window_integrals(from_fid), window_integrals(processed), atol=1.0, rtol=0.01)


@pytest.mark.parametrize("wdw,lb_hz,gb", [("no", 0.0, 0.0), ("GM", -20.0, 0.2)])
def test_fid_processing_honours_the_window_function(tmp_path, wdw, lb_hz, gb):
    truth = table2_spectrum("NC12.8", si=4096)
    folder = write_topspin_1d(tmp_path, truth, wdw=wdw, lb_hz=lb_hz, gb=gb, fid_dtype="float64")
    from_fid = read(str(folder), source="fid")
    np.testing.assert_allclose(from_fid.intensity, truth.intensity, atol=1e-3 * truth.intensity.max())


def test_float64_fid_reproduces_absolute_intensities(tmp_path):
    truth = table2_spectrum("NC9.9", si=4096)
    folder = write_topspin_1d(tmp_path, truth, fid_dtype="float64", phc0_deg=-120.0, phc1_deg=25.0)
    from_fid = read(str(folder), source="fid")
    np.testing.assert_allclose(from_fid.intensity, truth.intensity, atol=1e-3 * truth.intensity.max())


def test_fid_is_used_when_there_is_no_processed_spectrum(tmp_path):
    folder = write_topspin_1d(tmp_path, table2_spectrum(si=2048))
    (folder / "pdata" / "1" / "1r").unlink()
    assert read(str(folder)).metadata["source"] == "fid"


# ------------------------------------------------------------------ pseudo-2D

@pytest.mark.parametrize("rows,si,xdim,si1", [(16, 8192, (4, 1024), None), (10, 2048, (4, 1000), None),
                                              (10, 2048, (16, 256), 16), (3, 1024, None, None)])
def test_2rr_tiling_is_undone(tmp_path, rows, si, xdim, si1):
    series = recovery_series(rows=rows, si=si)
    folder = write_topspin_pseudo2d(tmp_path, series, xdim=xdim, si1=si1)
    read_back = read(str(folder))
    assert read_back.format == "bruker-topspin-2d" and read_back.intensity.shape == (rows, si)
    np.testing.assert_allclose(read_back.intensity, series.intensity, atol=2.0**-3)
    np.testing.assert_allclose(read_back.delays_s, series.delays_s, rtol=1e-9)


def test_2rr_untiling_agrees_with_nmrglue(exp2d):
    import nmrglue

    folder, series = exp2d
    _dic, data = nmrglue.bruker.read_pdata(str(folder / "pdata" / "1"), scale_data=True)
    np.testing.assert_allclose(read(str(folder)).intensity, data, rtol=0, atol=0)


def test_series_metadata_names_the_experiment(exp2d):
    meta = read(str(exp2d[0])).metadata
    assert (meta["experiment"], meta["n_rows"], meta["pulprog"], meta["nc_proc"]) == ("saturation-recovery", 16, "satrec", -3)


def test_ser_path_matches_2rr_rows(exp2d):
    folder, series = exp2d
    from_ser = read(str(folder), source="fid")
    assert from_ser.metadata["source"] == "fid"
    scale = from_ser.intensity.max() / series.intensity.max()
    np.testing.assert_allclose(from_ser.intensity / scale, series.intensity, atol=1e-3 * series.intensity.max())


def test_ser_rows_padded_to_1k_blocks_are_read(tmp_path):
    series = recovery_series(rows=4, si=1000)  # TD = 1000 values: each row padded to 1024
    folder = write_topspin_pseudo2d(tmp_path, series, write_ser=True)
    assert (folder / "ser").stat().st_size == 4 * 1024 * 4
    from_ser = read(str(folder), source="fid")
    scale = from_ser.intensity.max() / series.intensity.max()
    np.testing.assert_allclose(from_ser.intensity / scale, series.intensity, atol=2e-3 * series.intensity.max())


def test_truncated_ser_is_reported_in_data_points(tmp_path):
    folder = write_topspin_pseudo2d(tmp_path, recovery_series(rows=4, si=1000), write_ser=True)
    (folder / "ser").write_bytes((folder / "ser").read_bytes()[:-4096])
    with pytest.raises(InputError, match=r"ser is truncated \(got 3072 of 4072 data points\)"):
        read(str(folder), source="fid")


def test_group_delay_falls_back_to_the_decim_dspfvs_table():
    assert group_delay({"GRPDLY": -1, "DSPFVS": 10, "DECIM": 16}) == pytest.approx(69.53125)
    assert group_delay({"GRPDLY": 76.0, "DSPFVS": 23, "DECIM": 1680}) == 76.0
    assert group_delay({"DSPFVS": 0, "DECIM": 1}) == 0.0


def test_vdlist_with_mixed_suffixes_is_read_in_seconds(tmp_path):
    series = recovery_series(rows=5, si=1024)
    series.delays_s = np.array([5e-5, 0.002, 0.3, 4.0, 120.0])
    folder = write_topspin_pseudo2d(tmp_path, series, vdlist_units=["u", "m", "", "s", "m"])
    assert (folder / "vdlist").read_text().split() == ["50u", "2m", "0.3", "4s", "120000m"]
    np.testing.assert_allclose(read(str(folder)).delays_s, series.delays_s, rtol=1e-12)


def test_parse_vdlist_skips_blank_lines_and_comments():
    np.testing.assert_allclose(parse_vdlist("# delays\n10m\n\n1e-3\n250u  # short\n2.5s\n"),
                               [0.01, 0.001, 0.00025, 2.5])


# ------------------------------------------------------------------ zips and detection

@pytest.mark.parametrize("what,arcname_root", [("expno", None), ("sample", None), ("pdata", None), ("pdata", "")])
def test_zips_of_experiment_sample_and_pdata_folders_are_read(exp1d, tmp_path, what, arcname_root):
    folder, truth = exp1d
    source = {"expno": folder, "sample": folder.parent, "pdata": folder / "pdata" / "1"}[what]
    archive = zip_folder(source, tmp_path / f"{what}.zip", arcname_root=arcname_root)
    spectrum = read(str(archive))
    assert spectrum.source == str(archive)
    np.testing.assert_allclose(spectrum.intensity, truth.intensity, atol=2.0**-2)


def test_pdata_folder_path_reads_the_parent_experiment(exp1d):
    meta = read(str(exp1d[0] / "pdata" / "1")).metadata
    assert meta["pulprog"] == "zg" and meta["procno"] == 1


def test_1d_and_2d_are_told_apart_in_folders_and_zips(exp1d, exp2d, tmp_path):
    assert detect_format(str(exp1d[0])).format == "bruker-topspin"
    assert detect_format(str(zip_folder(exp2d[0], tmp_path / "t1.zip"))).format == "bruker-topspin-2d"


def test_a_zip_without_topspin_files_is_not_claimed(tmp_path):
    from analysis.io.topspin import sniff_1d, sniff_2d

    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Experiment0/RawData0.xml", "<RawData/>")
    assert not sniff_1d(str(archive)) and not sniff_2d(str(archive))


# ------------------------------------------------------------------ bad input

def test_truncated_1r_is_one_line_exit_2_through_cli(exp1d, tmp_path):
    folder = tmp_path / "NC8.3" / "10"
    archive = zip_folder(exp1d[0], tmp_path / "copy.zip", arcname_root="NC8.3/10")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path)
    r1 = folder / "pdata" / "1" / "1r"
    r1.write_bytes(r1.read_bytes()[:-8])
    proc = run_cli("read", str(folder))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.strip() == f"error: {folder}: pdata/1/1r is truncated (got 8190 of 8192 points)"


def test_vdlist_length_mismatch_is_one_line_exit_2_through_cli(tmp_path):
    folder = write_topspin_pseudo2d(tmp_path, recovery_series(rows=6, si=512))
    (folder / "vdlist").write_text("1m\n10m\n100m\n1s\n10s\n")
    proc = run_cli("read", str(folder), "--json")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "vdlist has 5 delays but the series has 6 rows" in proc.stderr and "Traceback" not in proc.stderr


def test_empty_zip_is_one_line_exit_2_through_cli(tmp_path):
    archive = tmp_path / "empty.zip"
    zipfile.ZipFile(archive, "w").close()
    proc = run_cli("read", str(archive))
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {archive}: the zip archive is empty"


def _broken(tmp_path, damage):
    folder = write_topspin_1d(tmp_path, table2_spectrum(si=1024))
    damage(folder)
    return str(folder)


@pytest.mark.parametrize("damage,message", [
    (lambda f: (f / "pdata/1/procs").unlink(), "pdata/1/procs is missing"),
    (lambda f: [(f / n).unlink() for n in ("acqus", "acqu")], "acqus is missing"),
    (lambda f: [(f / "pdata/1" / n).unlink() for n in ("1r", "1i")] + [(f / "fid").unlink()],
     "holds no spectrum (neither pdata/N/1r nor fid)"),
    (lambda f: [(f / "pdata/1/1r").unlink(), (f / "fid").write_bytes(b"\0" * 1000)],
     "fid is truncated (got 250 of 1024 data points)"),
])
def test_broken_experiments_say_what_is_wrong(tmp_path, damage, message):
    path = _broken(tmp_path, damage)
    with pytest.raises(InputError) as info:
        read(path)
    assert str(info.value) == f"{path}: {message}"


def test_unknown_vdlist_unit_names_the_line(tmp_path):
    folder = write_topspin_pseudo2d(tmp_path, recovery_series(rows=3, si=512))
    (folder / "vdlist").write_text("1m\n10min\n1s\n")
    with pytest.raises(InputError, match=r"vdlist line 2: '10min' has an unknown unit 'min'"):
        read(str(folder))


def test_zip_with_parent_member_path_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../10/acqus", "##$NS= 1\n")
    with pytest.raises(InputError, match="unsafe member path"):
        read(str(archive))


def test_zip_with_two_experiments_asks_for_one(exp1d, exp2d, tmp_path):
    archive = tmp_path / "both.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for folder in (exp1d[0], exp2d[0]):
            for path in folder.rglob("*"):
                if path.is_file():
                    zf.write(path, f"sample/{folder.name}/{path.relative_to(folder).as_posix()}")
    with pytest.raises(InputError, match="holds 2 experiments"):
        read(str(archive))


def test_cli_read_prints_format_and_shapes(exp1d):
    proc = run_cli("read", str(exp1d[0]))
    assert proc.returncode == 0
    assert "bruker-topspin (nmr-1d)" in proc.stdout and "array intensity: [8192]" in proc.stdout
