"""An upload is checked in the web request from a bounded part of the file: a 100 MiB
table must not be parsed whole there (issue 14: 3.1 GiB in one gunicorn worker)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from analysis.io import INSPECT_FULL_READ_BYTES, inspect, read
from analysis.result import InputError

MIB = 1024 * 1024


def _write_pl_csv(path, target_bytes: int) -> int:
    """A long but honest PL export: monotonic wavelengths, a Gaussian band; returns rows."""
    rows_per_block = 200_000
    written, rows, start = 0, 0, 400.0
    with open(path, "w") as out:
        out.write("Wavelength (nm),Intensity (counts)\n")
        while written < target_bytes:
            x = start + np.arange(rows_per_block) * 6e-5  # 400-720 nm over 100 MiB
            y = 1000.0 * np.exp(-0.5 * ((x - 515.0) / 8.0) ** 2) + 5.0
            block = "".join(f"{a:.5f},{b:.3f}\n" for a, b in zip(x, y))
            out.write(block)
            written += len(block)
            rows += rows_per_block
            start = float(x[-1]) + 6e-5
    return rows


@pytest.mark.slow
def test_a_100_mib_pl_csv_is_checked_from_its_start_in_bounded_memory(tmp_path):
    path = tmp_path / "NC12.8-P_pl.csv"
    _write_pl_csv(path, 100 * MIB)
    tracemalloc.start()
    try:
        found = inspect(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (found.format, found.kind, found.read_in_full) == ("pl-text", "pl-spectrum", False)
    # The parse of an 8 MiB prefix, not of 100 MiB (a full parse peaks above 1 GiB).
    assert peak < 100 * MIB, f"inspection peaked at {peak / MIB:.0f} MiB"


def test_a_small_file_is_still_read_in_full_so_its_faults_show_at_upload(tmp_path):
    path = tmp_path / "pl.csv"
    _write_pl_csv(path, 1 * MIB)
    found = inspect(str(path))
    assert found.read_in_full and found.kind == "pl-spectrum"
    whole = read(str(path))
    assert found.metadata == dict(whole.metadata)


def test_a_big_table_whose_start_is_malformed_is_refused_at_upload(tmp_path):
    path = tmp_path / "pl.csv"
    _write_pl_csv(path, INSPECT_FULL_READ_BYTES + MIB)
    with open(path, "r+b") as f:  # break the first data rows: text where numbers belong
        f.seek(len("Wavelength (nm),Intensity (counts)\n"))
        f.write(b"abc,def\n" * 10)
    with pytest.raises(InputError):
        inspect(str(path), full_read_bytes=INSPECT_FULL_READ_BYTES)


def test_a_big_binary_file_is_recognised_without_being_read(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "micrograph.tif"
    tifffile.imwrite(path, np.zeros((1024, 1024), dtype=np.uint16))
    found = inspect(str(path), full_read_bytes=64 * 1024)
    assert found.kind == "micrograph" and found.read_in_full is False and found.metadata == {}


def test_a_prefix_keeps_header_text_but_not_numbers_that_describe_only_the_prefix(tmp_path):
    path = tmp_path / "pl.csv"
    _write_pl_csv(path, 3 * MIB)
    found = inspect(str(path), full_read_bytes=1 * MIB)
    assert found.metadata["columns"] == ["Wavelength (nm)", "Intensity (counts)"]
    assert "n_points" not in found.metadata and "wavelength_max_nm" not in found.metadata
    assert 0 < found.metadata["checked_first_bytes"] <= 1 * MIB
