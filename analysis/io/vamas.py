"""VAMAS (ISO 14976) reader: one XpsRegion per block, binding energy ascending.

The layout follows ISO 14976 field by field (cross-checked against the VAMAS parser of
FAIRmat-NFDI/pynxtools-xps and real Kratos, SpecsLab Prodigy and CasaXPS exports).
REGULAR files give abscissa start/increment; IRREGULAR files carry the abscissa as the
first corresponding variable, interleaved with the ordinates.

Kinetic-energy axes become binding energies as BE = hν − KE. Kratos and Prodigy write KE
already referenced to the spectrometer Fermi level, so the work-function field is NOT
subtracted again: Kratos AXIS Supra wide scans list KE 286.69–1491.69 eV for hν 1486.69 eV
and work function −4.5 (BE 1200 to −5 eV), Prodigy lists KE start 136.61 for BE 1350 eV.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import numpy as np

from analysis.data import XpsRegion, XpsSpectra
from analysis.io import reader
from analysis.result import InputError

FORMAT_LINE = "VAMAS Surface Chemical Analysis Standard Data Transfer Format"
END_LINE = "end of experiment"
UNSET = 1e37  # ISO 14976 "value not specified"

_MAP_MODES = ("MAP", "MAPDP")
_DEPTH_MODES = ("MAPDP", "MAPSVDP", "SDP", "SDPSV")
_ION_TECHNIQUES = ("FABMS", "FABMS energy spec", "ISS", "SIMS", "SIMS energy spec", "SNMS",
                   "SNMS energy spec")
_ELECTRON_TECHNIQUES = ("AES diff", "AES dir", "EDX", "ELS", "UPS", "XPS", "XRF")
_CPS = re.compile(r"per\s*second|cps|c/s", re.IGNORECASE)


def _sniff(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    if os.path.splitext(path)[1].lower() in (".vms", ".npl"):
        return True  # a broken .vms should get the VAMAS reader's specific error
    with open(path, "rb") as fh:
        head = fh.read(256).lstrip()
    return head.startswith(FORMAT_LINE.encode())


class _Cursor:
    """Line-by-line reader that names the line and block in every error."""

    def __init__(self, lines: list[str], start: int, path: str, probing: bool = False):
        self.lines, self.i, self.path = lines, start, path
        self.where = "the experiment header"
        self.probing = probing  # a trial read of what follows: no nested look-ahead

    def _end(self, what: str) -> InputError:
        return InputError(f"the file ends at line {len(self.lines)} while reading {what} of "
                          f"{self.where}: it looks truncated", self.path)

    def text(self, what: str) -> str:
        if self.i >= len(self.lines):
            raise self._end(what)
        self.i += 1
        return self.lines[self.i - 1].strip()

    def float(self, what: str) -> float:
        raw = self.text(what)
        try:
            return float(raw)
        except ValueError:
            raise InputError(f"line {self.i}: {what} of {self.where} should be a number but "
                             f"reads {raw[:40]!r}", self.path) from None

    def int(self, what: str) -> int:
        value = self.float(what)
        if value != int(value):
            raise InputError(f"line {self.i}: {what} of {self.where} should be a whole number "
                             f"but reads {value}", self.path)
        return int(value)

    def skip(self, n: int, what: str) -> list[str]:
        return [self.text(what) for _ in range(n)]


@reader("vamas", kind=XpsSpectra.kind, sniff=_sniff)
def read_vamas(path: str) -> XpsSpectra:
    """Read every block of a VAMAS file. Counts are per channel (counts-per-second
    ordinates are multiplied back by dwell × scans); binding energies in eV, ascending."""
    with open(path, "rb") as fh:
        lines = fh.read().decode("latin-1").splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    first = lines[start].strip() if start < len(lines) else ""
    if not first.startswith(FORMAT_LINE):
        raise InputError(f"not a VAMAS file: the first line should start {FORMAT_LINE!r} but "
                         f"reads {first[:60]!r}", path)
    cur = _Cursor(lines, start, path)
    header = _read_header(cur)
    regions: list[XpsRegion] = []
    for k in range(header["n_blocks"]):
        if cur.i < len(lines) and lines[cur.i].strip().lower() == END_LINE:
            raise InputError(f"the header announces {header['n_blocks']} blocks but the file "
                             f"holds {k} ('end of experiment' at line {cur.i + 1})", path)
        regions.append(_read_block(cur, header, k + 1))
    _check_end(cur, header, len(regions))
    meta = {key: header[key] for key in ("format_id", "institution", "instrument", "operator",
                                         "experiment", "experiment_mode", "scan_mode")}
    meta.update(n_blocks=len(regions), comments=header["comments"][:20])
    for line in header["comments"]:
        if "CasaXPS Version" in line:
            meta["casaxps_version"] = line.split("Version", 1)[1].strip()
        if "Prodigy" in line:
            meta["software"] = line.strip()
    return XpsSpectra(format="vamas", source=path, metadata=meta, regions=regions)


def _read_header(cur: _Cursor) -> dict[str, Any]:
    h: dict[str, Any] = {"format_id": cur.text("the format identifier")}
    for key in ("institution", "instrument", "operator", "experiment"):
        h[key] = cur.text(f"the {key} identifier")
    h["comments"] = cur.skip(cur.int("the number of comment lines"), "a comment line")
    h["experiment_mode"] = cur.text("the experiment mode")
    h["scan_mode"] = cur.text("the scan mode").upper()
    if h["scan_mode"] not in ("REGULAR", "IRREGULAR"):
        raise InputError(f"line {cur.i}: scan mode {h['scan_mode']!r} is not supported "
                         "(expected REGULAR or IRREGULAR)", cur.path)
    if h["experiment_mode"] in ("MAP", "MAPDP", "NORM", "SDP"):
        h["n_spectral_regions"] = cur.int("the number of spectral regions")
    if h["experiment_mode"] in _MAP_MODES:
        cur.skip(3, "the analysis positions and x/y coordinate counts")
    n_vars = cur.int("the number of experimental variables")
    h["exp_variables"] = [cur.text("an experimental variable label") + " / " +
                          cur.text("an experimental variable unit") for _ in range(n_vars)]
    if cur.int("the number of entries in the parameter inclusion list") != 0:
        raise InputError(f"line {cur.i}: VAMAS parameter inclusion lists are not supported "
                         "(export the file again with all block parameters)", cur.path)
    cur.skip(cur.int("the number of manually entered items"), "a manually entered item")
    n_future_exp = cur.int("the number of future upgrade experiment entries")
    h["n_future_block"] = cur.int("the number of future upgrade block entries")
    cur.skip(n_future_exp, "a future upgrade experiment entry")
    h["n_blocks"] = cur.int("the number of blocks")
    return h


def _read_block(cur: _Cursor, h: dict[str, Any], index: int) -> XpsRegion:
    cur.where = f"block {index}"
    block_id = cur.text("the block identifier")
    cur.where = f"block {index} ({block_id!r})"
    sample = cur.text("the sample identifier")
    stamp = [cur.float(f"the {part}") for part in ("year", "month", "day", "hour", "minute",
                                                    "second")]
    gmt = cur.float("the hours in advance of GMT")
    comments = cur.skip(cur.int("the number of comment lines"), "a comment line")
    technique = cur.text("the technique")
    mode = h["experiment_mode"]
    if mode in _MAP_MODES:
        cur.skip(2, "the x/y coordinates")
    cur.skip(len(h["exp_variables"]), "an experimental variable value")
    source_label = cur.text("the analysis source label")
    if mode in _DEPTH_MODES or technique in _ION_TECHNIQUES:
        cur.skip(3, "the sputtering ion description")
    source_ev = cur.float("the analysis source characteristic energy")
    cur.skip(3, "the analysis source strength and beam widths")
    if mode in ("MAP", "MAPDP", "MAPSV", "MAPSVDP", "SEM"):
        cur.skip(2, "the field of view")
    if mode in ("MAPSV", "MAPSVDP", "SEM"):
        cur.skip(6, "the linescan coordinates")
    cur.skip(2, "the source polar and azimuth angles")
    analyser_mode = cur.text("the analyser mode")
    pass_energy = cur.float("the analyser pass energy")
    if technique == "AES diff":
        cur.skip(1, "the differential width")
    cur.skip(1, "the analyser lens magnification")
    work_function = cur.float("the analyser work function")
    cur.skip(5, "the target bias, analysis widths and take-off angles")
    species = cur.text("the species label")
    transition = cur.text("the transition label")
    cur.skip(1, "the charge of the detected particle")
    if h["scan_mode"] == "REGULAR":
        x_label = cur.text("the abscissa label")
        x_units = cur.text("the abscissa units")
        x_start = cur.float("the abscissa start")
        x_step = cur.float("the abscissa increment")
    n_var = cur.int("the number of corresponding variables")
    labels = [(cur.text("a variable label"), cur.text("a variable unit")) for _ in range(n_var)]
    if h["scan_mode"] == "IRREGULAR":
        if n_var < 2:
            raise InputError(f"line {cur.i}: {cur.where} of an IRREGULAR file needs the "
                             "abscissa and at least one signal variable", cur.path)
        x_label, x_units = labels[0]
    signal_mode = cur.text("the signal mode")
    dwell_s = cur.float("the signal collection time")
    scans = cur.int("the number of scans")
    cur.skip(1, "the signal time correction")
    if technique in _ELECTRON_TECHNIQUES and mode in _DEPTH_MODES:
        cur.skip(7, "the sputtering source settings")
    cur.skip(3, "the sample tilt and rotation angles")
    extra = {}
    for _ in range(cur.int("the number of additional numerical parameters")):
        label, unit = cur.text("a parameter label"), cur.text("a parameter unit")
        extra[label] = cur.text("a parameter value")
    cur.skip(h["n_future_block"], "a future upgrade block entry")
    n_values = cur.int("the number of ordinate values")
    if n_values < n_var:
        raise InputError(f"line {cur.i}: {cur.where} announces {n_values} values; it needs at "
                         f"least one per variable ({n_var})", cur.path)
    cur.skip(2 * n_var, "the ordinate minimum and maximum")
    values = _read_values(cur, n_values)
    _check_after_values(cur, h, index, n_values)
    if n_values % n_var:
        raise InputError(f"{cur.where} holds {n_values} values, not a multiple of its "
                         f"{n_var} variables", cur.path)
    table = values.reshape(-1, n_var)
    if h["scan_mode"] == "REGULAR":
        x = x_start + x_step * np.arange(table.shape[0])
        signal, signal_label = table[:, 0], labels[0][0]
    else:
        x, signal, signal_label = table[:, 0], table[:, 1], labels[1][0]

    meta: dict[str, Any] = {
        "block_id": block_id, "sample_id": sample, "technique": technique,
        "source_label": source_label, "source_energy_ev": _opt(source_ev),
        "analyser_mode": analyser_mode, "pass_energy_ev": _opt(pass_energy),
        "work_function_ev": _opt(work_function), "abscissa_label": x_label,
        "abscissa_units": x_units, "signal_label": signal_label, "signal_mode": signal_mode,
        "dwell_s": _opt(dwell_s), "scans": scans, "acquired_at": _timestamp(stamp, gmt),
        "n_points": int(table.shape[0]), "species": species, "transition": transition,
    }
    if extra:
        meta["parameters"] = extra
    casa = _casa_block(comments)
    if casa:
        meta["casaxps"] = casa
    fields = _comment_fields(comments)
    if fields:
        meta["comments"] = fields

    counts = signal.astype(float)
    if _CPS.search(signal_label) and dwell_s > 0 and scans > 0 and dwell_s < UNSET:
        counts = counts * dwell_s * scans
        meta["signal_converted"] = "counts per second × dwell × scans"
    be = _binding_energy(x, x_label, source_ev, cur)
    be = np.round(be, 6)  # start + i·step leaves float dust such as -2e-13 eV
    order = np.argsort(be, kind="stable")
    name = f"{species} {transition}".strip() or block_id
    return XpsRegion(name=name, binding_energy_ev=be[order], counts=counts[order], metadata=meta)


def _read_values(cur: _Cursor, n: int) -> np.ndarray:
    chunk = cur.lines[cur.i:cur.i + n]
    try:
        values = np.array(chunk, dtype=float)
    except ValueError:
        values = None
    if values is not None and len(chunk) == n:
        cur.i += n
        return values
    found = 0
    for raw in chunk:
        if not _is_number(raw):
            break
        found += 1
    if found == len(chunk):
        raise InputError(f"{cur.where} should hold {n} values but the file ends after {found} "
                         "of them: it looks truncated", cur.path)
    bad = chunk[found].strip()
    line_no = cur.i + found + 1
    if bad[:1] in "+-.0123456789" and bad and " " not in bad:
        raise InputError(f"line {line_no}: a value of {cur.where} is not a number: "
                         f"{bad[:40]!r}", cur.path)
    raise InputError(f"{cur.where} should hold {n} values but only {found} were found "
                     f"(line {line_no} reads {bad[:40]!r})", cur.path)


def _is_number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def _check_after_values(cur: _Cursor, h: dict[str, Any], index: int, n: int) -> None:
    """A number where a new block or 'end of experiment' should start means the block
    holds more values than it announces (unless the next block's name is a number)."""
    lines = cur.lines
    if cur.probing or cur.i >= len(lines) or not _is_number(lines[cur.i]):
        return
    probe = _Cursor(lines, cur.i, cur.path, probing=True)
    try:
        _read_block(probe, h, index + 1)
        return
    except InputError:
        pass
    more = 0
    while cur.i + more < len(lines) and _is_number(lines[cur.i + more]):
        more += 1
    raise InputError(f"{cur.where} should hold {n} values but {n + more} were found (extra "
                     f"numbers from line {cur.i + 1} to {cur.i + more})", cur.path)


def _check_end(cur: _Cursor, h: dict[str, Any], n_read: int) -> None:
    """After the announced blocks comes 'end of experiment'; if more blocks follow, say
    how many the file really holds."""
    lines = cur.lines
    if cur.i < len(lines) and lines[cur.i].strip().lower() == END_LINE:
        return
    if cur.i >= len(lines):
        raise InputError(f"the file ends after block {n_read} without 'end of experiment': "
                         "it looks truncated", cur.path)
    here, extra = cur.i, 0
    probe = _Cursor(lines, here, cur.path, probing=True)
    try:
        while probe.i < len(lines) and lines[probe.i].strip().lower() != END_LINE:
            _read_block(probe, h, n_read + extra + 1)
            extra += 1
    except InputError:
        extra = 0
    if extra:
        raise InputError(f"the header announces {h['n_blocks']} blocks but the file holds "
                         f"{h['n_blocks'] + extra}", cur.path)
    raise InputError(f"line {here + 1} reads {lines[here].strip()[:40]!r} where 'end of "
                     f"experiment' was expected after block {n_read}", cur.path)


def _binding_energy(x: np.ndarray, label: str, source_ev: float, cur: _Cursor) -> np.ndarray:
    low = label.lower()
    if "binding" in low:
        return x.astype(float)
    if "kinetic" in low:
        if not 0 < source_ev < UNSET:
            raise InputError(f"{cur.where} gives kinetic energies but no X-ray source energy",
                             cur.path)
        return source_ev - x
    raise InputError(f"{cur.where}: abscissa {label!r} is neither kinetic nor binding energy",
                     cur.path)


def _opt(value: float) -> float | None:
    return None if abs(value) >= UNSET * 0.999 else float(value)


def _timestamp(stamp: list[float], gmt: float) -> str | None:
    try:
        tz = dt.timezone(dt.timedelta(hours=gmt if abs(gmt) < 24 else 0))
        y, mo, d, h, mi, s = (int(v) for v in stamp)
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=tz).isoformat()
    except (ValueError, OverflowError):
        return None


def _comment_fields(comments: list[str]) -> dict[str, str]:
    """'key : value' and 'key = value' comment lines (Kratos, Prodigy), Casa block excluded."""
    out: dict[str, str] = {}
    for line in comments:
        if line.startswith(("Casa Info Follows", "CASA ", "Calib ")):
            continue
        for sep in (" : ", " = ", "="):
            if sep in line:
                key, value = line.split(sep, 1)
                if key.strip() and len(out) < 60:
                    out[key.strip()] = value.strip()
                break
    return out


_CASA_TOKEN = re.compile(r"\(\*(.*?)\*\)|(\S+)")


def _casa_block(comments: list[str]) -> dict[str, Any]:
    """CasaXPS processing stored in a block comment: calibrations, regions, components."""
    try:
        start = next(k for k, line in enumerate(comments) if line.startswith("Casa Info Follows"))
    except StopIteration:
        return {}
    out: dict[str, Any] = {"processing": [], "regions": [], "components": []}
    for line in comments[start + 1:]:
        tokens = [a if a or b == "" else b for a, b in _CASA_TOKEN.findall(line)]
        try:
            if line.startswith("CASA region"):
                out["regions"].append({"name": tokens[2], "background": tokens[3],
                                       "start_ev": float(tokens[4]), "end_ev": float(tokens[5]),
                                       "rsf": float(tokens[6])})
            elif line.startswith("CASA comp"):
                comp = {"name": tokens[2], "lineshape": tokens[3]}
                for key, field in (("Area", "area"), ("MFWHM", "fwhm_ev"),
                                   ("Position", "position_ev"), ("RSF", "rsf")):
                    if key in tokens:
                        comp[field] = float(tokens[tokens.index(key) + 1])
                out["components"].append(comp)
            elif line.startswith(("Calib", "KECalib", "InCalib", "TransmissionSet", "Sm")):
                out["processing"].append(line.strip())
        except (IndexError, ValueError):
            out["processing"].append(line.strip())
    return {k: v for k, v in out.items() if v}
