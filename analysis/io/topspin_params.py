"""TopSpin parameter files and binaries: where an experiment's pieces are, JCAMP-DX
parameters, int32/float64 data, the processing parameters for a fid, the ppm axis and
the metadata LabTrack reports (split from `analysis.io.topspin`, which reads spectra)."""
from __future__ import annotations

import re
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from analysis.io.topspin_processing import ProcParams, group_delay
from analysis.nuclei import normalise_nucleus
from analysis.result import InputError

# IUPAC frequency ratios Xi (% of 1H at the same field; Harris et al., Pure Appl. Chem.
# 73, 1795 (2001)) and the proton gyromagnetic ratio / 2 pi (CODATA 2018, MHz/T).
XI_PERCENT = {
    "1H": 100.0, "2H": 15.350609, "7Li": 38.863797, "13C": 25.145020, "14N": 7.226317,
    "15N": 10.136767, "17O": 13.556457, "19F": 94.094011, "23Na": 26.451900,
    "27Al": 26.056859, "29Si": 19.867187, "31P": 40.480742, "79Br": 25.053980,
    "81Br": 27.006518, "119Sn": 37.290632, "133Cs": 13.116142, "207Pb": 20.920599,
}
GAMMA_1H_MHZ_PER_T = 42.577478518
_ONE_PULSE = re.compile(r"^(zg|onepulse|one_pulse|hpdec|zgig|cpd|onepul)", re.I)


class Dataset:
    """Where the pieces of one experiment are; `rel` names files for error messages."""

    def __init__(self, origin: str, expno: Path | None, pdata: Path | None):
        self.origin, self.expno, self.pdata = origin, expno, pdata
        self.base = expno if expno is not None else pdata

    def rel(self, p: Path) -> str:
        return p.relative_to(self.base).as_posix() if self.base else p.name

    def error(self, message: str) -> InputError:
        return InputError(message, self.origin)


def jcamp(ds: Dataset, path: Path, required: bool = True) -> dict:
    if not path.is_file():
        if required:
            raise ds.error(f"{ds.rel(path)} is missing")
        return {}
    from analysis.io.jcamp import read_jcamp  # not nmrglue's: its import costs ~1 s of scipy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dic = read_jcamp(str(path), encoding="latin-1")
        except (ValueError, IndexError, OSError, UnicodeError) as exc:
            raise ds.error(f"{ds.rel(path)} is not a readable TopSpin parameter file ({exc})") from None
    if not any(not k.startswith("_") for k in dic):
        raise ds.error(f"{ds.rel(path)} has no parameters (empty or not a JCAMP-DX file)")
    return dic


def num(dic: dict, key: str, default: float | None = None, index: int | None = None) -> float | None:
    value = dic.get(key, default)
    if index is not None:
        value = value[index] if isinstance(value, list) and len(value) > index else default
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return default


def binary(ds: Dataset, path: Path, count: int, isfloat: bool, big: bool, what: str = "points") -> np.ndarray:
    """`count` numbers from a TopSpin binary file (int32 or float64, declared byte order)."""
    dtype = np.dtype(">f8" if isfloat else ">i4") if big else np.dtype("<f8" if isfloat else "<i4")
    if not path.is_file():
        raise ds.error(f"{ds.rel(path)} is missing")
    got = path.stat().st_size // dtype.itemsize
    if got < count:
        raise ds.error(f"{ds.rel(path)} is truncated (got {got} of {count} {what})")
    return np.fromfile(path, dtype=dtype, count=count).astype(float)


def proc_params(ds: Dataset, acqus: dict, procs: dict, td_complex: int) -> ProcParams:
    sw_hz = num(acqus, "SW_h")
    if not sw_hz:
        raise ds.error("acqus has no spectral width SW_h")
    wdw = int(num(procs, "WDW", 0) or 0)
    if wdw not in (0, 1, 2, 3, 4):
        raise ds.error(f"window function WDW={wdw} in procs is not supported (use no, EM, GM, SINE or QSINE)")
    aq_mod = int(num(acqus, "AQ_mod", 3) or 0)
    if aq_mod in (0, 2):
        raise ds.error(f"acquisition mode AQ_mod={aq_mod} (qf/qseq) is not supported; process it in TopSpin")
    try:
        grpdly = group_delay(acqus)
    except ValueError as exc:
        raise ds.error(str(exc)) from None
    si = int(num(procs, "SI", 0) or 0) or 2 * td_complex
    # A procs without PH_mod (or none at all) is phased with its PHC0/PHC1, as before.
    ph_mod = int(num(procs, "PH_mod", 1) if procs else 1)
    if ph_mod not in (0, 1, 2, 3):
        raise ds.error(f"phase mode PH_mod={ph_mod} in procs is not one of no, pk, mc, ps")
    tdeff = int(num(procs, "TDeff", 0) or 0) // 2
    return ProcParams(si=si, sw_hz=sw_hz, wdw=wdw, lb_hz=num(procs, "LB", 0.0), gb=num(procs, "GB", 0.0),
                      ssb=num(procs, "SSB", 0.0), phc0_deg=num(procs, "PHC0", 0.0),
                      phc1_deg=num(procs, "PHC1", 0.0), grpdly=grpdly, ph_mod=ph_mod,
                      tdeff=tdeff if 0 < tdeff < td_complex else 0)


def ppm_axis(ds: Dataset, acqus: dict, procs: dict, si: int, from_fid: bool) -> tuple[np.ndarray, float]:
    """ppm of each point (high ppm first) and SF in MHz."""
    sf = num(procs, "SF") or num(acqus, "BF1")
    if not sf:
        raise ds.error("neither procs SF nor acqus BF1 gives the spectrometer frequency")
    if from_fid or num(procs, "OFFSET") is None or not num(procs, "SW_p"):
        sw_hz, sfo1 = num(acqus, "SW_h"), num(acqus, "SFO1")
        if not sw_hz or not sfo1:
            raise ds.error("acqus lacks SW_h or SFO1, needed for the ppm axis")
        offset = (sfo1 - sf) / sf * 1e6 + sw_hz / (2.0 * sf)
    else:
        offset, sw_hz = num(procs, "OFFSET"), num(procs, "SW_p")
    return offset - np.arange(si) * sw_hz / (sf * si), float(sf)


def metadata(ds: Dataset, acqus: dict, procs: dict, *, source: str, n_points: int, two_d: bool) -> dict:
    # Normalised so "<133Cs>" or "Cs133" finds the 133Cs site library and field table.
    nucleus = normalise_nucleus(acqus.get("NUC1") or procs.get("AXNUC") or "")
    title = ""
    if ds.pdata is not None and (ds.pdata / "title").is_file():
        title = (ds.pdata / "title").read_text(encoding="latin-1", errors="replace").strip()[:500]
    pulprog = str(acqus.get("PULPROG", "") or "")
    bf1, sfo1 = num(acqus, "BF1"), num(acqus, "SFO1")
    field_t = None
    if nucleus in XI_PERCENT and (bf1 or sfo1):
        field_t = round((bf1 or sfo1) / (XI_PERCENT[nucleus] / 100.0) / GAMMA_1H_MHZ_PER_T, 4)
    mas = num(acqus, "MASR") or num(acqus, "CNST", index=31) or mas_from_title(title)
    date = num(acqus, "DATE")
    if two_d:
        experiment = "saturation-recovery" if "sat" in pulprog.lower() else (
            "inversion-recovery" if "ir" in pulprog.lower() else "pseudo-2d")
    else:
        experiment = "one-pulse" if _ONE_PULSE.match(pulprog) else (pulprog or "1d")
    return {
        "nucleus": nucleus,
        "sfo1_mhz": sfo1,
        "field_t": field_t,
        "mas_rate_hz": mas or None,
        "ns": int(num(acqus, "NS")) if num(acqus, "NS") is not None else None,
        "rg": num(acqus, "RG"),
        "d1_s": num(acqus, "D", index=1),
        "pulprog": pulprog,
        "title": title,
        "date": datetime.fromtimestamp(date, tz=timezone.utc).isoformat() if date else None,
        "nc_proc": int(num(procs, "NC_proc")) if num(procs, "NC_proc") is not None and source == "processed" else None,
        "experiment": experiment,
        "n_points": n_points,
        "source": source,
        "procno": int(ds.pdata.name) if ds.pdata is not None and ds.pdata.name.isdigit() else None,
    }


def mas_from_title(title: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*kHz", title, re.I)
    return float(match.group(1)) * 1e3 if match else None
