"""TEM micrographs: TIFF (ImageJ, FEI or resolution-tag calibration), Gatan DM3/DM4,
and PNG/JPEG with an explicit pixel size.

The image size is checked from the file header before any pixel is decoded, so a file
that claims 50,000 x 50,000 pixels is refused without allocating memory for it.
"""
from __future__ import annotations

import logging
import os
import struct
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from analysis.data import Micrograph
from analysis.io import reader
from analysis.result import InputError

# Largest image we decode: a 10k x 10k camera frame. Anything bigger is a stitched
# montage or a corrupt header and would exhaust a worker's memory.
MAX_MEGAPIXELS = 100

TIFF_EXT = (".tif", ".tiff")
DM_EXT = (".dm3", ".dm4")
RASTER_EXT = (".png", ".jpg", ".jpeg")
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

# Length units as written by ImageJ, Gatan and TIFF writers, in nanometres.
UNIT_NM = {
    "nm": 1.0, "nanometer": 1.0, "nanometers": 1.0, "nanometre": 1.0,
    "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "microns": 1e3, "micrometer": 1e3,
    "\\u00b5m": 1e3, "mm": 1e6, "cm": 1e7, "m": 1e9,
    "a": 0.1, "å": 0.1, "angstrom": 0.1, "pm": 1e-3,
}
# TIFF ResolutionUnit tag: 2 = inch, 3 = centimetre (1 = none, i.e. uncalibrated).
RESOLUTION_UNIT_NM = {2: 2.54e7, 3: 1e7}
# A TEM pixel is far below a micrometre; anything coarser is a print resolution
# (e.g. the 72 dpi that many programs write by default), not a calibration.
MAX_PLAUSIBLE_PIXEL_NM = 1000.0


def _sniff(path: str) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if ext not in TIFF_EXT + DM_EXT + RASTER_EXT or not os.path.isfile(path):
        return False
    with open(path, "rb") as fh:
        head = fh.read(8)
    if ext in TIFF_EXT:
        return head[:4] in TIFF_MAGIC
    if ext in DM_EXT:
        # DM3/DM4 start with a big-endian version number 3 or 4.
        return len(head) >= 4 and struct.unpack(">I", head[:4])[0] == int(ext[-1])
    if ext == ".png":
        return head == PNG_MAGIC
    return head[:3] == JPEG_MAGIC


@reader("tem-image", kind=Micrograph.kind, sniff=_sniff, options=("pixel_size_nm",))
def read_tem(path: str, pixel_size_nm: float | str | None = None) -> Micrograph:
    """Read a micrograph as a 2-D float32 grey image with its pixel size in nm.

    `pixel_size_nm` overrides the file's calibration and is required for PNG/JPEG or
    uncalibrated TIFFs. Raises InputError for corrupt, uncalibrated or oversized images.
    """
    override = _parse_pixel_size(pixel_size_nm, path)
    ext = os.path.splitext(path)[1].lower()
    if ext in RASTER_EXT and override is None:
        # PNG/JPEG carry no trustworthy scale (a DPI is not a pixel size).
        raise InputError("the image has no pixel-size calibration; give pixel_size_nm", path)
    if ext in TIFF_EXT:
        image, pixel_nm, meta = _read_tiff(path)
    elif ext in DM_EXT:
        image, pixel_nm, meta = _read_dm(path)
    else:
        image, pixel_nm, meta = _read_raster(path)
    if override is not None:
        if pixel_nm is not None:
            meta["file_pixel_size_nm"] = pixel_nm
        pixel_nm, meta["calibration"] = override, "pixel_size_nm option"
    if pixel_nm is None:
        raise InputError("the image has no pixel-size calibration; give pixel_size_nm", path)
    meta.update(pixel_size_nm=pixel_nm, height=int(image.shape[0]), width=int(image.shape[1]))
    return Micrograph(image=image, pixel_size_nm=pixel_nm, metadata=meta)


def _parse_pixel_size(value: float | str | None, path: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        size = float(value)
    except ValueError:
        raise InputError(f"pixel_size_nm={value!r} is not a number", path) from None
    if not (0 < size < MAX_PLAUSIBLE_PIXEL_NM):
        raise InputError(f"pixel_size_nm={value!r} must be a positive size below "
                         f"{MAX_PLAUSIBLE_PIXEL_NM:g} nm", path)
    return size


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's logged warnings about a damaged file: the InputError we
    raise is the one line the user should see."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _why(exc: Exception) -> str:
    """A library's error as one short line (the CLI prints exactly one line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _check_size(height: int, width: int, path: str) -> None:
    if height * width > MAX_MEGAPIXELS * 1_000_000:
        raise InputError(
            f"the image is {width:,} x {height:,} pixels ({height * width / 1e6:,.0f} megapixels); "
            f"the limit is {MAX_MEGAPIXELS} megapixels - crop or bin it first", path)
    if height < 8 or width < 8:
        raise InputError(f"the image is only {width} x {height} pixels", path)


def _to_grey(data: np.ndarray, path: str) -> np.ndarray:
    """2-D float32 grey image from greyscale, RGB(A) or a stack (first frame)."""
    data = np.asarray(data)
    if np.iscomplexobj(data):
        data = np.abs(data)
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        data = data[..., :3].astype(np.float32).mean(axis=-1)
    while data.ndim > 2:
        data = data[0]
    if data.ndim != 2:
        raise InputError(f"expected a 2-D image, found data of shape {list(data.shape)}", path)
    return data.astype(np.float32, copy=False)


def _read_tiff(path: str) -> tuple[np.ndarray, float | None, dict[str, Any]]:
    import tifffile

    try:
        with _quiet("tifffile"), tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            shape, dtype = page.shape, page.dtype
            samples = shape[-1] if len(shape) == 3 and shape[-1] in (3, 4) else 1
            height, width = (shape[-3], shape[-2]) if samples > 1 else (shape[-2], shape[-1])
            _check_size(int(height), int(width), path)
            _check_complete(page, os.path.getsize(path), path)
            pixel_nm, meta = _tiff_calibration(tif, page)
            meta.update(dtype=str(dtype), n_frames=len(tif.pages))
            image = _to_grey(page.asarray(), path)
    except InputError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged files
        raise InputError(f"the TIFF file is damaged or unreadable ({_why(exc)})", path) from None
    return image, pixel_nm, meta


def _check_complete(page: Any, file_size: int, path: str) -> None:
    """A truncated upload: the strips the header points to lie past the end of the file."""
    ends = [o + c for o, c in zip(page.dataoffsets, page.databytecounts)]
    if not ends or max(ends) > file_size:
        raise InputError(f"the TIFF file is truncated (image data needs {max(ends, default=0):,} "
                         f"bytes, the file has {file_size:,})", path)


def _tiff_calibration(tif: Any, page: Any) -> tuple[float | None, dict[str, Any]]:
    """Pixel size (nm) and acquisition metadata from ImageJ, FEI or TIFF resolution tags."""
    meta: dict[str, Any] = {}
    fei = getattr(tif, "fei_metadata", None) if getattr(tif, "is_fei", False) else None
    if fei:
        scan, beam = fei.get("Scan", {}), fei.get("EBeam", {})
        if beam.get("HV"):
            meta["voltage_kv"] = float(beam["HV"]) / 1e3
        if scan.get("PixelWidth"):
            meta["calibration"] = "FEI metadata"
            return float(scan["PixelWidth"]) * 1e9, meta
    xres = page.tags.get("XResolution")
    if xres is None:
        return None, meta
    num, den = xres.value if isinstance(xres.value, tuple) else (xres.value, 1)
    per_unit = num / den if den else 0.0
    if per_unit <= 0:
        return None, meta
    ij = tif.imagej_metadata if tif.is_imagej else None
    if ij and ij.get("unit"):
        unit = str(ij["unit"]).strip().lower()
        if unit in UNIT_NM:
            pixel_nm = UNIT_NM[unit] / per_unit
            meta["calibration"] = f"ImageJ ({ij['unit']})"
            return (pixel_nm if pixel_nm < MAX_PLAUSIBLE_PIXEL_NM else None), meta
    unit_tag = page.tags.get("ResolutionUnit")
    unit_nm = RESOLUTION_UNIT_NM.get(int(unit_tag.value) if unit_tag else 2)
    if unit_nm is None:
        return None, meta
    pixel_nm = unit_nm / per_unit
    if pixel_nm >= MAX_PLAUSIBLE_PIXEL_NM:
        return None, meta
    meta["calibration"] = "TIFF resolution tags (" + ("cm" if unit_nm == 1e7 else "inch") + ")"
    return pixel_nm, meta


def _read_dm(path: str) -> tuple[np.ndarray, float | None, dict[str, Any]]:
    from ncempy.io import dm

    try:
        with dm.fileDM(path) as f:
            ii = 0 if f.numObjects == 1 else 1  # index 0 is usually an RGB thumbnail
            if len(f.xSize) <= ii:
                raise InputError("the DM file contains no image", path)
            _check_size(int(f.ySize[ii]), int(f.xSize[ii]), path)
            frames = int(f.zSize[ii]) * int(f.zSize2[ii])
            if frames > 1 and frames * int(f.ySize[ii]) * int(f.xSize[ii]) > MAX_MEGAPIXELS * 1e6:
                # getDataset reads the whole series; we use only its first frame.
                raise InputError(f"the DM file is a series of {frames:,} frames, over "
                                 f"{MAX_MEGAPIXELS} megapixels in all; export one frame", path)
            dataset = f.getDataset(0)
            try:
                tags = f.getMetadata(0)
            except Exception:
                tags = {}
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"the DM file is damaged or unreadable ({_why(exc)})", path) from None
    raw = np.asarray(dataset["data"])
    meta: dict[str, Any] = {"dtype": str(raw.dtype)}
    image = _to_grey(raw, path)
    size, unit = dataset["pixelSize"][-1], str(dataset["pixelUnit"][-1]).strip().lower()
    pixel_nm = None
    if unit in UNIT_NM and size > 0:
        pixel_nm = float(size) * UNIT_NM[unit]
        meta["calibration"] = f"DM calibration ({dataset['pixelUnit'][-1]})"
    for key, name in (("Microscope Info Voltage", "voltage_kv"),
                      ("Microscope Info Indicated Magnification", "magnification")):
        if isinstance(tags.get(key), (int, float)):
            meta[name] = float(tags[key]) / (1e3 if name == "voltage_kv" else 1)
    return image, pixel_nm, meta


def _read_raster(path: str) -> tuple[np.ndarray, float | None, dict[str, Any]]:
    from PIL import Image

    try:
        # Pillow warns (on stderr) above 89 megapixels; our own limit is checked below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)  # reads the header only
        with im:
            width, height = im.size
            _check_size(height, width, path)
            mode = im.mode
            im.load()
            data = np.asarray(im.convert("F") if mode not in ("L", "I;16", "I") else im)
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(f"the image is larger than {MAX_MEGAPIXELS} megapixels", path) from None
    except Exception as exc:
        raise InputError(f"the image file is damaged or unreadable ({_why(exc)})", path) from None
    return _to_grey(data, path), None, {"dtype": str(data.dtype), "mode": mode}
