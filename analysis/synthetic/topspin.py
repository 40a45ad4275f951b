"""Write synthetic Bruker TopSpin experiments (real file format) from in-memory spectra.

`write_topspin_1d` and `write_topspin_pseudo2d` lay out `<folder>/<expno>/` as TopSpin
does: acqus (+acqu), pulseprogram, fid or ser, vdlist, pdata/<procno>/ with procs (+proc),
1r/1i or 2rr (submatrix tiles), title. Parameter files are JCAMP-DX as TopSpin writes
them; binaries are int32 (or float64) in the declared byte order, scaled by 2**-NC_proc.
The fid/ser is built so that processing it with the written WDW/LB/PHC0/PHC1/GRPDLY (see
`analysis.io.topspin_processing`) gives back the processed spectrum.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from analysis.data import NmrSeries, NmrSpectrum, NmrSpectrum2D
from analysis.io.topspin_processing import WINDOW_CODES, ProcParams, spectrum_to_fid
from analysis.synthetic.paper import CS133_SF_MHZ

TOPSPIN_VERSION = "TopSpin 4.1.4"
GRPDLY = 67.98620605468750  # a typical DSPFVS 20 group delay (samples), fractional on purpose
DATE_EPOCH_S = 1_700_000_000  # 2023-11-14T22:13:20Z: fixed so written files are reproducible
_INT32_MAX = 2**31 - 1

_PULSEPROGRAMS = {
    "zg": ";zg\n;avance-version (12/01/11)\n;1D sequence\n\n#include <Avance.incl>\n\n"
          "1 ze\n2 30m\n  d1\n  p1 ph1\n  go=2 ph31\n  30m mc #0 to 2 F0(zd)\nexit\n\n"
          "ph1=0 2 2 0 1 3 3 1\nph31=0 2 2 0 1 3 3 1\n",
    "satrec": ";satrec\n;saturation recovery: saturation train, variable delay vd, read pulse\n\n"
              "#include <Avance.incl>\n\n\"l4=20\"\n1 ze\n2 d1\n3 p1 ph1\n  d20\n  lo to 3 times l4\n"
              "  vd\n  p1 ph2\n  go=2 ph31\n  d1 mc #0 to 2 F1QF(ivd)\nexit\n\n"
              "ph1=0\nph2=0 2 2 0 1 3 3 1\nph31=0 2 2 0 1 3 3 1\n",
}


def gaussian_lines_spectrum(lines: Sequence[tuple[float, float, float]], *, nucleus: str = "133Cs",
                            sf_mhz: float = CS133_SF_MHZ, si: int = 8192,
                            ppm_left: float = 350.0, ppm_right: float = -150.0,
                            peak_height: float = 2.0e8) -> NmrSpectrum:
    """A noise-free spectrum of Gaussian lines `(shift_ppm, fwhm_ppm, area)`, high ppm
    first, on TopSpin's grid (ppm[i] = ppm_left - i * (ppm_left - ppm_right) / si), scaled
    so the tallest point is `peak_height` (TopSpin-like integer range)."""
    ppm = ppm_left - np.arange(si) * (ppm_left - ppm_right) / si
    y = np.zeros(si)
    for center, fwhm, area in lines:
        sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
        y += area / (sigma * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((ppm - center) / sigma) ** 2)
    y *= peak_height / np.abs(y).max()
    return NmrSpectrum(ppm=ppm, intensity=y, nucleus=nucleus, sf_mhz=sf_mhz)


def write_topspin_1d(folder: str | Path, spectrum: NmrSpectrum, *, expno: int = 10, procno: int = 1,
                     nc_proc: int = -2, write_fid: bool = True, ns: int = 16, rg: float = 32.0,
                     d1_s: float = 120.0, pulprog: str = "zg", mas_rate_hz: float = 24000.0,
                     title: str = "", wdw: str = "EM", lb_hz: float = 10.0, gb: float = 0.0,
                     phc0_deg: float = 63.0, phc1_deg: float = -8.0, dtype: str = "int32",
                     fid_dtype: str = "int32", big_endian: bool = False,
                     date_epoch_s: int = DATE_EPOCH_S) -> Path:
    """Write `spectrum` (ppm any order, evenly spaced; intensity in TopSpin units) as a
    processed 1D TopSpin experiment in `<folder>/<expno>`; returns that expno folder."""
    ppm, intensity = _descending(spectrum.ppm, spectrum.intensity)
    si = ppm.size
    axis = _Axis.of(spectrum, ppm)
    exp_dir = Path(folder) / str(expno)
    pdata = exp_dir / "pdata" / str(procno)
    pdata.mkdir(parents=True, exist_ok=True)
    params = ProcParams(si=si, sw_hz=axis.sw_hz, wdw=_wdw(wdw), lb_hz=lb_hz, gb=gb,
                        phc0_deg=phc0_deg, phc1_deg=phc1_deg, grpdly=GRPDLY)
    fid, spectrum_c = spectrum_to_fid(intensity, params, si // 2)
    acqus = _acqus(axis, td=si, ns=ns, rg=rg, d1_s=d1_s, pulprog=pulprog, mas_rate_hz=mas_rate_hz,
                   fid_dtype=fid_dtype, big_endian=big_endian, date_epoch_s=date_epoch_s)
    _write_params(exp_dir, "acqus", acqus, date_epoch_s)
    _write_params(exp_dir, "acqu", acqus, date_epoch_s)
    (exp_dir / "pulseprogram").write_text(_PULSEPROGRAMS.get(pulprog, f";{pulprog}\n"))
    if write_fid:
        _write_fid(exp_dir / "fid", fid[np.newaxis], fid_dtype, big_endian)
    procs = _procs(axis, params, si=si, xdim=si, nc_proc=nc_proc, dtype=dtype, big_endian=big_endian,
                   ymax=float(intensity.max()), ymin=float(intensity.min()))
    _write_params(pdata, "procs", procs, date_epoch_s)
    _write_params(pdata, "proc", procs, date_epoch_s)
    _write_scaled(pdata / "1r", intensity, nc_proc, dtype, big_endian)
    # TopSpin stores 1i with the opposite sign to the imaginary part of our phased spectrum.
    _write_scaled(pdata / "1i", -spectrum_c.imag, nc_proc, dtype, big_endian, clip=True)
    (pdata / "title").write_text(title + "\n" if title else "\n")
    return exp_dir


def write_topspin_pseudo2d(folder: str | Path, series: NmrSeries, *, expno: int = 11, procno: int = 1,
                           xdim: tuple[int, int] | None = None, si1: int | None = None,
                           nc_proc: int = -3, write_ser: bool = False,
                           vdlist_units: str | Sequence[str] = "s", pulprog: str = "satrec",
                           ns: int = 16, rg: float = 32.0, d1_s: float = 0.5,
                           mas_rate_hz: float = 24000.0, title: str = "", wdw: str = "EM",
                           lb_hz: float = 10.0, phc0_deg: float = 0.0, phc1_deg: float = 0.0,
                           big_endian: bool = False, date_epoch_s: int = DATE_EPOCH_S) -> Path:
    """Write `series` (rows aligned with `delays_s`) as a pseudo-2D TopSpin experiment in
    `<folder>/<expno>`: 2rr tiled in `xdim` = (rows, points) submatrices (a size that is
    not a multiple is padded to whole tiles), SI(F1) = `si1` (default: number of rows;
    extra rows are zero), vdlist in `vdlist_units` ("s", "m", "u", "" for plain seconds,
    "mixed", or one unit per delay). Returns the expno folder."""
    ppm, intensity = _descending(series.ppm, np.asarray(series.intensity, dtype=float))
    rows, si2 = intensity.shape
    if len(series.delays_s) != rows:
        raise ValueError(f"{len(series.delays_s)} delays for {rows} rows")
    si1 = si1 or rows
    if si1 < rows:
        raise ValueError(f"si1={si1} is smaller than the number of rows ({rows})")
    x1, x2 = xdim or (min(si1, 16), min(si2, 1024))
    axis = _Axis.of(series, ppm)
    exp_dir = Path(folder) / str(expno)
    pdata = exp_dir / "pdata" / str(procno)
    pdata.mkdir(parents=True, exist_ok=True)
    params = ProcParams(si=si2, sw_hz=axis.sw_hz, wdw=_wdw(wdw), lb_hz=lb_hz, phc0_deg=phc0_deg,
                        phc1_deg=phc1_deg, grpdly=GRPDLY)
    acqus = _acqus(axis, td=si2, ns=ns, rg=rg, d1_s=d1_s, pulprog=pulprog, mas_rate_hz=mas_rate_hz,
                   fid_dtype="int32", big_endian=big_endian, date_epoch_s=date_epoch_s)
    acqus["VDLIST"] = "vdlist"
    acqu2s = {"TD": rows, "NUC1": axis.nucleus, "SW": 1.0, "FnMODE": 1, "FnTYPE": 0, "BF1": axis.sf,
              "SFO1": axis.sf, "VDLIST": "vdlist"}
    for name, params_ in (("acqus", acqus), ("acqu", acqus), ("acqu2s", acqu2s), ("acqu2", acqu2s)):
        _write_params(exp_dir, name, params_, date_epoch_s)
    (exp_dir / "pulseprogram").write_text(_PULSEPROGRAMS.get(pulprog, f";{pulprog}\n"))
    (exp_dir / "vdlist").write_text(_vdlist_text(np.asarray(series.delays_s, dtype=float), vdlist_units))
    if write_ser:
        fids = np.array([spectrum_to_fid(row, params, si2 // 2)[0] for row in intensity])
        _write_fid(exp_dir / "ser", fids, "int32", big_endian)
    procs = _procs(axis, params, si=si2, xdim=x2, nc_proc=nc_proc, dtype="int32", big_endian=big_endian,
                   ymax=float(intensity.max()), ymin=float(intensity.min()))
    proc2s = {"SI": si1, "XDIM": x1, "TDeff": 0, "FT_mod": 0, "MC2": 0, "WDW": 0, "AXNUC": "off",
              "SF": axis.sf, "SW_p": 1.0, "OFFSET": 0.0, "NC_proc": 0, "BYTORDP": int(big_endian),
              "DTYPP": 0, "PHC0": 0.0, "PHC1": 0.0}
    for name, params_ in (("procs", procs), ("proc", procs), ("proc2s", proc2s), ("proc2", proc2s)):
        _write_params(pdata, name, params_, date_epoch_s)
    full = np.zeros((si1, si2))
    full[:rows] = intensity
    _write_scaled(pdata / "2rr", _tile(full, x1, x2), nc_proc, "int32", big_endian)
    (pdata / "title").write_text(title + "\n" if title else "\n")
    return exp_dir


def write_topspin_hetcor(folder: str | Path, spectrum: NmrSpectrum2D, *, expno: int = 12,
                         procno: int = 1, xdim: tuple[int, int] = (64, 256), nc_proc: int = -3,
                         mas_rate_hz: float = 14000.0, title: str = "") -> Path:
    """Write a processed 2D correlation spectrum (F1 rows x F2 points, both ppm axes
    evenly spaced) as a TopSpin HETCOR experiment: acqus/acqu2s, procs/proc2s with both
    axes (OFFSET, SW_p, SF, AXNUC), 2rr in `xdim` submatrix tiles, no vdlist and no ser."""
    ppm2, rows = _descending(spectrum.ppm_f2, np.asarray(spectrum.intensity, dtype=float))
    ppm1, matrix = _descending(spectrum.ppm_f1, rows.T)
    matrix = matrix.T                                   # (F1, F2), both high ppm first
    si1, si2 = matrix.shape
    f2 = _Axis(spectrum.nucleus_f2, float(spectrum.sf_f2_mhz), float(ppm2[0]),
               (ppm2[0] - ppm2[-1]) / (si2 - 1) * si2 * float(spectrum.sf_f2_mhz))
    f1 = _Axis(spectrum.nucleus_f1, float(spectrum.sf_f1_mhz), float(ppm1[0]),
               (ppm1[0] - ppm1[-1]) / (si1 - 1) * si1 * float(spectrum.sf_f1_mhz))
    exp_dir = Path(folder) / str(expno)
    pdata = exp_dir / "pdata" / str(procno)
    pdata.mkdir(parents=True, exist_ok=True)
    params = ProcParams(si=si2, sw_hz=f2.sw_hz, wdw=_wdw("EM"), lb_hz=50.0, grpdly=GRPDLY)
    acqus = _acqus(f2, td=si2, ns=256, rg=64.0, d1_s=4.0, pulprog="hetcor", mas_rate_hz=mas_rate_hz,
                   fid_dtype="int32", big_endian=False, date_epoch_s=DATE_EPOCH_S)
    acqus["NUC2"] = f1.nucleus
    acqu2s = {"TD": si1 // 2, "NUC1": f1.nucleus, "SW_h": f1.sw_hz, "SW": f1.sw_hz / f1.sfo1, "FnMODE": 6,
              "BF1": f1.sf, "SFO1": f1.sfo1}
    for name, values in (("acqus", acqus), ("acqu", acqus), ("acqu2s", acqu2s), ("acqu2", acqu2s)):
        _write_params(exp_dir, name, values, DATE_EPOCH_S)
    (exp_dir / "pulseprogram").write_text(";hetcor\n;CP HETCOR (synthetic)\n")
    procs = _procs(f2, params, si=si2, xdim=xdim[1], nc_proc=nc_proc, dtype="int32", big_endian=False,
                   ymax=float(matrix.max()), ymin=float(matrix.min()))
    proc2s = {"SI": si1, "XDIM": xdim[0], "AXNUC": f1.nucleus, "SF": f1.sf, "SW_p": f1.sw_hz,
              "OFFSET": f1.offset, "NC_proc": 0, "BYTORDP": 0, "DTYPP": 0, "PHC0": 0.0, "PHC1": 0.0,
              "WDW": 3, "SSB": 2.0, "MC2": 4, "FT_mod": 6}
    for name, values in (("procs", procs), ("proc", procs), ("proc2s", proc2s), ("proc2", proc2s)):
        _write_params(pdata, name, values, DATE_EPOCH_S)
    _write_scaled(pdata / "2rr", _tile(matrix, *xdim), nc_proc, "int32", False)
    (pdata / "title").write_text(title + "\n" if title else "\n")
    return exp_dir


def zip_folder(folder: str | Path, zip_path: str | Path, *, arcname_root: str | None = None) -> Path:
    """Zip every file under `folder` as `<arcname_root>/<relative path>` (default root:
    the folder's own name; "" puts the files at the top level). Returns `zip_path`."""
    folder = Path(folder)
    root = folder.name if arcname_root is None else arcname_root.strip("/")
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for dirpath, _dirnames, filenames in sorted(os.walk(folder)):
            for name in sorted(filenames):
                path = Path(dirpath) / name
                rel = path.relative_to(folder).as_posix()
                zf.write(path, f"{root}/{rel}" if root else rel)
    return Path(zip_path)


# ---------------------------------------------------------------- helpers

class _Axis:
    """The frequency axis of a written experiment (SR = 0, so SF = BF1)."""

    def __init__(self, nucleus: str, sf: float, offset: float, sw_hz: float):
        self.nucleus, self.sf, self.offset, self.sw_hz = nucleus, sf, offset, sw_hz
        # OFFSET = (SFO1 - SF)/SF * 1e6 + SW_h/(2 SF)  =>  SFO1 puts the carrier mid-spectrum.
        self.sfo1 = sf * (1.0 + (offset - sw_hz / (2.0 * sf)) * 1e-6)

    @classmethod
    def of(cls, data: NmrSpectrum | NmrSeries, ppm: np.ndarray) -> "_Axis":
        if not data.nucleus or not data.sf_mhz:
            raise ValueError("the spectrum needs a nucleus and sf_mhz to be written as TopSpin data")
        step = (ppm[0] - ppm[-1]) / (ppm.size - 1)
        return cls(data.nucleus, float(data.sf_mhz), float(ppm[0]), step * ppm.size * float(data.sf_mhz))


def _descending(ppm: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ppm = np.asarray(ppm, dtype=float)
    if ppm.size < 4:
        raise ValueError("a spectrum needs at least 4 points")
    order = np.argsort(-ppm, kind="stable")
    ppm = ppm[order]
    steps = np.diff(ppm)
    if np.any(steps >= 0) or np.ptp(steps) > 1e-6 * abs(steps.mean()):
        raise ValueError("the ppm axis must be evenly spaced with distinct points")
    return ppm, np.asarray(intensity, dtype=float)[..., order]


def _wdw(name: str) -> int:
    if name not in ("no", "EM", "GM"):
        raise ValueError(f"window {name!r}: the writer supports 'no', 'EM' and 'GM'")
    return WINDOW_CODES[name]


def _acqus(axis: _Axis, *, td: int, ns: int, rg: float, d1_s: float, pulprog: str, mas_rate_hz: float,
           fid_dtype: str, big_endian: bool, date_epoch_s: int) -> dict[str, Any]:
    d = [0.0] * 64
    d[1] = float(d1_s)
    cnst = [1.0] * 64
    cnst[31] = float(mas_rate_hz)
    p = [0.0] * 64
    p[1] = 2.5
    return {
        "AQ_mod": 3, "BF1": axis.sf, "BYTORDA": int(big_endian), "CNST": cnst, "D": d,
        "DATE": int(date_epoch_s), "DE": 6.5, "DECIM": 16, "DIGMOD": 1, "DQDMODE": 0, "DS": 0,
        "DSPFVS": 20, "DTYPA": 2 if fid_dtype == "float64" else 0, "GRPDLY": GRPDLY,
        "INSTRUM": "spect", "MASR": float(mas_rate_hz), "NS": int(ns), "NUC1": axis.nucleus,
        "NUC2": "off", "O1": (axis.sfo1 - axis.sf) * 1e6, "P": p, "PROBHD": "3.2 mm MAS BB/1H",
        "PULPROG": pulprog, "RG": float(rg), "SFO1": axis.sfo1, "SOLVENT": "none",
        "SW": axis.sw_hz / axis.sfo1, "SW_h": axis.sw_hz, "TD": int(td), "TE": 298.0,
    }


def _procs(axis: _Axis, params: ProcParams, *, si: int, xdim: int, nc_proc: int, dtype: str,
           big_endian: bool, ymax: float, ymin: float) -> dict[str, Any]:
    return {
        "ABSF1": 1000.0, "ABSF2": -1000.0, "AXNUC": axis.nucleus, "BYTORDP": int(big_endian),
        "DTYPP": 2 if dtype == "float64" else 0, "FT_mod": 6, "GB": params.gb, "LB": params.lb_hz,
        "MC2": 0, "NC_proc": int(nc_proc), "OFFSET": axis.offset, "PHC0": params.phc0_deg,
        "PHC1": params.phc1_deg, "PKNL": True, "SF": axis.sf, "SI": int(si), "SR": 0.0, "SSB": 0.0,
        "STSI": 0, "STSR": 0, "SW_p": axis.sw_hz, "TDeff": 0, "WDW": params.wdw, "XDIM": int(xdim),
        "YMAX_p": int(ymax / 2.0**nc_proc), "YMIN_p": int(ymin / 2.0**nc_proc),
    }


def _write_params(folder: Path, name: str, params: dict[str, Any], date_epoch_s: int) -> None:
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(date_epoch_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000 +0000")
    lines = [f"##TITLE= Parameter file, {TOPSPIN_VERSION}", "##JCAMPDX= 5.0", "##DATATYPE= Parameter Values",
             "##NPOINTS= 1", "##ORIGIN= Bruker BioSpin GmbH", "##OWNER= labtrack",
             f"$$ {stamp}  labtrack", f"$$ {(folder / name).as_posix()}", "$$ process"]
    for key in sorted(params):
        lines.extend(_jcamp_lines(key, params[key]))
    lines.append("##END=")
    (folder / name).write_text("\n".join(lines) + "\n", encoding="latin-1")


def _jcamp_lines(key: str, value: Any) -> list[str]:
    if isinstance(value, list):
        out, line = [f"##${key}= (0..{len(value) - 1})"], ""
        for v in value:
            token = _jcamp_value(v)
            if line and len(line) + len(token) + 1 > 72:
                out.append(line)
                line = ""
            line = f"{line} {token}" if line else token
        return out + [line]
    return [f"##${key}= {_jcamp_value(value)}"]


def _jcamp_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        text = repr(float(value))
        return text if ("." in text or "e" in text or "inf" in text) else text + ".0"
    return f"<{value}>"


def _binary_dtype(dtype: str, big_endian: bool) -> np.dtype:
    if dtype not in ("int32", "float64"):
        raise ValueError(f"dtype {dtype!r} must be 'int32' or 'float64'")
    return np.dtype((">" if big_endian else "<") + ("i4" if dtype == "int32" else "f8"))


def _write_scaled(path: Path, values: np.ndarray, nc_proc: int, dtype: str, big_endian: bool,
                  clip: bool = False) -> None:
    """Processed data: stored = value / 2**NC_proc, so the reader's stored * 2**NC_proc
    gives the value back."""
    stored = np.asarray(values, dtype=float) / 2.0**nc_proc
    if dtype == "int32":
        peak = np.abs(stored).max()
        if peak > _INT32_MAX and not clip:
            raise ValueError(f"{path.name}: intensities up to {peak:.3g} overflow int32 with "
                             f"NC_proc={nc_proc}; use a larger NC_proc or smaller intensities")
        if peak < 2**15 and not clip:
            raise ValueError(f"{path.name}: intensities up to {peak:.3g} would keep < 16 bits with "
                             f"NC_proc={nc_proc}; scale them up (TopSpin data are ~1e6-1e9) or lower NC_proc")
        stored = np.clip(np.rint(stored), -_INT32_MAX, _INT32_MAX)
    stored.astype(_binary_dtype(dtype, big_endian)).tofile(path)


def _write_fid(path: Path, fids: np.ndarray, dtype: str, big_endian: bool) -> None:
    """Raw data: interleaved real/imaginary per row, rows padded to 1 KiB blocks; int32
    data are scaled so the largest value is 2**28 (like a well-set receiver gain)."""
    rows, n = fids.shape
    values = np.empty((rows, 2 * n))
    values[:, 0::2], values[:, 1::2] = fids.real, fids.imag
    if dtype == "int32":
        values = np.rint(values * (2.0**28 / np.abs(values).max()))
    itemsize = 4 if dtype == "int32" else 8
    block = -(-2 * n * itemsize // 1024) * 1024 // itemsize
    padded = np.zeros((rows, block if rows > 1 else 2 * n))
    padded[:, :2 * n] = values
    padded.astype(_binary_dtype(dtype, big_endian)).tofile(path)


def _tile(matrix: np.ndarray, x1: int, x2: int) -> np.ndarray:
    """TopSpin submatrix order: whole x1 x x2 tiles, tile by tile, row-major over tiles."""
    si1, si2 = matrix.shape
    n1, n2 = -(-si1 // x1), -(-si2 // x2)
    padded = np.zeros((n1 * x1, n2 * x2))
    padded[:si1, :si2] = matrix
    return padded.reshape(n1, x1, n2, x2).transpose(0, 2, 1, 3).ravel()


def _vdlist_text(delays_s: np.ndarray, units: str | Sequence[str]) -> str:
    scale = {"": 1.0, "s": 1.0, "m": 1e3, "u": 1e6}
    if isinstance(units, str) and units != "mixed":
        units = [units] * len(delays_s)
    elif units == "mixed":
        units = ["u" if d < 1e-3 else "m" if d < 1.0 else "s" for d in delays_s]
    if len(units) != len(delays_s) or any(u not in scale for u in units):
        raise ValueError("vdlist_units must be 's', 'm', 'u', '', 'mixed' or one of those per delay")
    return "".join(f"{d * scale[u]:.10g}{u}\n" for d, u in zip(delays_s, units))
