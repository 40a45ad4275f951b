"""Powder XRD readers: .xy/.xye columns, DIFFRAC.EVA .csv exports, Bruker .brml.

All produce `analysis.data.PowderPattern` (2θ ascending, degrees). Plain column files
carry no radiation information: they are taken as Cu Kα1+Kα2 (ratio 0.5) unless a header
line names a Johansson/Kα1 monochromator or gives the wavelengths. Bruker binary .raw
files are read by `analysis.io.bruker_raw` (RAW1.01; other versions refused with a message).
"""
from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from analysis.data import PowderPattern
from analysis.io import brml  # noqa: F401  (registers the .brml reader first)
from analysis.io import bruker_raw  # noqa: F401  (registers the binary .raw reader)
from analysis.io import reader
from analysis.io.powder import build_pattern, looks_like_two_theta
from analysis.result import InputError

SNIFF_BYTES = 64 * 1024
_SPLIT = re.compile(r"[,;\t ]+")
_ANGLE_HEADER = re.compile(r"^\s*\"?(angle|2\s*-?\s*theta|2\s*θ|two[\s_]?theta|2th)\b", re.IGNORECASE)
_EVA_MARKERS = ("[measurement conditions", "[scan points", "diffrac")
# Words in a column file's header that mean an XPS/energy spectrum, not a 2θ scan.
_NOT_XRD = re.compile(r"binding energy|kinetic energy|\bregion\b|\bev\b|\bq\s*\(", re.IGNORECASE)


def _head(path: str) -> str:
    with open(path, "rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    text = raw.decode("utf-8-sig", errors="replace")
    # Only complete lines: the last one may be cut by the byte limit.
    return text.rsplit("\n", 1)[0] if len(raw) == SNIFF_BYTES else text


def _numeric_rows(lines: list[str]) -> tuple[list[list[float]], list[str]]:
    """Rows of numbers (2+ values) and the non-numeric lines before the first of them."""
    rows: list[list[float]] = []
    header: list[str] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if ";" in text:
            # European exports: ';' between columns and ',' as the decimal mark.
            cells = [c.strip().replace(",", ".") for c in text.strip(";").split(";")]
        else:
            cells = _SPLIT.split(text.strip(","))
        try:
            values = [float(c.strip('"')) for c in cells if c]
        except ValueError:
            if not rows:
                header.append(text)
                continue
            break  # trailing text after the data block ends it
        if len(values) >= 2:
            rows.append(values)
    return rows, header


def _first_column(rows: list[list[float]]) -> np.ndarray:
    return np.array([r[0] for r in rows], dtype=float)


# ---------------------------------------------------------------- .xy / .xye
def sniff_xy(path: str) -> bool:
    """.xy/.xye with 2-3 numeric columns whose first is a plausible 2θ axis."""
    if os.path.splitext(path)[1].lower() not in (".xy", ".xye"):
        return False
    rows, header = _numeric_rows(_head(path).splitlines())
    if _NOT_XRD.search(" ".join(header)):
        return False
    return len(rows) >= 10 and len(rows[0]) in (2, 3) and looks_like_two_theta(_first_column(rows))


@reader("xrd-xy", kind=PowderPattern.kind, sniff=sniff_xy, text_table=True)
def read_xy(path: str) -> PowderPattern:
    """Read 2θ (degrees), intensity [, esd] columns; '#', '!' or text lines are header."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        lines = fh.read().splitlines()
    rows, header = _numeric_rows(lines)
    if not rows:
        raise InputError("no numeric 2θ/intensity columns found", path)
    width = len(rows[0])
    if width not in (2, 3) or any(len(r) != width for r in rows):
        raise InputError("expected 2 or 3 numeric columns (2θ, intensity[, esd]) on every line", path)
    table = np.array(rows, dtype=float)
    meta, radiation = _header_metadata(header)
    if width == 3:
        meta["has_esd"] = True
    return build_pattern(table[:, 0], table[:, 1], path, fmt="xrd-xy", metadata=meta, **radiation)


# ---------------------------------------------------------------- DIFFRAC.EVA .csv
def sniff_eva_csv(path: str) -> bool:
    """A .csv whose header is an EVA/XRD export or whose first column is a 2θ scan."""
    if os.path.splitext(path)[1].lower() != ".csv":
        return False
    text = _head(path)
    lower = text.lower()
    if any(marker in lower for marker in _EVA_MARKERS):
        return True
    rows, header = _numeric_rows(text.splitlines())
    if header and _ANGLE_HEADER.match(header[-1]):
        return True  # the column-title line names an angle
    if header:
        # A named header that is not an angle (wavelength, q, energy...) is someone else's.
        return False
    return len(rows) >= 10 and looks_like_two_theta(_first_column(rows))


@reader("xrd-csv", kind=PowderPattern.kind, sniff=sniff_eva_csv, text_table=True)
def read_eva_csv(path: str) -> PowderPattern:
    """Read a DIFFRAC.EVA (or similar) csv export: a `[Measurement conditions:]` block of
    `key,value` lines, then a column header (`Angle,...`) and 2θ, counts rows."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        lines = fh.read().splitlines()
    rows, header = _numeric_rows(lines)
    if not rows:
        raise InputError("no numeric 2θ/intensity rows found after the header", path)
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) != width)
        raise InputError(f"data row {bad + 1} has {len(rows[bad])} values; the first row has {width}", path)
    table = np.array(rows, dtype=float)
    meta, radiation = _header_metadata(header)
    columns = next((h for h in reversed(header) if _ANGLE_HEADER.match(h)), None)
    if columns:
        meta["columns"] = [c.strip().strip('"') for c in columns.split(",")]
    return build_pattern(table[:, 0], table[:, 1], path, fmt="xrd-csv", metadata=meta, **radiation)


def _header_metadata(header: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Acquisition metadata and radiation keywords for build_pattern from `key,value`,
    `key=value` or `# key: value` header lines."""
    meta: dict[str, Any] = {}
    radiation: dict[str, Any] = {}
    for line in header:
        text = line.lstrip("#!;/ ").strip()
        match = re.match(r"^([^,=:]+?)\s*[,=:]\s*(.+)$", text)
        if not match:
            continue
        key, value = match.group(1).strip().strip('"').lower(), match.group(2).strip().strip('"').strip(",")
        number = _number(value)
        if "ratio" in key and number is not None:
            radiation["ka2_ratio"] = number
        elif re.search(r"(alpha|α|a)\s*2|ka2|kα2", key) and number is not None:
            radiation["ka2_angstrom"] = number
        elif re.search(r"(alpha|α|a)\s*1|ka1|kα1|wavelength|lambda", key) and number is not None:
            radiation["ka1_angstrom"] = number
        elif "anode" in key or key in ("target", "tube"):
            radiation["anode"] = value
        elif "monochromator" in key:
            radiation["monochromator"] = value
        elif "sample" in key and "sample_name" not in meta:
            meta["sample_name"] = value
        elif re.search(r"time.*step|step.*time", key) and number is not None:
            meta["time_per_step_s"] = number
    if "monochromator" not in radiation and re.search(r"johansson|k\s*α\s*1 only|ka1 only", " ".join(header), re.I):
        radiation["monochromator"] = "Johansson (from header)"
    if "ka1_angstrom" not in radiation:
        meta["radiation_assumed"] = "Cu Kα1+Kα2 (not stated in the file)"
    return meta, radiation


def _number(text: str) -> float | None:
    match = re.match(r"^[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", text.strip())
    return float(match.group(0)) if match else None
