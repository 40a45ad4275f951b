"""Powder XRD readers: .xy/.xye, DIFFRAC.EVA .csv, Bruker .brml, and hostile inputs."""
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis.io import detect_format, read
from analysis.result import InputError
from analysis.synthetic.xrd import powder_pattern, write_brml, write_eva_csv, write_xy
from tests.analysis.real_files import real_file

SI_BRML = real_file("xrd/Si-Std_SRM640d_D8D_20-97_7_16hm.brml")
needs_si = pytest.mark.skipif(not SI_BRML.exists(), reason=f"real SRM 640d file not found at {SI_BRML}")

RAW = "Experiment0/RawData0.xml"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True,
                          cwd=cwd or root, env=env)


@pytest.fixture(scope="module")
def pattern():
    return powder_pattern("NC8.3", seed=3)


# ---------------------------------------------------------------- the real instrument file
@needs_si
def test_real_brml_reads_every_point_and_the_full_range():
    data = read(str(SI_BRML))
    assert data.format == "bruker-brml"
    assert data.two_theta_deg.size == 9227
    assert data.two_theta_deg[0] == pytest.approx(10.0)
    assert data.two_theta_deg[-1] == pytest.approx(97.013, abs=1e-3)
    assert data.metadata["step_deg"] == pytest.approx(0.009431, abs=1e-5)
    assert data.intensity.max() == 177925


@needs_si
def test_real_brml_johansson_monochromator_means_kalpha1_only():
    data = read(str(SI_BRML))
    assert data.ka2_ratio == 0
    assert data.wavelengths_angstrom == (1.5406,)
    assert "Johansson" in data.metadata["monochromator"]
    assert data.metadata["anode"] == "Cu"
    assert data.metadata["sample_name"] == "Si-Std_SRM640d"


# ---------------------------------------------------------------- round trips of our writers
def test_xy_round_trip_keeps_points_and_kalpha2(tmp_path, pattern):
    data = read(write_xy(str(tmp_path / "p.xy"), pattern))
    assert data.format == "xrd-xy"
    np.testing.assert_allclose(data.two_theta_deg, pattern.two_theta_deg, atol=1e-4)
    np.testing.assert_allclose(data.intensity, pattern.intensity)
    assert data.ka2_ratio == 0.5 and len(data.wavelengths_angstrom) == 2


def test_xye_three_columns_with_comment_header(tmp_path):
    lines = ["'Sample NC8.3 exported by EVA", "# 2theta counts esd"]
    lines += [f"{10 + 0.02 * i:.2f} {100 + i} {10.0:.1f}" for i in range(200)]
    path = tmp_path / "p.xye"
    path.write_text("\n".join(lines))
    data = read(str(path))
    assert data.two_theta_deg.size == 200 and data.metadata["has_esd"] is True


def test_eva_csv_reads_header_block_and_data(tmp_path, pattern):
    data = read(write_eva_csv(str(tmp_path / "p.csv"), pattern))
    assert data.format == "xrd-csv"
    assert data.two_theta_deg.size == pattern.two_theta_deg.size
    assert data.metadata["columns"] == ["Angle", "PSD Counts"]
    assert data.metadata["sample_name"] == "NC8.3"
    assert data.wavelengths_angstrom[0] == pytest.approx(1.540598)


def test_eva_csv_with_ka1_monochromator_has_no_kalpha2(tmp_path):
    single = powder_pattern("NC8.3", kalpha2=False, seed=1)
    data = read(write_eva_csv(str(tmp_path / "k1.csv"), single))
    assert data.ka2_ratio == 0 and len(data.wavelengths_angstrom) == 1


def test_brml_round_trip(tmp_path, pattern):
    data = read(write_brml(str(tmp_path / "p.brml"), pattern))
    assert data.format == "bruker-brml"
    np.testing.assert_allclose(data.intensity, pattern.intensity)
    assert data.metadata["datum_columns"] == ["MeasuredTime", "AbsorptionFactor", "TwoTheta", "Counts"]


def test_high_to_low_scan_is_sorted_not_refused(tmp_path, pattern):
    path = tmp_path / "down.xy"
    rows = zip(pattern.two_theta_deg[::-1], pattern.intensity[::-1])
    path.write_text("\n".join(f"{t:.4f} {i:.0f}" for t, i in rows))
    data = read(str(path))
    assert np.all(np.diff(data.two_theta_deg) > 0)
    assert data.intensity[0] == pattern.intensity[0]
    assert data.metadata["scan_descending"] is True


# ---------------------------------------------------------------- sniffing other helpers' files
def test_pl_csv_in_nanometres_is_not_claimed(tmp_path):
    path = tmp_path / "pl.csv"
    path.write_text("\n".join(f"{300 + i * 0.5:.1f},{100 + i}" for i in range(1200)))
    assert detect_format_or_none(path) not in ("xrd-csv", "xrd-xy")


def test_saxs_csv_with_q_column_is_not_claimed(tmp_path):
    path = tmp_path / "saxs.csv"
    path.write_text("q(nm-1),I(q),Err\n" + "\n".join(f"{0.1 + i * 0.01:.3f},{1e4 / (1 + i)},{1.0}" for i in range(300)))
    assert detect_format_or_none(path) not in ("xrd-csv", "xrd-xy")


def test_headerless_angle_csv_is_claimed(tmp_path):
    path = tmp_path / "scan.csv"
    path.write_text("\n".join(f"{10 + 0.02 * i:.2f},{100 + i % 7}" for i in range(500)))
    assert detect_format(str(path)).format == "xrd-csv"


def detect_format_or_none(path: Path) -> str | None:
    try:
        return detect_format(str(path)).format
    except InputError:
        return None


# ---------------------------------------------------------------- hostile and broken files
def test_repeated_two_theta_is_an_input_error(tmp_path):
    path = tmp_path / "dup.xy"
    lines = [f"{10 + 0.02 * i:.2f} {100 + i}" for i in range(100)]
    lines.insert(50, lines[49])
    path.write_text("\n".join(lines))
    with pytest.raises(InputError, match="occurs more than once"):
        read(str(path))


def test_repeated_two_theta_via_cli_is_exit_2_with_one_line(tmp_path):
    path = tmp_path / "dup.xy"
    path.write_text("\n".join(f"{10 + 0.02 * (i // 2):.2f} {100 + i}" for i in range(400)))
    proc = run_cli("run", "xrd.scherrer", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "occurs more than once" in proc.stderr
    assert "Traceback" not in proc.stderr


def _zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_brml_zip_bomb_is_refused_via_cli_and_writes_nothing(tmp_path):
    bomb = _zip(tmp_path / "bomb.brml", {f"x/{RAW}": b" " * (30 * 1024 * 1024)})
    work = tmp_path / "cwd"
    work.mkdir()
    proc = run_cli("read", str(bomb), cwd=work)
    assert proc.returncode == 2 and "zip bomb" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("member", [f"../../{RAW}", f"/etc/{RAW}"])
def test_brml_member_escaping_the_archive_is_refused(tmp_path, member):
    bad = tmp_path / "evil.brml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("placeholder")
        info.filename = member  # ZipInfo() would strip a leading '/'; a hostile tool does not
        zf.writestr(info, b"<RawData/>")
    bad.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match="unsafe member path"):
        read(str(bad))


def test_brml_billion_laughs_is_refused_via_cli(tmp_path):
    entities = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)]
    lol = ('<?xml version="1.0"?>\n<!DOCTYPE RawData [' + "".join(entities)
           + ']>\n<RawData>&a9;</RawData>').encode()
    path = _zip(tmp_path / "lol.brml", {f"x/{RAW}": lol})
    proc = run_cli("read", str(path))
    assert proc.returncode == 2
    assert "entities" in proc.stderr and proc.stderr.strip().count("\n") == 0


def test_brml_without_raw_data_names_what_is_missing(tmp_path):
    path = _zip(tmp_path / "empty.brml", {"x/experimentCollection.xml": b"<a/>"})
    with pytest.raises(InputError, match="no Experiment"):
        read(str(path))


def test_brml_with_non_numeric_datum_is_refused(tmp_path, pattern):
    path = write_brml(str(tmp_path / "bad.brml"), pattern, datum=["1,1,10.0,5"] * 30 + ["1,1,abc,5"])
    with pytest.raises(InputError, match="not a list of numbers"):
        read(path)


def test_semicolon_csv_with_decimal_commas(tmp_path):
    path = tmp_path / "de.csv"
    rows = [f"{10 + 0.02 * i:.2f};{100 + i}".replace(".", ",") for i in range(300)]
    path.write_text("2Theta;Intensität\n" + "\n".join(rows), encoding="utf-8")
    data = read(str(path))
    assert data.two_theta_deg[1] == pytest.approx(10.02)
    assert data.two_theta_deg.size == 300


def test_bruker_binary_raw_is_refused_with_what_to_export(tmp_path):
    path = tmp_path / "scan.raw"
    path.write_bytes(b"RAW4.00" + b"\0" * 500)
    with pytest.raises(InputError, match="export the scan from DIFFRAC.EVA as .brml"):
        read(str(path))
