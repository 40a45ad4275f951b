"""Zip limits: member count, unpacked size, compression ratio, names, streamed reading;
and the clean-up of temp folders that killed workers leave behind.

Every bomb here is built by the test (zeros deflate ~1,000 fold), never committed."""
from __future__ import annotations

import io
import os
import struct
import time
import zipfile

import pytest

from analysis.io import archive
from analysis.io.archive import (
    CHUNK_BYTES, GiB, MiB, ZipLimits, copy_member, extract_safely, open_zip, read_member,
    remove_stale_temp_dirs,
)
from analysis.result import InputError


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


def _zeros_member(zf: zipfile.ZipFile, name: str, size: int) -> None:
    """Write `size` zero bytes as one deflated member without holding them in memory."""
    chunk = bytes(8 * MiB)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as out:
        left = size
        while left:
            out.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))


def test_defaults_match_the_documented_limits():
    limits = ZipLimits()
    assert (limits.max_members, limits.max_total_bytes) == (2_000, 2 * GiB)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LABTRACK_ZIP_MAX_TOTAL_BYTES", "1e6")
    monkeypatch.setenv("LABTRACK_ZIP_MAX_MEMBERS", "5")
    limits = ZipLimits.from_env()
    assert limits.max_total_bytes == 1_000_000 and limits.max_members == 5


def test_too_many_members_are_refused_before_reading(tmp_path):
    path = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(2_001)})
    with pytest.raises(InputError, match="has 2,001 files in it; LabTrack accepts at most 2,000"):
        open_zip(path)


def test_exactly_the_member_limit_is_accepted(tmp_path):
    path = _zip(tmp_path / "ok.zip", {f"f{i}.txt": b"x" for i in range(2_000)})
    with open_zip(path) as zf:
        assert len(zf.infolist()) == 2_000


@pytest.mark.slow
def test_zip_bomb_from_the_issue_is_refused_before_extraction(tmp_path):
    # 4 x 250 MiB of zeros in ~1 MiB: each member is inside the old per-member limit,
    # the total was inside the old 1 GiB; the ratio gives it away.
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(4):
            _zeros_member(zf, f"pdata/1/{i}r", 250 * MiB)
    assert path.stat().st_size < 5 * MiB
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(InputError, match="zip bomb"):
        extract_safely(str(path), str(dest))
    assert list(dest.iterdir()) == []  # refused from the directory: nothing was written


def test_unpacked_total_over_the_limit_is_refused(tmp_path):
    # Random bytes do not compress: this is about size, not ratio.
    path = _zip(tmp_path / "big.zip", {"a.bin": os.urandom(600_000), "b.bin": os.urandom(600_000)})
    with pytest.raises(InputError, match=r"would unpack to 1 MiB; the limit is 1 MiB|would unpack to"):
        open_zip(path, ZipLimits(max_total_bytes=1 * MiB))


def test_good_compression_of_small_members_is_fine(tmp_path):
    # A mostly blank 500 KiB parameter file compresses >100 fold and is harmless.
    path = _zip(tmp_path / "small.zip", {"acqus": b"##$" + bytes(500_000)})
    with open_zip(path) as zf:
        assert read_member(zf, "acqus", path).startswith(b"##$")


@pytest.mark.parametrize("name", ["/etc/passwd", "../../etc/passwd", "a/../../x", "..\\..\\x", "C:\\evil", "\\\\srv\\x"])
def test_unsafe_member_names_are_refused(tmp_path, name):
    path = _zip(tmp_path / "evil.zip", {name: b"x"})
    with pytest.raises(InputError, match="unsafe member path"):
        open_zip(path)


def test_truncated_zip_is_an_input_error(tmp_path):
    whole = _zip(tmp_path / "whole.zip", {"fid": os.urandom(10_000)})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(open(whole, "rb").read()[:5_000])
    with pytest.raises(InputError, match="not a readable zip archive"):
        open_zip(str(cut))


def test_member_larger_than_its_directory_entry_says_is_refused(tmp_path):
    # Forge the declared size (local header and central directory) down to 10 bytes.
    data = b"a" * 5_000
    path = tmp_path / "forged.zip"
    raw = open(_zip(path, {"fid": data}, compression=zipfile.ZIP_STORED), "rb").read()
    real, fake = struct.pack("<I", len(data)), struct.pack("<I", 10)
    path.write_bytes(raw.replace(real + real, real + fake))  # compressed size stays, file size lies
    with open_zip(str(path)) as zf:
        assert zf.getinfo("fid").file_size == 10
        with pytest.raises(InputError, match="cannot be unpacked"):
            read_member(zf, "fid", str(path))


def test_read_member_stops_at_its_limit(tmp_path):
    path = _zip(tmp_path / "x.zip", {"RawData0.xml": b"<x/>" * 1000})
    with open_zip(path) as zf, pytest.raises(InputError, match="is larger than"):
        read_member(zf, "RawData0.xml", path, limit=100)


def test_members_are_copied_in_bounded_chunks(tmp_path):
    path = _zip(tmp_path / "x.zip", {"ser": os.urandom(3 * CHUNK_BYTES + 17)})

    class Recorder(io.RawIOBase):
        def __init__(self):
            self.sizes = []

        def write(self, b):
            self.sizes.append(len(b))
            return len(b)

    out = Recorder()
    with open_zip(path) as zf:
        assert copy_member(zf, zf.getinfo("ser"), out, path) == 3 * CHUNK_BYTES + 17
    assert max(out.sizes) <= CHUNK_BYTES and len(out.sizes) >= 4


def test_extraction_counts_the_bytes_actually_inflated(tmp_path, monkeypatch):
    # If the directory's sizes slipped past the check, the running total still stops it.
    path = _zip(tmp_path / "x.zip", {"a": os.urandom(300_000), "b": os.urandom(300_000)})
    monkeypatch.setattr(archive, "check_members", lambda *a, **k: None)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(InputError, match="unpacks to more than"):
        extract_safely(path, str(dest), ZipLimits(max_total_bytes=400_000))


def test_extract_safely_writes_every_member(tmp_path):
    path = _zip(tmp_path / "exp.zip", {"10/acqus": b"##TITLE", "10/pdata/1/1r": os.urandom(2_000)})
    dest = tmp_path / "out"
    dest.mkdir()
    written = extract_safely(path, str(dest))
    assert sorted(os.path.relpath(p, dest) for p in written) == ["10/acqus", "10/pdata/1/1r"]
    assert (dest / "10" / "acqus").read_bytes() == b"##TITLE"


# ------------------------------------------------------------------ stale temp folders

def _aged(path, hours: float):
    path.mkdir()
    (path / "fid").write_bytes(b"x")
    stamp = time.time() - hours * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_stale_worker_temp_dirs_are_removed_and_fresh_ones_kept(tmp_path):
    old_run = _aged(tmp_path / "labtrack-run-abc", 10)
    old_topspin = _aged(tmp_path / "topspin-xyz", 7)
    fresh_run = _aged(tmp_path / "labtrack-run-now", 0.1)
    other = _aged(tmp_path / "someone-elses-dir", 48)
    outside = _aged(tmp_path / "outside-target", 48)
    link = tmp_path / "labtrack-run-link"
    link.symlink_to(outside, target_is_directory=True)
    stale_file = tmp_path / "topspin-file"
    stale_file.write_text("not a dir")
    os.utime(stale_file, (0, 0))

    removed = remove_stale_temp_dirs(6, temp_dir=str(tmp_path))

    assert sorted(removed) == sorted([str(old_run), str(old_topspin)])
    assert not old_run.exists() and not old_topspin.exists()
    assert fresh_run.exists() and other.exists() and stale_file.exists()
    assert link.is_symlink() and (outside / "fid").exists()  # links are never followed


def test_stale_cleanup_of_a_missing_temp_dir_is_a_no_op(tmp_path):
    assert remove_stale_temp_dirs(1, temp_dir=str(tmp_path / "nope")) == []
