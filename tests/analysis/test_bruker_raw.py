"""Bruker binary .raw (RAW1.01) on real files from xylib's samples (tests/data/README.md):
points against Bruker XCH's own text export, metadata, ranges, refusals of other versions."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.io import detect_format, read
from analysis.result import InputError

ROOT = Path(__file__).resolve().parents[2]
XRD = ROOT / "tests" / "data" / "xrd"
BT86 = XRD / "BT86.raw"


def uxd_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """2θ and counts from an XCH .UXD export (the lines after _2THETACOUNTS)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "_2THETACOUNTS") + 1
    table = np.array([[float(v) for v in line.split()] for line in lines[start:] if line.strip()])
    return table[:, 0], table[:, 1]


def test_raw1_01_points_match_the_xch_text_export():
    pattern = read(str(BT86))
    tt, counts = uxd_points(XRD / "BT86_.UXD")
    assert pattern.format == "bruker-raw"
    assert pattern.two_theta_deg.size == tt.size == 2374
    np.testing.assert_array_equal(pattern.intensity, counts)          # counts are exact
    # The export prints 2θ with 2-3 decimals; the binary holds start + i * step.
    assert np.max(np.abs(pattern.two_theta_deg - tt)) <= 0.006


def test_raw1_01_metadata_agrees_with_the_export_header():
    meta = read(str(BT86)).metadata
    assert meta["sample_name"] == "BT86"                      # _SAMPLE='BT86'
    assert meta["measured_at"] == "2010-03-04T20:59:14"       # _DATEMEASURED='04-Mar-2010 20:59:14'
    assert meta["wavelength_ka1_angstrom"] == pytest.approx(1.5406)   # _WL1
    assert meta["wavelength_ka2_angstrom"] == pytest.approx(1.54439)  # _WL2
    assert meta["ka2_ratio"] == pytest.approx(0.5)                    # _WLRATIO
    assert meta["step_deg"] == pytest.approx(0.015592, abs=1e-6)      # _STEPSIZE
    assert meta["time_per_step_s"] == pytest.approx(0.5)              # _STEPTIME
    assert (meta["tube_voltage_kv"], meta["tube_current_ma"]) == (45, 40)  # _KV, _MA
    assert meta["anode"] == "Cu" and meta["file_status"] == "done"


def test_raw1_01_from_another_instrument_reads():
    pattern = read(str(XRD / "Cu3Au-1.raw"))
    assert pattern.two_theta_deg[0] == pytest.approx(22.0)
    assert pattern.two_theta_deg.size == 3901
    assert pattern.metadata["sample_name"] == "Cu3Au-1"
    assert np.all(pattern.intensity >= 0) and pattern.intensity.max() > 100


def test_multi_range_file_reads_the_range_asked_for():
    first = read(str(XRD / "format1.raw"))
    third = read(str(XRD / "format1.raw"), range=3)
    assert first.metadata["ranges_in_file"] == 3
    assert (first.two_theta_deg[0], first.two_theta_deg[-1], first.two_theta_deg.size) == \
        pytest.approx((10.0, 20.0, 101))
    assert (third.two_theta_deg[0], third.two_theta_deg.size) == pytest.approx((40.0, 51))
    with pytest.raises(InputError, match="range 4 was asked for, the file has 3"):
        read(str(XRD / "format1.raw"), range=4)


def test_cli_reads_a_raw_file():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "analysis", "read", str(BT86)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "bruker-raw (powder-pattern)" in proc.stdout and "sample_name: BT86" in proc.stdout


@pytest.mark.parametrize("magic, version", [(b"RAW \x00\x00\x00", "version 1"),
                                            (b"RAW2\x00\x00\x00", "version 2"),
                                            (b"RAW4.00", "RAW4.00")])
def test_other_raw_versions_are_refused_with_what_to_do(tmp_path, magic, version):
    path = tmp_path / "scan.raw"
    path.write_bytes(magic + b"\0" * 800)
    assert detect_format(str(path)).format == "bruker-raw"
    with pytest.raises(InputError, match=f"{version}.*not read.*export the scan from DIFFRAC.EVA"):
        read(str(path))


def test_truncated_raw_file_says_so(tmp_path):
    path = tmp_path / "cut.raw"
    path.write_bytes(BT86.read_bytes()[:5000])
    with pytest.raises(InputError, match=r"truncated: range 1 \(2374 points\)"):
        read(str(path))
