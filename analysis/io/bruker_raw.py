"""Bruker/Siemens binary .raw powder scans: the DIFFRAC-plus "RAW1.01" layout.

RAW1.01 is what DIFFRAC-plus (XCH, EVA up to v3; D8/D5000/D2 instruments) writes; its
ASCII exports start ";RAW4.00", hence "v4" in the lab. Layout from DIFFRAC-plus FILE
EXCHANGE and XCH, Release 2002, Appendix A.1, as implemented in xylib
(xylib/bruker_raw.cpp, LGPL; no code copied), and checked byte for byte against four
real files and an XCH text export (tests/data/xrd/, tests/analysis/test_bruker_raw.py).
All numbers little-endian:

- file header, 712 bytes: magic "RAW1.01\\0"; uint32 file status at 8 (1 done, 2 active,
  3 aborted, 4 interrupted); uint32 number of ranges at 12; date (MM/DD/YY) at 16 and time
  at 26 (10 chars each); user at 36 (72), site at 108 (218), sample ID at 326 (60),
  comment at 386 (160); uint32 primary monochromator code at 580; anode at 608 (4 chars);
  float64 Kα average, Kα1, Kα2, Kβ (Å) and Kα2/Kα1 ratio at 616, 624, 632, 640, 648;
- per range, a 304-byte header: uint32 length (304) at 0, uint32 steps at 4, float64 start
  θ at 8 and start 2θ at 16, float64 step at 176, float32 time per step (s) at 192, uint32
  generator kV and mA at 224 and 228, float64 wavelength used at 240, uint32 size of the
  supplementary headers that follow at 256; then `steps` float32 counts.

Other versions are refused with a message: "RAW " (v1) and "RAW2" (DIFFRAC-AT), and
"RAW4.00" (DIFFRAC.SUITE, segment-based), whose layout LabTrack has not verified on
real files.
"""
from __future__ import annotations

import os
import struct
from datetime import datetime
from typing import Any

import numpy as np

from analysis.data import PowderPattern
from analysis.io import reader
from analysis.io.powder import build_pattern
from analysis.result import InputError

FORMAT = "bruker-raw"
FILE_HEADER = 712
RANGE_HEADER = 304
MAX_RANGES = 1000
EXPORT = "export the scan from DIFFRAC.EVA as .brml, .xy or .csv and upload that"
_STATUS = {1: "done", 2: "active", 3: "aborted", 4: "interrupted"}
_OTHER_VERSIONS = {
    b"RAW ": "version 1 (DIFFRAC-AT)",
    b"RAW2": "version 2 (DIFFRAC-AT)",
    b"RAW4": "RAW4.00 (DIFFRAC.SUITE)",
}


def sniff(path: str) -> bool:
    """A .raw file with a Bruker/Siemens magic ("RAW ", "RAW2", "RAW1.01", "RAW4.00")."""
    if os.path.splitext(path)[1].lower() != ".raw":
        return False
    with open(path, "rb") as fh:
        return fh.read(3) == b"RAW"


class _Bytes:
    """Little-endian fields of the file, with a clear error past its end."""

    def __init__(self, data: bytes, path: str):
        self.data, self.path = data, path

    def need(self, end: int, what: str) -> None:
        if end > len(self.data):
            raise InputError(f"the .raw file is truncated: {what} needs {end} bytes, the file has "
                             f"{len(self.data)}; {EXPORT}", self.path)

    def u32(self, at: int) -> int:
        return struct.unpack_from("<I", self.data, at)[0]

    def f32(self, at: int) -> float:
        return float(struct.unpack_from("<f", self.data, at)[0])

    def f64(self, at: int) -> float:
        return float(struct.unpack_from("<d", self.data, at)[0])

    def text(self, at: int, size: int) -> str:
        return self.data[at:at + size].split(b"\0")[0].decode("latin-1").strip()


def _version_check(data: bytes, path: str) -> None:
    if data[:7] == b"RAW1.01":
        return
    what = _OTHER_VERSIONS.get(data[:4])
    if what is None:
        magic = data[:7].decode("latin-1", errors="replace").rstrip("\0 ")
        raise InputError(f"this .raw file starts {magic!r}, not a Bruker RAW layout LabTrack knows; "
                         f"{EXPORT}", path)
    raise InputError(f"Bruker .raw {what} is not read (only RAW1.01, DIFFRAC-plus); {EXPORT}", path)


def _date(date: str, time: str) -> str | None:
    try:
        return datetime.strptime(f"{date} {time}", "%m/%d/%y %H:%M:%S").isoformat()
    except ValueError:
        return None


@reader(FORMAT, kind=PowderPattern.kind, sniff=sniff, options=("range",))
def read_bruker_raw(path: str, **options: Any) -> PowderPattern:
    """One range (reader option `range`, 1-based, default the first) of a RAW1.01 file:
    2θ (degrees, ascending), counts, and the scan's metadata (sample, date, tube,
    wavelengths, step time)."""
    requested = options.get("range", 1)
    with open(path, "rb") as fh:
        data = fh.read()
    _version_check(data, path)
    b = _Bytes(data, path)
    b.need(FILE_HEADER, "the file header")
    n_ranges = b.u32(12)
    if not 1 <= n_ranges <= MAX_RANGES:
        raise InputError(f"the .raw header declares {n_ranges} ranges; {EXPORT}", path)
    try:
        wanted = int(requested)
    except (TypeError, ValueError):
        raise InputError(f"reader option range={requested!r} must be a whole number") from None
    if not 1 <= wanted <= n_ranges:
        raise InputError(f"range {wanted} was asked for, the file has {n_ranges} (1 to {n_ranges})", path)

    offset, ranges = FILE_HEADER, []
    for number in range(1, n_ranges + 1):
        b.need(offset + RANGE_HEADER, f"the header of range {number}")
        if b.u32(offset) != RANGE_HEADER:
            raise InputError(f"range {number} has a {b.u32(offset)}-byte header, not the {RANGE_HEADER} "
                             f"of RAW1.01; {EXPORT}", path)
        steps, supplementary = b.u32(offset + 4), b.u32(offset + 256)
        start = offset + RANGE_HEADER + supplementary
        b.need(start + 4 * steps, f"range {number} ({steps} points)")
        ranges.append((offset, start, steps))
        offset = start + 4 * steps

    head, start, steps = ranges[wanted - 1]
    counts = np.frombuffer(data, dtype="<f4", count=steps, offset=start).astype(float)
    two_theta_start, step = b.f64(head + 16), b.f64(head + 176)
    if not step > 0:
        raise InputError(f"range {wanted} has a step of {step:g}°; {EXPORT}", path)
    two_theta = two_theta_start + step * np.arange(steps)

    ka1, ka2, ratio = b.f64(624), b.f64(632), b.f64(648)
    anode = b.text(608, 4)
    meta: dict[str, Any] = {
        "raw_version": "RAW1.01",
        "file_status": _STATUS.get(b.u32(8), f"code {b.u32(8)}"),
        "sample_name": b.text(326, 60),
        "user": b.text(36, 72) or None,
        "site": b.text(108, 218) or None,
        "comment": b.text(386, 160) or None,
        "measured_at": _date(b.text(16, 10), b.text(26, 10)),
        "wavelength_kbeta_angstrom": b.f64(640) or None,
        "primary_monochromator_code": b.u32(580),
        "range": wanted,
        "ranges_in_file": n_ranges,
        "start_theta_deg": b.f64(head + 8),
        "time_per_step_s": round(b.f32(head + 192), 6),   # float32 in the file
        "tube_voltage_kv": b.u32(head + 224),
        "tube_current_ma": b.u32(head + 228),
        "wavelength_used_angstrom": b.f64(head + 240) or None,
    }
    if not ka1 > 0:
        meta["radiation_assumed"] = "Cu Kα1+Kα2 (not stated in the file)"
    # The file's own Kα2/Kα1 ratio; 0 (or no Kα2 wavelength) when a Kα1 monochromator
    # removed Kα2. With no wavelengths at all, build_pattern assumes Cu Kα1+Kα2.
    stated_ratio = None
    if ka1 > 0:
        stated_ratio = ratio if ka2 > 0 and ratio >= 0 else 0.0
    return build_pattern(two_theta, counts, path, fmt=FORMAT, metadata=meta,
                         ka1_angstrom=ka1 if ka1 > 0 else None, ka2_angstrom=ka2 if ka2 > 0 else None,
                         ka2_ratio=stated_ratio, anode=anode or "Cu")
