"""SAXS I(q) curves from text: Xenocs XSACT exports (.dat/.txt/.csv), generic 2-4 column
tables (q, I, [sigma, [dq]]) and SAXSquant PDH files.

The q unit comes from the header (column title such as "q(A-1)" or "q (1/nm)", or a line
like "q unit: nm^-1") or from the `q_unit` option; a file that states neither is refused,
because a factor-of-ten error in q is a factor-of-ten error in every size. PDH files hold
q in 1/nm by that format's convention (SAXSquant/PCG, Anton Paar): five header lines
(title, keywords, 8 integers starting with the point count, two lines of 5 reals with the
sample-detector distance and wavelength), then q, I, sigma rows.
"""
from __future__ import annotations

import os
import re

import numpy as np

from analysis.data import SaxsCurve
from analysis.io import reader
from analysis.io.text_table import SNIFF_BYTES, TextTable, parse_text_table, read_text
from analysis.io.text_table_stream import read_text_table
from analysis.result import InputError

EXTENSIONS = (".dat", ".txt", ".csv", ".pdh")
MIN_POINTS = 10

# q units as written in headers -> factor to 1/nm. Matched on a normalised token
# (lower case, Å -> a, ⁻¹ -> -1, spaces, ^ and braces removed).
_UNIT_FACTORS = {
    "1/a": 10.0, "a-1": 10.0, "1/angstrom": 10.0, "angstrom-1": 10.0, "1/ang": 10.0,
    "ang-1": 10.0, "inv.a": 10.0, "inverseangstrom": 10.0,
    "1/nm": 1.0, "nm-1": 1.0, "inv.nm": 1.0, "inversenm": 1.0,
}
_SUPERSCRIPT = str.maketrans({"⁻": "-", "¹": "1", "Å": "a", "å": "a", "Ǻ": "a", "µ": "u"})
# An explicit unit statement anywhere in the header: "q unit: 1/nm", "Q units = A^-1".
_Q_UNIT_LINE = re.compile(r"\bq[\s_-]*units?\s*[:=]\s*(\S+)", re.I)
_NOT_Q_AXIS = ("wavelength", "energy", "ev", "2theta", "2-theta", "two_theta", "2θ",
               "theta", "angle", "raman", "cm-1", "wavenumber")


def normalise_unit(text: str) -> str:
    """Lower-case unit token with Å, superscripts, spaces, ^ and braces made plain."""
    t = text.strip().translate(_SUPERSCRIPT).lower()
    return re.sub(r"[\s^{}]", "", t)


def unit_factor(unit: str, path: str | None = None) -> float:
    """Factor that converts q in `unit` to 1/nm; InputError for a unit we do not know."""
    factor = _UNIT_FACTORS.get(normalise_unit(unit))
    if factor is None:
        raise InputError(
            f"unknown q unit {unit!r}: use 1/nm (nm^-1) or 1/A (Å^-1, A-1)", path)
    return factor


def _header_q_unit(table: TextTable, path: str | None) -> str | None:
    """The q unit stated in the header, or None. An unrecognised unit is an error rather
    than a guess."""
    for line in table.header:
        m = _Q_UNIT_LINE.search(line)
        if m:
            unit_factor(m.group(1), path)
            return m.group(1)
    unit = title_unit(_first_column_title(table))
    if unit is not None:
        unit_factor(unit, path)
    return unit


def title_unit(title: str) -> str | None:
    """The unit in a q column title: "q(A-1)", "q [1/nm]", "Q (Å⁻¹)", "q_nm^-1",
    "q / nm-1"; None when the title is not q or carries no unit."""
    m = re.match(r"q(?![a-z])[\s_]*(.*)$", title.strip(), re.I)
    if not m:
        return None
    rest = m.group(1)
    bracket = re.match(r"[(\[{]\s*([^)\]}]*?)\s*[)\]}]", rest)
    if bracket:
        return bracket.group(1) or None
    rest = rest.lstrip("/ ")
    token = rest.split()[0].rstrip(",;") if rest.split() else ""
    return token if re.search(r"/|-1|\^|⁻", token) else None


def _first_column_title(table: TextTable) -> str:
    if table.column_names:
        return table.column_names[0].strip()
    return next((ln for ln in reversed(table.header) if ln.strip()), "").strip()


def looks_like_saxs(table: TextTable) -> bool:
    """True for a table whose first column is q: a q unit in the header, or (no header)
    q spanning over a decade below 10 1/nm with intensity falling steeply."""
    title = _first_column_title(table).lower()
    if any(word in title for word in _NOT_Q_AXIS):
        return False
    data = table.data
    if data.ndim != 2 or data.shape[1] < 2 or data.shape[1] > 4 or len(data) < 3:
        return False
    x, y = data[:, 0], data[:, 1]
    if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(np.diff(x) <= 0):
        return False
    try:
        if _header_q_unit(table, None):
            return x[-1] < 100.0
    except InputError:
        return title.startswith("q")  # a q column with a bad unit: ours, to report it
    if title.startswith("q"):
        return x[-1] < 100.0
    # Headerless: wavelength (200-1100 nm) and 2θ (5-120°) fail the range tests.
    pos = x[x > 0]
    if len(pos) < 10 or x[-1] >= 10.0 or x[-1] / pos[0] < 8.0:
        return False
    n = max(len(y) // 10, 1)
    head, tail = np.median(y[:n]), np.median(y[-n:])
    return head > 0 and head > 10.0 * abs(tail)


def sniff(path: str) -> bool:
    """Recognise a SAXS curve by extension and content."""
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path) or ext not in EXTENSIONS:
        return False
    try:
        table = parse_text_table(read_text(path, SNIFF_BYTES), max_lines=400, strict=False)
    except InputError:
        return False
    if ext == ".pdh":
        return _is_pdh_header(table.header)
    return looks_like_saxs(table)


def _is_pdh_header(header: list[str]) -> bool:
    if len(header) != 5:
        return False
    counts = header[2].split()
    return len(counts) == 8 and all(re.fullmatch(r"-?\d+", c) for c in counts)


@reader("saxs-text", kind=SaxsCurve.kind, sniff=sniff, options=("q_unit",), text_table=True)
def read_saxs(path: str, q_unit: str | None = None) -> SaxsCurve:
    """Read a SAXS curve; returns q in 1/nm, intensity and sigma (None if absent) in the
    file's intensity unit."""
    table = read_text_table(path)
    data = table.data
    if data.shape[1] > 4:
        raise InputError(f"expected 2 to 4 columns (q, I, sigma, dq), found {data.shape[1]}", path)
    is_pdh = path.lower().endswith(".pdh") and _is_pdh_header(table.header)
    metadata = _metadata(table, is_pdh)
    if q_unit:
        unit, source = q_unit, "option"
    else:
        unit, source = _header_q_unit(table, path), "header"
        if unit is None and is_pdh:
            unit, source = "1/nm", "pdh convention"
    if unit is None:
        raise InputError(
            "the q unit is not stated in the file header; give it with q_unit=1/nm or "
            "q_unit=1/A", path)
    factor = unit_factor(unit, path)
    q, intensity = data[:, 0] * factor, data[:, 1]
    sigma = data[:, 2] if data.shape[1] >= 3 else None
    _check(q, intensity, path)
    if sigma is not None and not np.all(np.isfinite(sigma) & (sigma > 0)):
        metadata["warning"] = "some uncertainties are zero or missing; they are ignored"
        sigma = None
    order = np.argsort(q)
    metadata.update(q_unit_in_file=unit, q_unit_source=source, n_points=int(len(q)),
                    q_min_per_nm=float(q[order][0]), q_max_per_nm=float(q[order][-1]),
                    has_uncertainties=sigma is not None)
    return SaxsCurve(
        format="saxs-pdh" if is_pdh else "saxs-text", source=path, metadata=metadata,
        q_per_nm=q[order], intensity=intensity[order],
        sigma=None if sigma is None else sigma[order],
    )


def _check(q: np.ndarray, intensity: np.ndarray, path: str) -> None:
    if len(q) < MIN_POINTS:
        raise InputError(f"only {len(q)} data points; a SAXS curve needs at least {MIN_POINTS}", path)
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise InputError("the q column has negative or missing values", path)
    if not np.all(np.isfinite(intensity)):
        raise InputError("the intensity column has missing (NaN/inf) values", path)
    if not np.any(intensity > 0) or np.median(intensity) <= 0:
        raise InputError("the intensities are all zero or negative", path)


def _metadata(table: TextTable, is_pdh: bool) -> dict:
    """Acquisition metadata from "key: value" header lines (JSON-safe)."""
    meta: dict = {}
    if is_pdh:
        meta["title"] = table.header[0].strip()
        reals = table.header[3].split()
        try:
            meta["sample_detector_distance_mm"] = float(reals[1])
            meta["wavelength_nm"] = float(reals[4])
        except (IndexError, ValueError):
            pass
        return meta
    for line in table.header:
        key, sep, value = line.partition(":")
        if sep and key.strip() and len(key) < 60:
            meta[_key(key)] = _value(value.strip())
        elif line.strip() and "title" not in meta and not sep:
            meta["title"] = line.strip()
    if table.column_names:
        meta["columns"] = table.column_names
    return meta


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _value(text: str):
    try:
        return float(text)
    except ValueError:
        return text
