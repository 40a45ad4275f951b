"""Photoluminescence emission spectra from CSV/TXT exports of fluorimeters.

The first column is the axis: wavelength in nm (200-1100) or photon energy in eV
(1-6.5), decided from the column title ("Wavelength (nm)", "Energy (eV)") and, without a
title, from the range. Energy-axis files are converted to a wavelength axis with the
Jacobian, I(λ) = I(E)·hc/λ², so that `PlSpectrum.intensity` is per nm.
"""
from __future__ import annotations

import os
import re

import numpy as np

from analysis.data import PlSpectrum
from analysis.io import reader
from analysis.io.text_table import SNIFF_BYTES, TextTable, parse_text_table, read_text
from analysis.io.text_table_stream import read_text_table
from analysis.result import InputError

HC_EV_NM = 1239.841984  # h c in eV nm (CODATA 2018)
EXTENSIONS = (".csv", ".txt")
WAVELENGTH_RANGE_NM = (200.0, 1100.0)
ENERGY_RANGE_EV = (1.0, 6.5)
MIN_POINTS = 10


def _axis_title(table: TextTable) -> str:
    if table.column_names:
        return table.column_names[0].lower()
    last = next((ln for ln in reversed(table.header) if ln.strip()), "")
    return last.lower()


def axis_kind(table: TextTable) -> str | None:
    """"wavelength", "energy" or None from the first column's title and range."""
    data = table.data
    if data.ndim != 2 or data.shape[1] < 2 or len(data) < 3:
        return None
    x = data[:, 0]
    if not np.all(np.isfinite(x)):
        return None
    lo, hi = float(x.min()), float(x.max())
    title = _axis_title(table)
    if re.search(r"\bq\b|2\s*theta|2θ|angle", title):
        return None
    in_nm = WAVELENGTH_RANGE_NM[0] <= lo and hi <= WAVELENGTH_RANGE_NM[1]
    in_ev = ENERGY_RANGE_EV[0] <= lo and hi <= ENERGY_RANGE_EV[1]
    if re.search(r"energy|\bev\b|\(ev\)", title):
        return "energy" if in_ev else None
    if "wavelength" in title or re.search(r"\bnm\b", title) or "λ" in title:
        return "wavelength" if in_nm else None
    # No axis title: only a wavelength range is distinctive enough to claim.
    monotonic = np.all(np.diff(x) > 0) or np.all(np.diff(x) < 0)
    return "wavelength" if in_nm and monotonic and hi - lo >= 20 else None


def sniff(path: str) -> bool:
    """Recognise a PL spectrum: .csv/.txt whose first column is wavelength or energy."""
    if not os.path.isfile(path) or os.path.splitext(path)[1].lower() not in EXTENSIONS:
        return False
    try:
        table = parse_text_table(read_text(path, SNIFF_BYTES), max_lines=400, strict=False)
    except InputError:
        return False
    return axis_kind(table) is not None


@reader("pl-text", kind=PlSpectrum.kind, sniff=sniff, text_table=True)
def read_pl(path: str) -> PlSpectrum:
    """Read an emission spectrum; returns ascending wavelength (nm) and intensity per nm
    (the second column; further columns are ignored)."""
    table = read_text_table(path)
    axis = axis_kind(table)
    if axis is None:
        raise InputError(
            "the first column is neither wavelength in nm (200-1100) nor energy in eV (1-6.5)", path)
    x, y = table.data[:, 0], table.data[:, 1]
    if len(x) < MIN_POINTS:
        raise InputError(f"only {len(x)} data points; a spectrum needs at least {MIN_POINTS}", path)
    if not np.all(np.isfinite(y)):
        raise InputError("the intensity column has missing (NaN/inf) values", path)
    if not np.any(y > 0):
        raise InputError("the intensities are all zero or negative", path)
    if axis == "energy":
        lam = HC_EV_NM / x
        y = y * HC_EV_NM / lam**2  # per eV -> per nm
    else:
        lam = x
    # Most exports are already in ascending order: then the sort (an index array and two
    # gathered copies, ~150 MiB for a 100 MiB file) is skipped; the values are the same.
    order = slice(None) if np.all(lam[1:] > lam[:-1]) else np.argsort(lam)
    metadata = _metadata(table)
    metadata.update(axis_in_file=axis, n_points=int(len(x)),
                    wavelength_min_nm=float(lam.min()), wavelength_max_nm=float(lam.max()))
    return PlSpectrum(format="pl-text", source=path, metadata=metadata,
                      wavelength_nm=np.array(lam[order]), intensity=np.array(y[order]))


def _metadata(table: TextTable) -> dict:
    meta: dict = {}
    lines = table.header[:-1] if table.column_names else table.header
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            key, sep, value = line.partition(",")
        if sep and key.strip() and value.strip() and len(key) < 60:
            k = re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")
            try:
                meta[k] = float(value)
            except ValueError:
                meta[k] = value.strip()
    if table.column_names:
        meta["columns"] = table.column_names
    return meta
