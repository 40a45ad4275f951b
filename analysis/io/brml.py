"""Bruker DIFFRAC .brml: a zip of XML written by DIFFRAC.Measurement Center.

Layout (checked against a D8 DAVINCI file of NIST SRM 640d):
`<name>/Experiment0/RawData0.xml` holds `<Datum>` lines of comma-separated numbers whose
columns are described by `<DataViews>`: `MeasuredTime`, `AbsorptionFactor`, then one
column per scan axis (`TwoTheta`, and `Theta` in coupled scans), then the counts
(`RecordedRawDataView`). `<FixedInformation>` names the tube (Kα1, Kα2, ratio) and the
mounted optics, where a Johansson monochromator means Kα1-only radiation.

The archive is untrusted: it is read in memory through `analysis.io.archive` (size and
compression caps, no path tricks) and parsed with defusedxml, which refuses DTDs and
entity expansion ("billion laughs").
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import defusedxml
import numpy as np
from defusedxml.ElementTree import fromstring

from analysis.data import PowderPattern
from analysis.io import reader
from analysis.io.archive import open_zip, read_member
from analysis.io.powder import build_pattern
from analysis.result import InputError

FORMAT = "bruker-brml"
RAW_DATA = re.compile(r"(^|/)Experiment(\d+)/RawData(\d+)\.xml$", re.IGNORECASE)
MAX_XML_BYTES = 64 * 1024 * 1024
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def sniff(path: str) -> bool:
    """A .brml zip, or any zip that holds `Experiment*/RawData*.xml`."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    if path.lower().endswith(".brml"):
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            return any(RAW_DATA.search(name) for name in zf.namelist())
    except zipfile.BadZipFile:
        return False


@reader(FORMAT, kind=PowderPattern.kind, sniff=sniff)
def read_brml(path: str) -> PowderPattern:
    """Read the first scan of a .brml. Returns 2θ (degrees, ascending) and raw counts."""
    with open_zip(path) as zf:
        members = sorted(
            (int(m.group(2)), int(m.group(3)), name)
            for name in zf.namelist() if (m := RAW_DATA.search(name))
        )
        if not members:
            raise InputError("this .brml has no Experiment*/RawData*.xml scan data", path)
        name = members[0][2]
        root = parse_xml(read_member(zf, name, path, limit=MAX_XML_BYTES), name, path)

    two_theta, counts, columns = _datum_columns(root, name, path)
    tube = _tube(root)
    mono = _monochromator(root)
    meta: dict[str, Any] = {
        "sample_name": _info_item(root, "SampleName"),
        "scan_mode": _text(root, ".//ScanInformation/ScanModeVisibleName"),
        "scan_name": _attr(root, ".//ScanInformation", "ScanName"),
        "time_per_step_s": _float(_text(root, ".//ScanInformation/TimePerStep")),
        "started_at": _text(root, "TimeStampStarted"),
        "detector": _attr(root, ".//Detectors/InfoData", "VisibleName"),
        "tube_voltage_kv": tube.get("voltage_kv"),
        "tube_current_ma": tube.get("current_ma"),
        "datum_columns": columns,
        "scans_in_file": len(members),
        "member": name,
    }
    return build_pattern(
        two_theta, counts, path, fmt=FORMAT, metadata=meta,
        ka1_angstrom=tube.get("ka1"), ka2_angstrom=tube.get("ka2"), ka2_ratio=tube.get("ratio"),
        monochromator=mono, anode=tube.get("anode") or "Cu",
    )


def parse_xml(raw: bytes, member: str, path: str) -> ET.Element:
    """Parse untrusted XML; DTDs, entities and external references are refused."""
    try:
        return fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise InputError(
            f"{member} declares a DTD or XML entities, which an instrument file never needs "
            "(refused: entity expansion can exhaust memory)", path) from None
    except ET.ParseError as exc:
        raise InputError(f"{member} is not well-formed XML ({exc})", path) from None


def _datum_columns(root: ET.Element, member: str, path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    route = root.find(".//DataRoutes/DataRoute")
    if route is None:
        raise InputError(f"{member} has no <DataRoute> with measured data", path)
    lines = [d.text or "" for d in route.findall("Datum")]
    if not lines:
        raise InputError(f"{member} contains no <Datum> measurement points", path)
    try:
        rows = [[float(v) for v in line.split(",")] for line in lines]
        table = np.array(rows, dtype=float)
    except ValueError:
        raise InputError(f"{member} has a <Datum> line that is not a list of numbers", path) from None
    if table.ndim != 2:
        raise InputError(f"{member}: <Datum> lines have different numbers of values", path)

    tt_col, count_col, names = _columns_from_views(route, table.shape[1])
    if tt_col is None or count_col is None or max(tt_col, count_col) >= table.shape[1]:
        # Older files without <DataViews>: time, absorption factor, 2θ, [θ,] counts.
        tt_col, count_col = 2, table.shape[1] - 1
        names = ["MeasuredTime", "AbsorptionFactor", "TwoTheta"] + ["?"] * (table.shape[1] - 4) + ["Counts"]
    if table.shape[1] < 3:
        raise InputError(f"{member}: <Datum> lines have {table.shape[1]} values; expected time, 2θ and counts", path)
    return table[:, tt_col], table[:, count_col], names


def _columns_from_views(route: ET.Element, width: int) -> tuple[int | None, int | None, list[str]]:
    names = ["?"] * width
    tt_col = count_col = None
    for view in route.findall("DataViews/RawDataView"):
        start = _int(view.get("Start"))
        if start is None:
            continue  # a view without a usable column number: the layout guess below decides
        kind = view.get(XSI_TYPE, "")
        if kind == "RecordedRawDataView":
            count_col = start
            if 0 <= start < width:
                names[start] = "Counts"
        elif kind == "VaryingRawDataView":
            for i, fd in enumerate(view.iter("FieldDefinitions")):
                axis = fd.get("AxisId") or fd.get("FieldName") or "?"
                if 0 <= start + i < width:
                    names[start + i] = axis
                if axis == "TwoTheta":
                    tt_col = start + i
        elif 0 <= start < width:
            names[start] = view.get("LogicName", "?")
    return tt_col, count_col, names


def _tube(root: ET.Element) -> dict[str, Any]:
    tube = root.find(".//Tube")
    if tube is None:
        return {}
    def value(tag: str) -> float | None:
        el = tube.find(f".//{tag}")
        return _float(el.get("Value")) if el is not None else None
    return {
        "anode": _text(tube, "TubeMaterial"),
        "ka1": value("WaveLengthAlpha1"),
        "ka2": value("WaveLengthAlpha2"),
        "ratio": value("WaveLengthRatio"),
        "voltage_kv": value("Generator/Voltage"),
        "current_ma": value("Generator/Current"),
    }


def _monochromator(root: ET.Element) -> str:
    """Name of a primary-beam monochromator, '' when there is none."""
    for track in root.iterfind(".//PrimaryTracks/TrackInfoData"):
        for optic in track.iterfind("MountedOptics/InfoData"):
            bering = optic.find("BeringInfo")
            cls = bering.get("ClassPath", "") if bering is not None else ""
            name = optic.get("LogicName", "")
            if "monochromator" in cls.lower() or "johansson" in name.lower():
                return f"{name} ({cls})" if cls else name
    return ""


def _info_item(root: ET.Element, name: str) -> str | None:
    for item in root.iter("InfoItem"):
        if item.get("Name") == name:
            return item.get("Value") or None
    return None


def _attr(el: ET.Element, xpath: str, name: str) -> str | None:
    found = el.find(xpath)
    return found.get(name) if found is not None else None


def _text(el: ET.Element, xpath: str) -> str | None:
    found = el.find(xpath)
    return found.text.strip() if found is not None and found.text else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
