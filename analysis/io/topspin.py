"""Bruker TopSpin experiments: processed 1r/2rr or raw fid/ser -> NmrSpectrum / NmrSeries.

Accepts an experiment folder (with `acqus`), one of its `pdata/N` folders, or a .zip of
either (one top-level folder, or a sample/expno/ nesting). Processed data are read as
TopSpin left them (intensity * 2**NC_proc, ppm[i] = OFFSET - i * SW_p / (SF * SI)); raw
data are processed with the procs parameters (see `analysis.io.topspin_processing`).
Three formats: "bruker-topspin" (1D), "bruker-topspin-2d" (pseudo-2D relaxation series
with a vdlist) and "bruker-topspin-2d-spectrum" (a 2D correlation such as HETCOR: no
delay list, a frequency axis in F1; read from 2rr with both ppm axes).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from analysis.data import NmrSeries, NmrSpectrum, NmrSpectrum2D
from analysis.io import reader
from analysis.io.archive import extract_safely, open_zip
from analysis.io.topspin_params import (Dataset, binary, jcamp, metadata, num, ppm_axis,
                                         proc_params)
from analysis.io.topspin_processing import baseline_offset, displayed, fid_to_spectrum, parse_vdlist
from analysis.nuclei import normalise_nucleus
from analysis.result import InputError

FORMAT_1D = "bruker-topspin"
FORMAT_2D = "bruker-topspin-2d"
FORMAT_2D_SPECTRUM = "bruker-topspin-2d-spectrum"
SOURCES = ("auto", "processed", "fid")
_MARKERS_2D = {"acqu2s", "ser", "2rr", "proc2s"}
_MARKERS = {"acqus", "procs", "fid", "1r"} | _MARKERS_2D


# ---------------------------------------------------------------- detection

def _names_in(path: str) -> set[str] | None:
    """Base names of files and folders in a folder (3 levels) or a zip; None if neither."""
    if os.path.isdir(path):
        names: set[str] = set()
        base_depth = path.rstrip(os.sep).count(os.sep)
        for count, (dirpath, dirnames, filenames) in enumerate(os.walk(path)):
            if dirpath.count(os.sep) - base_depth >= 3:
                dirnames.clear()
            names.update(filenames)
            names.update(dirnames)
            if count > 500:
                break
        return names
    if path.lower().endswith(".zip") and zipfile.is_zipfile(path):
        with open_zip(path) as zf:
            return {part for name in zf.namelist() for part in name.replace("\\", "/").split("/") if part}
    return None


def _looks_like_topspin(names: set[str]) -> bool:
    return bool({"acqus", "procs"} & names) or ("pdata" in names and bool(_MARKERS & names))


def sniff_1d(path: str) -> bool:
    """A TopSpin folder/zip holding a 1D experiment (1r or fid, no 2D files)."""
    names = _names_in(path)
    return names is not None and _looks_like_topspin(names) and not (_MARKERS_2D & names)


def sniff_2d(path: str) -> bool:
    """A TopSpin folder/zip holding a 2D experiment (2rr, ser, acqu2s or proc2s)."""
    names = _names_in(path)
    return names is not None and _looks_like_topspin(names) and bool(_MARKERS_2D & names)


# ---------------------------------------------------------------- locating

@contextlib.contextmanager
def _opened(path: str) -> Iterator[tuple[Path, bool]]:
    """The folder to look in (`path` itself, or a temporary extraction of the zip) and
    whether it is a zip's contents (so nothing outside it may be consulted)."""
    if os.path.isdir(path):
        yield Path(path), False
        return
    with tempfile.TemporaryDirectory(prefix="topspin-") as tmp:
        extract_safely(path, tmp)
        yield Path(tmp), True


def _locate(root: Path, origin: str, procno: int | None, dims: str, contained: bool) -> Dataset:
    if (root / "procs").is_file() or (root / "1r").is_file() or (root / "2rr").is_file():
        parent = root.parent.parent
        expno = parent if not contained and (parent / "acqus").is_file() else None
        return Dataset(origin, expno, root)
    expnos = sorted({p.parent for p in _walk(root, "acqus")})
    if len(expnos) > 1:
        names = ", ".join(p.relative_to(root).as_posix() or "." for p in expnos[:5])
        raise InputError(f"holds {len(expnos)} experiments ({names}); give one experiment folder", origin)
    if not expnos:
        # A pdata/N folder on its own (zipped without its experiment) is still a spectrum.
        pdatas = sorted({p.parent for p in _walk(root, "procs")})
        if len(pdatas) == 1 and not _walk(root, "fid") and not _walk(root, "ser"):
            return Dataset(origin, None, pdatas[0])
        raise InputError("acqus is missing", origin)
    expno = expnos[0]
    data_file = "2rr" if dims == "2d" else "1r"
    pdata_dir = expno / "pdata"
    if procno is not None:
        chosen = pdata_dir / str(procno)
        if not chosen.is_dir():
            raise InputError(f"pdata/{procno} does not exist", origin)
        return Dataset(origin, expno, chosen)
    procnos = sorted(int(p.name) for p in pdata_dir.glob("*") if p.name.isdigit()) \
        if pdata_dir.is_dir() else []
    with_data = [n for n in procnos if (pdata_dir / str(n) / data_file).is_file()]
    pick = (with_data or procnos or [None])[0]
    return Dataset(origin, expno, pdata_dir / str(pick) if pick is not None else None)


def _walk(root: Path, name: str, depth: int = 4) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if len(Path(dirpath).relative_to(root).parts) >= depth:
            dirnames.clear()
        if name in filenames:
            found.append(Path(dirpath) / name)
    return found


def _options(source: str, procno: object) -> tuple[str, int | None]:
    source = str(source or "auto").lower()
    if source not in SOURCES:
        raise InputError(f"reader option source={source!r} must be one of {', '.join(SOURCES)}")
    if procno in (None, ""):
        return source, None
    try:
        return source, int(procno)
    except (TypeError, ValueError):
        raise InputError(f"reader option procno={procno!r} must be a whole number") from None


def _choose_source(ds: Dataset, source: str, processed: str, raw: str) -> str:
    has_proc = ds.pdata is not None and (ds.pdata / processed).is_file()
    has_raw = ds.expno is not None and (ds.expno / raw).is_file()
    if source == "processed" and not has_proc:
        raise ds.error(f"has no processed spectrum ({processed}) to read")
    if source == "fid" and not has_raw:
        raise ds.error(f"has no raw data ({raw}) to process")
    if source == "auto":
        if not (has_proc or has_raw):
            raise ds.error(f"holds no spectrum (neither pdata/N/{processed} nor {raw})")
        source = "processed" if has_proc else "fid"
    if source == "processed" and not (ds.pdata / "procs").is_file():
        raise ds.error(f"{ds.rel(ds.pdata / 'procs')} is missing")
    return source


# ---------------------------------------------------------------- 1D

@reader(FORMAT_1D, kind=NmrSpectrum.kind, sniff=sniff_1d, options=("source", "procno"))
def read_topspin(path: str, *, source: str = "auto", procno: int | None = None) -> NmrSpectrum:
    """A 1D spectrum: real part, ppm axis high ppm first, intensity in TopSpin units
    (processed) or arbitrary units (from the fid). `source`: auto | processed | fid."""
    source, procno = _options(source, procno)
    with _opened(path) as (root, contained):
        ds = _locate(root, path, procno, "1d", contained)
        acqus = jcamp(ds, ds.expno / "acqus") if ds.expno is not None else {}
        source = _choose_source(ds, source, "1r", "fid")
        procs = jcamp(ds, ds.pdata / "procs", required=source == "processed") if ds.pdata is not None else {}
        if source == "processed":
            si = int(num(procs, "SI", 0) or 0)
            if si <= 0:
                raise ds.error(f"{ds.rel(ds.pdata / 'procs')} has no size SI")
            raw = binary(ds, ds.pdata / "1r", si, num(procs, "DTYPP", 0) == 2, num(procs, "BYTORDP", 0) == 1)
            intensity = raw * 2.0 ** (num(procs, "NC_proc", 0) or 0)
        else:
            td = int(num(acqus, "TD", 0) or 0)
            if td < 2:
                raise ds.error("acqus has no time-domain size TD")
            fid = _read_fid(ds, ds.expno / "fid", acqus, td)
            params = proc_params(ds, acqus, procs, td // 2)
            si = params.si
            intensity = baseline_offset(displayed(fid_to_spectrum(fid, params), params))
        ppm, sf = ppm_axis(ds, acqus, procs, si, from_fid=source == "fid")
        meta = metadata(ds, acqus, procs, source=source, n_points=si, two_d=False)
    return NmrSpectrum(ppm=ppm, intensity=intensity, nucleus=meta["nucleus"], sf_mhz=sf,
                       metadata=meta, format=FORMAT_1D, source=path)


def _read_fid(ds: Dataset, path: Path, acqus: dict, td: int, rows: int = 1) -> np.ndarray:
    """Complex fid(s), shape (td/2,) or (rows, td/2). ser rows are padded to 1 KiB blocks."""
    isfloat, big = num(acqus, "DTYPA", 0) == 2, num(acqus, "BYTORDA", 0) == 1
    itemsize = 8 if isfloat else 4
    if rows == 1:
        values = binary(ds, path, td, isfloat, big, "data points")
        return values[0::2] + 1j * values[1::2]
    block = -(-td * itemsize // 1024) * 1024 // itemsize
    size = path.stat().st_size // itemsize if path.is_file() else 0
    stride = td if size == rows * td else block  # TopSpin 4 may write ser rows unpadded
    values = binary(ds, path, (rows - 1) * stride + td, isfloat, big, "data points")
    values = np.concatenate([values, np.zeros(rows * stride - values.size)]).reshape(rows, stride)[:, :td]
    return values[:, 0::2] + 1j * values[:, 1::2]


# ---------------------------------------------------------------- 2D spectra (HETCOR)

_LISTS = {"vdlist", "vclist", "vplist", "difflist"}


def sniff_2d_spectrum(path: str) -> bool:
    """A TopSpin 2D experiment without a delay list: a correlation spectrum (HETCOR etc.).
    Registered before the pseudo-2D reader, which needs a vdlist."""
    names = _names_in(path)
    return sniff_2d(path) and names is not None and not (_LISTS & names)


@reader(FORMAT_2D_SPECTRUM, kind=NmrSpectrum2D.kind, sniff=sniff_2d_spectrum, options=("procno",))
def read_topspin_2d(path: str, *, procno: int | None = None) -> NmrSpectrum2D:
    """A processed 2D spectrum (2rr) with both ppm axes (F2 from procs, F1 from proc2s),
    intensity in TopSpin units. Raw ser data of a true 2D are not processed here."""
    _, procno = _options("auto", procno)
    with _opened(path) as (root, contained):
        ds = _locate(root, path, procno, "2d", contained)
        acqus = jcamp(ds, ds.expno / "acqus") if ds.expno is not None else {}
        acqu2s = jcamp(ds, ds.expno / "acqu2s", required=False) if ds.expno is not None else {}
        proc2s = jcamp(ds, ds.pdata / "proc2s", required=False) if ds.pdata is not None else {}
        f1_nucleus = normalise_nucleus(proc2s.get("AXNUC") or acqu2s.get("NUC1") or "")
        if f1_nucleus in ("", "off") or not (num(proc2s, "SW_p", 0) or 0) > 1.0:
            # No frequency axis in F1: a relaxation series whose delay list went missing.
            raise ds.error("vdlist is missing: a pseudo-2D relaxation series needs its list of delays")
        if ds.pdata is None or not (ds.pdata / "2rr").is_file():
            raise ds.error("has no processed 2D spectrum (pdata/N/2rr); process it in TopSpin "
                           "(xfb) and upload the experiment with its pdata folder")
        procs = jcamp(ds, ds.pdata / "procs")
        intensity = _read_2rr(ds, procs, proc2s, 0)  # every F1 point: TD(F1) < SI(F1) after zero fill
        ppm_f2, sf_f2 = ppm_axis(ds, acqus, procs, intensity.shape[1], from_fid=False)
        ppm_f1, sf_f1 = ppm_axis(ds, acqu2s, proc2s, intensity.shape[0], from_fid=False)
        meta = metadata(ds, acqus, procs, source="processed", n_points=intensity.shape[1], two_d=True)
        meta.update(experiment="2d-correlation", nucleus_f1=f1_nucleus, n_rows=int(intensity.shape[0]),
                    sf_f1_mhz=sf_f1)
    return NmrSpectrum2D(ppm_f2=ppm_f2, ppm_f1=ppm_f1, intensity=intensity, nucleus_f2=meta["nucleus"],
                         nucleus_f1=f1_nucleus, sf_f2_mhz=sf_f2, sf_f1_mhz=sf_f1, metadata=meta,
                         format=FORMAT_2D_SPECTRUM, source=path)


# ---------------------------------------------------------------- pseudo-2D

@reader(FORMAT_2D, kind=NmrSeries.kind, sniff=sniff_2d, options=("source", "procno"))
def read_topspin_series(path: str, *, source: str = "auto", procno: int | None = None) -> NmrSeries:
    """A pseudo-2D relaxation series: one row per vdlist delay (delays in s, as recorded),
    F2 ppm axis high ppm first. From 2rr (untiled) or the raw ser processed row by row."""
    source, procno = _options(source, procno)
    with _opened(path) as (root, contained):
        ds = _locate(root, path, procno, "2d", contained)
        if ds.expno is None:
            raise ds.error("acqus is missing: a pseudo-2D series needs its experiment folder (for the vdlist)")
        acqus, acqu2s = jcamp(ds, ds.expno / "acqus"), jcamp(ds, ds.expno / "acqu2s", required=False)
        source = _choose_source(ds, source, "2rr", "ser")
        procs = jcamp(ds, ds.pdata / "procs", required=source == "processed") if ds.pdata is not None else {}
        td1 = int(num(acqu2s, "TD", 0) or 0)
        if source == "processed":
            proc2s = jcamp(ds, ds.pdata / "proc2s")
            intensity = _read_2rr(ds, procs, proc2s, td1)
            si = intensity.shape[1]
        else:
            td = int(num(acqus, "TD", 0) or 0)
            if td1 < 1 or td < 2:
                raise ds.error("acqus/acqu2s lack the sizes TD needed to read the ser file")
            fids = _read_fid(ds, ds.expno / "ser", acqus, td, rows=td1)
            params = proc_params(ds, acqus, procs, td // 2)
            si = params.si
            intensity = baseline_offset(displayed(fid_to_spectrum(fids, params), params))
        delays = _read_delays(ds, intensity.shape[0])
        ppm, sf = ppm_axis(ds, acqus, procs, si, from_fid=source == "fid")
        meta = metadata(ds, acqus, procs, source=source, n_points=si, two_d=True)
        meta["n_rows"] = int(intensity.shape[0])
        if meta["experiment"] == "pseudo-2d":
            meta["experiment"] = "saturation-recovery"  # a vdlist series with an unnamed pulse program
    return NmrSeries(ppm=ppm, intensity=intensity, delays_s=delays, nucleus=meta["nucleus"], sf_mhz=sf,
                     metadata=meta, format=FORMAT_2D, source=path)


def _read_2rr(ds: Dataset, procs: dict, proc2s: dict, td1: int) -> np.ndarray:
    """The 2rr matrix (rows, points) with TopSpin's submatrix tiling undone. Tiles are
    XDIM(F1) x XDIM(F2) and stored tile by tile, row-major over tiles; a size that is
    not a multiple of XDIM is padded to whole tiles."""
    si2, si1 = int(num(procs, "SI", 0) or 0), int(num(proc2s, "SI", 0) or 0)
    if si1 <= 0 or si2 <= 0:
        raise ds.error("procs/proc2s have no sizes SI")
    x2 = int(num(procs, "XDIM", 0) or 0) or si2
    x1 = int(num(proc2s, "XDIM", 0) or 0) or si1
    n1, n2 = -(-si1 // x1), -(-si2 // x2)
    raw = binary(ds, ds.pdata / "2rr", n1 * n2 * x1 * x2, num(procs, "DTYPP", 0) == 2,
                  num(procs, "BYTORDP", 0) == 1)
    matrix = raw.reshape(n1, n2, x1, x2).transpose(0, 2, 1, 3).reshape(n1 * x1, n2 * x2)[:si1, :si2]
    rows = td1 if 0 < td1 <= si1 else si1  # rows beyond TD(F1) are TopSpin's zero fill
    return matrix[:rows] * 2.0 ** (num(procs, "NC_proc", 0) or 0)


def _read_delays(ds: Dataset, rows: int) -> np.ndarray:
    path = ds.expno / "vdlist"
    if not path.is_file():
        raise ds.error("vdlist is missing: a pseudo-2D relaxation series needs its list of delays")
    try:
        delays = parse_vdlist(path.read_text(encoding="latin-1"))
    except ValueError as exc:
        raise ds.error(f"vdlist {exc}") from None
    if len(delays) != rows:
        raise ds.error(f"vdlist has {len(delays)} delays but the series has {rows} rows")
    return delays
