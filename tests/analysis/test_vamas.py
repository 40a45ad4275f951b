"""VAMAS reader: real and synthetic files, scan modes, vendor flavours, bad input."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.io import detect_format, read
from analysis.result import InputError
from analysis.synthetic.xps import write_vamas, xps_spectra
from tests.analysis.real_files import real_file

REGULAR_VMS = real_file("xps/regular.vms")
CODE = "NC8.3"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True,
                          text=True)


@pytest.fixture
def kratos_file(tmp_path):
    return write_vamas(tmp_path / "nc83.vms", CODE, seed=3)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


def _write(tmp_path: Path, lines: list[str], name: str = "bad.vms") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return str(path)


def _first_value_line(lines: list[str], block: str) -> int:
    """Index of the first ordinate value of `block` in a Kratos-flavour REGULAR file."""
    counting = lines.index("pulse counting", lines.index(block))
    # dwell, scans, time correction, 3 sample angles, 0 extra parameters, value count,
    # then min/max of the two corresponding variables
    return counting + 9 + 4


@pytest.mark.skipif(not REGULAR_VMS.exists(), reason="shared regular.vms not present")
def test_prodigy_casaxps_regular_file_reads_its_block():
    data = read(str(REGULAR_VMS))
    assert data.format == "vamas" and len(data.regions) == data.metadata["n_blocks"] == 1
    survey = data.regions[0]
    assert survey.name == "Survey" and survey.counts.shape == (1351,)
    assert survey.binding_energy_ev[0] == pytest.approx(0.0, abs=1e-6)
    assert survey.binding_energy_ev[-1] == pytest.approx(1350.0)
    assert np.all(np.diff(survey.binding_energy_ev) > 0)
    assert survey.metadata["pass_energy_ev"] == 100.0
    assert survey.metadata["source_energy_ev"] == 1486.61
    assert data.metadata["casaxps_version"] == "2.3.25PR1.0"


def test_kratos_kinetic_axis_becomes_ascending_binding_energy(kratos_file):
    truth = xps_spectra(CODE, seed=3)
    data = read(str(kratos_file))
    assert [r.name for r in data.regions] == ["Cs 3d", "Pb 4f", "Br 3d", "N 1s", "C 1s"]
    for got, want in zip(data.regions, truth.regions):
        np.testing.assert_allclose(got.binding_energy_ev, want.binding_energy_ev, atol=1e-6)
        np.testing.assert_array_equal(got.counts, want.counts)
    assert data.regions[0].metadata["abscissa_label"] == "Kinetic Energy"
    assert data.regions[3].metadata["scans"] == 120


@pytest.mark.parametrize("flavour", ["kratos", "specs", "casaxps"])
def test_irregular_file_reads_like_regular(tmp_path, flavour):
    regular = read(str(write_vamas(tmp_path / "r.vms", CODE, flavour=flavour, seed=1)))
    irregular = read(str(write_vamas(tmp_path / "i.vms", CODE, flavour=flavour, seed=1,
                                     scan_mode="IRREGULAR")))
    assert irregular.metadata["scan_mode"] == "IRREGULAR"
    for a, b in zip(regular.regions, irregular.regions):
        assert a.name == b.name
        np.testing.assert_allclose(a.binding_energy_ev, b.binding_energy_ev, atol=1e-6)
        np.testing.assert_array_equal(a.counts, b.counts)


def test_binding_energy_abscissa_is_used_as_is(tmp_path):
    data = read(str(write_vamas(tmp_path / "be.vms", CODE, abscissa="binding", seed=1)))
    truth = xps_spectra(CODE, seed=1)
    np.testing.assert_allclose(data.regions[1].binding_energy_ev,
                               truth.regions[1].binding_energy_ev, atol=1e-6)


def test_casaxps_processing_comments_are_kept(tmp_path):
    data = read(str(write_vamas(tmp_path / "casa.vms", CODE, flavour="casaxps")))
    casa = data.regions[1].metadata["casaxps"]
    assert casa["regions"][0]["background"] == "Shirley"
    assert casa["components"][0]["lineshape"] == "GL(30)"
    assert casa["processing"] == ["Calib M = 286.1 A = 284.8 BE ADD"]


def test_counts_per_second_ordinates_become_counts_per_channel(tmp_path):
    lines = _lines(write_vamas(tmp_path / "s.vms", CODE, flavour="specs", seed=2))
    cps = _write(tmp_path, ["Counts per Second" if line == "counts" else line
                            for line in lines], "cps.vms")
    plain, scaled = read(str(tmp_path / "s.vms")), read(cps)
    pb_plain, pb_scaled = plain.regions[1], scaled.regions[1]
    time_s = pb_plain.metadata["dwell_s"] * pb_plain.metadata["scans"]
    np.testing.assert_allclose(pb_scaled.counts, pb_plain.counts * time_s)


def test_sniffer_takes_vamas_content_under_any_name_but_not_other_text(tmp_path, kratos_file):
    renamed = tmp_path / "export.txt"
    renamed.write_bytes(kratos_file.read_bytes())
    assert detect_format(str(renamed)).format == "vamas"
    other = tmp_path / "pattern.csv"
    other.write_text("2theta,intensity\n10,20\n11,25\n")
    try:
        assert detect_format(str(other)).format != "vamas"
    except InputError:
        pass  # no reader wants it: also fine, as long as it is not VAMAS


def test_more_blocks_than_announced_is_refused(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    n_blocks = lines.index("Index") + 6
    lines[n_blocks] = "4"
    with pytest.raises(InputError, match="announces 4 blocks but the file holds 5"):
        read(_write(tmp_path, lines))


def test_fewer_blocks_than_announced_is_refused_on_the_command_line(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    lines[lines.index("Index") + 6] = "7"
    proc = run_cli("read", _write(tmp_path, lines))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "announces 7 blocks but the file holds 5" in proc.stderr


def test_missing_values_name_the_block_and_counts(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    first = _first_value_line(lines, "Pb 4f")
    del lines[first:first + 3]
    with pytest.raises(InputError, match=r"block 2 \('Pb 4f'\) should hold 362 values but "
                                         r"only 359 were found"):
        read(_write(tmp_path, lines))


def test_extra_values_name_the_block_and_counts(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    first = _first_value_line(lines, "Pb 4f")
    lines[first:first] = ["100", "200"]
    with pytest.raises(InputError, match=r"block 2 \('Pb 4f'\) should hold 362 values but "
                                         r"364 were found"):
        read(_write(tmp_path, lines))


def test_truncated_file_is_refused_on_the_command_line(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    proc = run_cli("read", _write(tmp_path, lines[: len(lines) // 2]), "--json")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "truncated" in proc.stderr and "Pb 4f" in proc.stderr


def test_text_file_named_vms_is_not_vamas(tmp_path):
    path = _write(tmp_path, ["angle,intensity", "10,20"], "notes.vms")
    proc = run_cli("read", path)
    assert proc.returncode == 2 and "not a VAMAS file" in proc.stderr


def test_malformed_number_reports_its_line(tmp_path, kratos_file):
    lines = _lines(kratos_file)
    bad = _first_value_line(lines, "Br 3d") + 5
    lines[bad] = "12x4"
    with pytest.raises(InputError, match=rf"line {bad + 1}: a value of block 3 \('Br 3d'\) "
                                         "is not a number: '12x4'"):
        read(_write(tmp_path, lines))


def test_prodigy_irregular_layout_with_unset_fields_reads(tmp_path):
    # Field layout of a SpecsLab Prodigy IRREGULAR export re-saved by CasaXPS (as in
    # pynxtools-xps' examples/vms/irregular.vms): 1e+037 for unset values, zero date.
    header = ["VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4",
              "Not Specified", "Not Specified", "Not Specified", "Not Specified", "2",
              "Casa Info Follows CasaXPS Version 2.3.26PR1.0", "0", "NORM", "IRREGULAR", "1",
              "1", "Value", "d", "0", "0", "0", "0", "1"]
    block = ["Counts per Second", "1 as-loaded", "0", "0", "0", "0", "0", "0", "0", "6",
             "Casa Info Follows", "0", "0", "0", "0", "", "XPS", "0", "Al", "1486.61",
             *["1e+037"] * 5, "FAT", *["1e+037"] * 8, "Survey", "", "-1", "3",
             "Kinetic Energy", "eV", "Intensity", "d", "transmission", "d", "pulse counting",
             "1", "1", *["1e+037"] * 4, "2", "MFP Exponent", "d", "0", "ESCAPE DEPTH TYPE",
             "d", "1", "12", "0", "1", "0", "1", "0", "1"]
    values = ["136.61", "155.0", "78.8", "137.61", "158.0", "78.5", "138.61", "156.0",
              "78.2", "139.61", "153.0", "77.9"]
    path = _write(tmp_path, header + block + values + ["end of experiment"], "irr.vms")
    survey = read(path).regions[0]
    np.testing.assert_allclose(survey.binding_energy_ev, [1347.0, 1348.0, 1349.0, 1350.0])
    np.testing.assert_allclose(survey.counts, [153.0, 156.0, 158.0, 155.0])
    assert survey.metadata["pass_energy_ev"] is None and survey.metadata["acquired_at"] is None
