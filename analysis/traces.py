"""Which stored curve of a routine is its measurement's trace (the spectrum, pattern or
curve a chemist overlays), on which axes, and which columns are its fit and components.
Declared once here and read through the registry; the compare view reads nothing else.

Also the storage of a run's curves as one compact array blob (.npz) and the min/max
decimation that bounds what a browser receives while keeping every peak.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np

from analysis.result import InputError


@dataclass(frozen=True)
class Axis:
    """One way of plotting a trace: curve name, x and y columns, labels, scales."""

    key: str                      # "ppm", "two_theta", "q", "wavelength", "energy"
    curve: str                    # curve in Result.curves holding the measured data
    x: str
    y: str
    x_label: str
    y_label: str
    x_reversed: bool = False      # NMR: chemical shift decreases to the right
    log_x: bool = False
    log_y: bool = False
    # The fit: curve and x column of the fitted model (may differ from the data's, e.g.
    # NMR fits a window of the full spectrum), the model column, and columns that are not
    # components (everything else in that curve is one fitted component).
    fit_curve: str = ""
    fit_x: str = ""
    fit_y: str = ""
    not_components: tuple[str, ...] = ()


@dataclass(frozen=True)
class TraceSpec:
    technique: str
    axes: tuple[Axis, ...] = field(default_factory=tuple)

    def axis(self, key: str | None) -> Axis:
        """The axis named `key`, the first one when None; InputError for an unknown key."""
        if not key:
            return self.axes[0]
        for axis in self.axes:
            if axis.key == key:
                return axis
        raise InputError(f"no axis {key!r} for {self.technique}; choose {', '.join(a.key for a in self.axes)}")


TRACES: dict[str, TraceSpec] = {
    "nmr.deconvolve": TraceSpec("nmr", (
        Axis("ppm", "full", "ppm", "data", "δ / ppm", "intensity / a.u.", x_reversed=True,
             fit_curve="spectrum", fit_x="ppm", fit_y="fit",
             not_components=("ppm", "data", "fit", "residual", "fit_baseline")),)),
    "xrd.scherrer": TraceSpec("xrd", (
        Axis("two_theta", "pattern", "two_theta_deg", "intensity", "2θ / °", "intensity / counts",
             fit_curve="pattern", fit_x="two_theta_deg", fit_y="fit",
             not_components=("two_theta_deg", "intensity", "background", "fit")),)),
    "saxs.size_distribution": TraceSpec("saxs", (
        Axis("q", "fit", "q_per_nm", "intensity", "q / nm⁻¹", "I(q) / a.u.", log_x=True, log_y=True,
             fit_curve="fit", fit_x="q_per_nm", fit_y="model",
             not_components=("q_per_nm", "intensity", "sigma", "model")),)),
    "pl.peak": TraceSpec("pl", (
        Axis("wavelength", "wavelength", "wavelength_nm", "intensity_per_nm", "wavelength / nm", "PL intensity / a.u.",
             fit_curve="wavelength", fit_x="wavelength_nm", fit_y="fit",
             not_components=("wavelength_nm", "intensity_per_nm", "fit")),
        Axis("energy", "energy", "energy_ev", "intensity_per_ev", "energy / eV", "PL intensity / a.u.",
             x_reversed=False, fit_curve="energy", fit_x="energy_ev", fit_y="fit",
             not_components=("energy_ev", "intensity_per_ev", "fit")),
    )),
}


def trace_spec(routine: str) -> TraceSpec | None:
    return TRACES.get(routine)


def pack_curves(curves: dict[str, dict[str, np.ndarray]]) -> bytes:
    """Every curve column as float32 in one uncompressed .npz ("curve/column" keys): 4
    bytes a point (7 significant figures, more than any plot or overlay needs; the full
    precision stays in the run's JSON curves), read back in a millisecond where the JSON
    form takes tens."""
    arrays = {}
    for name, cols in curves.items():
        for col, values in cols.items():
            arr = np.asarray(values, dtype=float)
            if arr.ndim == 1:
                arrays[f"{name}/{col}"] = arr.astype(np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack_curves(blob: bytes, wanted: set[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The curves of `pack_curves`, only the curve names in `wanted` when given.

    The .npz is stored uncompressed, so each wanted column is read in place with
    `np.frombuffer` (one float32 -> float64 copy) instead of through `np.load`, whose
    per-member zip reads and header `literal_eval` cost more than the data."""
    view = memoryview(blob)
    out: dict[str, dict[str, np.ndarray]] = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for info in archive.infolist():
            name, _, col = info.filename.removesuffix(".npy").partition("/")
            if wanted is not None and name not in wanted:
                continue
            values = _stored_column(view, info)
            if values is None:          # not the layout pack_curves writes: the slow, general reader
                values = np.load(io.BytesIO(archive.read(info)), allow_pickle=False)
            out.setdefault(name, {})[col] = values.astype(float)
    return out


_NPY_HEADER = re.compile(rb"\{'descr': '(<f[48])', 'fortran_order': False, 'shape': \((\d+),\), \}")


def _stored_column(blob: memoryview, info: zipfile.ZipInfo) -> np.ndarray | None:
    """One uncompressed little-endian 1-D float .npy member of `blob`, read without a copy."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    start = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", blob, start + 26)
    npy = start + 30 + name_len + extra_len
    if bytes(blob[npy:npy + 6]) != b"\x93NUMPY":
        return None
    major = blob[npy + 6]
    if major == 1:
        (header_len,), header_at = struct.unpack_from("<H", blob, npy + 8), npy + 10
    elif major in (2, 3):
        (header_len,), header_at = struct.unpack_from("<I", blob, npy + 8), npy + 12
    else:
        return None
    match = _NPY_HEADER.match(bytes(blob[header_at:header_at + header_len]))
    if match is None:
        return None
    dtype, count = np.dtype(match.group(1).decode()), int(match.group(2))
    data_at = header_at + header_len
    if data_at + count * dtype.itemsize > start + 30 + name_len + extra_len + info.file_size:
        return None
    return np.frombuffer(blob, dtype=dtype, count=count, offset=data_at)


def curves_from_json(curves: dict) -> dict[str, dict[str, np.ndarray]]:
    """Stored JSON curves (runs analysed before array blobs existed) as arrays; None -> NaN."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, cols in (curves or {}).items():
        if isinstance(cols, dict):
            out[name] = {col: np.array([np.nan if v is None else v for v in values], dtype=float)
                         for col, values in cols.items() if isinstance(values, list)}
    return out


def minmax_decimate(x: np.ndarray, ys: list[np.ndarray], max_points: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """At most `max_points` points of (x, each y): the points cut into max_points/2 equal
    bins, each kept as the points where the first y is smallest and largest (in their
    order), so peaks and dips survive. Other ys are taken at the same indices."""
    n = len(x)
    if n <= max_points or max_points < 4:
        return x, ys
    bins = max_points // 2
    width = -(-n // bins)                      # ceil: every point falls in a bin
    main = np.where(np.isfinite(ys[0]), ys[0], np.nan)
    padded = np.full(bins * width, np.nan)
    padded[:n] = main
    grid = padded.reshape(bins, width)
    filled = ~np.all(np.isnan(grid), axis=1)
    low = np.nanargmin(np.where(np.isnan(grid[filled]), np.inf, grid[filled]), axis=1)
    high = np.nanargmax(np.where(np.isnan(grid[filled]), -np.inf, grid[filled]), axis=1)
    starts = np.flatnonzero(filled) * width
    chosen = np.zeros(bins * width, dtype=bool)   # a mask, not np.unique: no sort, already in order
    chosen[starts + low] = True
    chosen[starts + high] = True
    keep = np.flatnonzero(chosen[:n])
    return x[keep], [y[keep] for y in ys]


def rounded(values: np.ndarray, significant: int = 6) -> list:
    """`values` as a JSON-ready list at `significant` figures of the largest magnitude
    (a browser needs no more), NaN and inf as None."""
    a = np.asarray(values, dtype=float)
    finite = np.isfinite(a)
    if not finite.any():
        return [None] * len(a)
    top = float(np.max(np.abs(a[finite]))) or 1.0
    decimals = max(0, significant - 1 - int(np.floor(np.log10(top))))
    out = np.round(a, decimals).tolist()
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist())]
    return out


def normalised(x: np.ndarray, y: np.ndarray, how: str) -> tuple[np.ndarray, float]:
    """y scaled to its maximum ('max'), its area over x ('area', trapezoid on |x| order)
    or unchanged ('none'); returns the scaled y and the divisor used."""
    finite = np.isfinite(y)
    if how == "none" or not finite.any():
        return y, 1.0
    if how == "max":
        d = float(np.max(np.abs(y[finite])))
    elif how == "area":
        order = np.argsort(x[finite])
        d = float(abs(np.trapezoid(y[finite][order], x[finite][order])))
    else:
        raise InputError(f"normalisation {how!r} unknown; choose max, area or none")
    if not np.isfinite(d) or d == 0:
        return y, 1.0
    return y / d, d
