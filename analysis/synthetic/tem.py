"""Synthetic TEM micrographs of CsPbBr3 nanocrystals with known particle sizes.

Particles are faceted projections of truncated octahedra (rotated hexagons and
corner-cut squares, slightly elongated) with equivalent-circle diameters drawn from
Table 1's Gaussian, about 10% of them placed as touching pairs, on a slowly varying
background with carbon-film texture, Gaussian blur and noise. The truth returned is the
equivalent-circle diameter of every particle fully inside the frame, which is what
`tem.particle_sizes` should count.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from analysis.data import Micrograph
from analysis.synthetic.paper import TABLE1_BY_CODE

SUPERSAMPLE = 4          # sub-pixel sampling of particle edges (anti-aliasing)
BACKGROUND_COUNTS = 1000.0
CONTRAST = 0.35          # fractional intensity drop through a particle (dark on bright)
LIGAND_GAP_NM = 1.5      # surface-to-surface spacing of isolated particles (ligand shell)


def synthetic_micrograph(
    code: str | None = None, *, mean_diameter_nm: float | None = None,
    sd_diameter_nm: float | None = None, n_particles: int = 150, size_px: int = 1024,
    pixel_size_nm: float = 0.25, touching_fraction: float = 0.1, noise: float = 0.05,
    blur_px: float = 1.0, dark_particles: bool = True, layout: str = "random", seed: int = 0,
) -> tuple[Micrograph, dict[str, Any]]:
    """A micrograph (counts, float32) and its truth.

    Diameters come from Table 1 for `code` unless given explicitly. `noise` is the
    Gaussian noise SD as a fraction of the background level; `blur_px` the Gaussian
    blur sigma in pixels. `layout` "random" scatters `n_particles` (some in touching
    pairs); "superlattice" fills the frame with a dense square array of aligned
    corner-cut cubes (about half the area is particles; `n_particles` is ignored).
    Truth keys: `diameters_nm` (equivalent-circle diameters of the particles fully
    inside the image), `count`, `mean_diameter_nm`, `sd_diameter_nm`,
    `n_placed`, `n_touching_pairs`, `area_fraction` (of the frame covered by
    particles), `pixel_size_nm`.
    """
    if code is not None:
        row = TABLE1_BY_CODE[code]
        mean_diameter_nm = row.mean_diameter_nm if mean_diameter_nm is None else mean_diameter_nm
        sd_diameter_nm = row.sd_diameter_nm if sd_diameter_nm is None else sd_diameter_nm
    if mean_diameter_nm is None or sd_diameter_nm is None:
        raise ValueError("give a Table 1 code or both mean_diameter_nm and sd_diameter_nm")
    rng = np.random.default_rng(seed)
    gap = max(2.0, LIGAND_GAP_NM / pixel_size_nm)
    if layout == "superlattice":
        n_particles = int((size_px / (0.85 * mean_diameter_nm / pixel_size_nm + gap) + 2) ** 2)
    elif layout != "random":
        raise ValueError(f"layout must be random or superlattice, not {layout!r}")
    diam_px = rng.normal(mean_diameter_nm, sd_diameter_nm, n_particles) / pixel_size_nm
    diam_px = np.clip(diam_px, 0.5 * mean_diameter_nm / pixel_size_nm, None)
    aligned = layout == "superlattice"
    shapes = [_particle_shape(d, rng, aligned=aligned) for d in diam_px]
    if aligned:
        # Superlattices pack tighter than dried random films: interdigitated ligands.
        centres, n_pairs = _lattice(shapes, size_px, max(2.0, 0.5 * gap), rng), 0
    else:
        centres, n_pairs = _place(shapes, size_px, touching_fraction, gap, rng)

    coverage = np.zeros((size_px, size_px), np.float32)
    inside = np.zeros(n_particles, bool)
    for i, (verts, c) in enumerate(zip(shapes, centres)):
        if c is None:
            continue
        poly = verts + c  # (x, y) in pixel-centre coordinates
        inside[i] = poly.min() >= 0.5 and poly.max() <= size_px - 1.5
        _draw(coverage, poly, rng.uniform(0.9, 1.1))

    y, x = np.mgrid[0:size_px, 0:size_px] / size_px
    phase = rng.uniform(0, 2 * np.pi, 3)
    background = 1 + 0.08 * np.cos(2.1 * np.pi * x + phase[0]) + 0.06 * np.cos(
        1.7 * np.pi * y + phase[1]) + 0.04 * np.cos(np.pi * (x + y) + phase[2])
    texture = ndimage.gaussian_filter(rng.normal(0, 1, (size_px, size_px)), 3.0)
    background = background + 0.03 * texture / texture.std()
    if dark_particles:
        image = background * (1 - CONTRAST * coverage)
    else:  # dark-field / HAADF: particles bright on a dim background
        image = 0.3 * background + CONTRAST * coverage
    image = ndimage.gaussian_filter(image, blur_px) if blur_px > 0 else image
    image = BACKGROUND_COUNTS * (image + rng.normal(0, noise, image.shape))

    placed = np.array([c is not None for c in centres])
    diameters = diam_px[inside & placed] * pixel_size_nm
    truth = {
        "diameters_nm": diameters, "count": int(diameters.size),
        "mean_diameter_nm": float(diameters.mean()) if diameters.size else float("nan"),
        "sd_diameter_nm": float(diameters.std(ddof=1)) if diameters.size > 1 else float("nan"),
        "n_placed": int(placed.sum()), "n_touching_pairs": n_pairs,
        "area_fraction": float(np.clip(coverage, 0, 1).mean()),
        "pixel_size_nm": pixel_size_nm,
    }
    meta = {"synthetic": True, "code": code, "calibration": "synthetic",
            "pixel_size_nm": pixel_size_nm, "width": size_px, "height": size_px}
    micrograph = Micrograph(image=np.clip(image, 0, None).astype(np.float32),
                            pixel_size_nm=pixel_size_nm, metadata=meta,
                            format="synthetic", source=f"synthetic:{code or 'custom'}")
    return micrograph, truth


def write_tem_tiff(path: str | Path, code: str, *, seed: int = 0, size_px: int = 1024,
                   calibration: str = "imagej", pixel_size_nm: float | None = None,
                   **kwargs: Any) -> Path:
    """Write a 16-bit TIFF micrograph of Table 1 sample `code`; returns the path.

    `calibration`: "imagej" (ImageJ unit + XResolution), "resolution" (TIFF resolution
    tags in centimetres, as many camera programs write) or "none". The default pixel size
    gives ~25 px across the smallest (6.4 nm) particles. Extra keyword arguments go to
    `synthetic_micrograph`.
    """
    import tifffile

    px = pixel_size_nm if pixel_size_nm is not None else 0.25
    mic, _ = synthetic_micrograph(code, seed=seed, size_px=size_px, pixel_size_nm=px, **kwargs)
    data = np.clip(np.rint(mic.image), 0, 65535).astype(np.uint16)
    path = Path(path)
    if calibration == "imagej":
        tifffile.imwrite(path, data, imagej=True, resolution=(1 / px, 1 / px),
                         metadata={"unit": "nm"})
    elif calibration == "resolution":
        per_cm = 1e7 / px
        tifffile.imwrite(path, data, resolution=(per_cm, per_cm), resolutionunit="CENTIMETER")
    elif calibration == "none":
        tifffile.imwrite(path, data)
    else:
        raise ValueError(f"calibration must be imagej, resolution or none, not {calibration!r}")
    return path


def write_tem_dm(path: str | Path, code: str, *, version: int = 3, seed: int = 0,
                 size_px: int = 1024, pixel_size_nm: float | None = None,
                 voltage_kv: float = 200.0, **kwargs: Any) -> Path:
    """Write a Gatan DigitalMicrograph file (DM3 or DM4 by `version`; name the path
    .dm3/.dm4 to match) holding a float32 micrograph of Table 1 sample `code` with its nm
    calibration and microscope voltage; returns the path. Extra keyword arguments go to
    `synthetic_micrograph`."""
    if version not in (3, 4):
        raise ValueError("version must be 3 or 4")
    px = pixel_size_nm if pixel_size_nm is not None else 0.25
    mic, _ = synthetic_micrograph(code, seed=seed, size_px=size_px, pixel_size_nm=px, **kwargs)
    image = np.ascontiguousarray(mic.image, dtype="<f4")
    h, w = image.shape

    def axis() -> list:
        return [("Origin", ("f", 0.0)), ("Scale", ("f", px)), ("Units", ("units", "nm"))]

    tree = [("ImageList", [("", [
        ("ImageData", [
            ("Calibrations", [("Dimension", [("", axis()), ("", axis())])]),
            ("Data", ("image", image)),
            ("DataType", ("l", 2)),  # 2 = float32 in DM's image data types
            ("Dimensions", [("", ("l", w)), ("", ("l", h))]),
        ]),
        ("ImageTags", [("Microscope Info", [
            ("Voltage", ("d", voltage_kv * 1e3)),
            ("Indicated Magnification", ("d", 250_000.0)),
        ])]),
    ])])]
    body = _dm_group(tree, version)
    # Header: version, length of what follows, 1 = little-endian data. DM4 widens
    # lengths and counts to 64 bits.
    head = struct.pack(">III", 3, len(body) + 8, 1) if version == 3 else \
        struct.pack(">IQI", 4, len(body) + 8, 1)
    path = Path(path)
    path.write_bytes(head + body + b"\0" * 8)
    return path


# DM tag encodings: (encoded type, little-endian struct code)
_DM_SIMPLE = {"l": (3, "<i"), "f": (6, "<f"), "d": (7, "<d")}


def _dm_group(entries: list, version: int) -> bytes:
    count = ">I" if version == 3 else ">Q"
    out = struct.pack(">bb", 0, 0) + struct.pack(count, len(entries))
    for name, value in entries:
        label = struct.pack(">H", len(name)) + name.encode()
        if isinstance(value, list):
            kind_byte, body = b"\x14", _dm_group(value, version)  # 20 = tag group
        else:
            kind, data = value
            if kind == "image":
                info, payload = (20, 6, data.size), data.tobytes()  # array of float32
            elif kind == "units":
                info, payload = (20, 4, len(data)), np.array([ord(c) for c in data], "<u2").tobytes()
            else:
                code, fmt = _DM_SIMPLE[kind]
                info, payload = (code,), struct.pack(fmt, data)
            kind_byte = b"\x15"  # 21 = tag data
            body = b"%%%%" + struct.pack(f">{len(info) + 1}{count[1]}", len(info), *info) + payload
        size = struct.pack(">Q", len(body)) if version == 4 else b""
        out += kind_byte + label + size + body
    return out


def _particle_shape(diameter_px: float, rng: np.random.Generator, *,
                    aligned: bool = False) -> np.ndarray:
    """Vertices (x, y) around the origin of a faceted particle whose area equals a
    circle of `diameter_px`: a rotated hexagon or corner-cut square, up to 15% elongated.
    `aligned`: a corner-cut square within 3 degrees of the axes, as in a superlattice."""
    if rng.random() < 0.5 and not aligned:
        angles = np.arange(6) * np.pi / 3
        verts = np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        t = rng.uniform(0.25, 0.6)  # corner cut as a fraction of the half-width
        verts = np.array([[1, -1 + t], [1, 1 - t], [1 - t, 1], [-1 + t, 1],
                          [-1, 1 - t], [-1, -1 + t], [-1 + t, -1], [1 - t, -1]], float)
    e = np.sqrt(rng.uniform(1.0, 1.05 if aligned else 1.15))
    verts = verts * [e, 1 / e]  # area-preserving elongation
    theta = np.radians(rng.uniform(-3, 3)) if aligned else rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    verts = verts @ rot.T
    x, y = verts[:, 0], verts[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return verts * np.sqrt(np.pi * diameter_px**2 / 4 / area)


def _place(shapes: list[np.ndarray], size: int, touching_fraction: float, gap: float,
           rng: np.random.Generator) -> tuple[list[np.ndarray | None], int]:
    """Centres for each shape (None if it did not fit): pairs in contact, others apart."""
    n = len(shapes)
    radius = np.array([np.hypot(*v.T).max() for v in shapes])
    n_pairs = int(round(n * touching_fraction / 2))
    centres: list[np.ndarray | None] = [None] * n
    placed_xy, placed_r = np.zeros((n, 2)), np.zeros(n)
    count = 0
    lo, hi = -radius.max() * 0.5, size + radius.max() * 0.5

    def free(xy: np.ndarray, r: float) -> bool:
        d = np.hypot(*(placed_xy[:count] - xy).T)
        return bool(np.all(d > placed_r[:count] + r + gap))

    def add(i: int, xy: np.ndarray) -> None:
        nonlocal count
        centres[i] = xy
        placed_xy[count], placed_r[count] = xy, radius[i]
        count += 1

    pairs_made = 0
    for k in range(n_pairs):
        i, j = 2 * k, 2 * k + 1
        u = rng.normal(size=2)
        u /= np.hypot(*u)
        # Contact along u: the sum of the support functions, less half a pixel so the
        # facets meet rather than leave a hairline gap.
        dist = (shapes[i] @ u).max() + (shapes[j] @ -u).max() - 0.5
        for _ in range(200):
            c1 = rng.uniform(lo, hi, 2)
            c2 = c1 + dist * u
            if free(c1, radius[i]) and free(c2, radius[j]):
                add(i, c1)
                add(j, c2)
                pairs_made += 1
                break
    for i in range(2 * n_pairs, n):
        for _ in range(500):
            xy = rng.uniform(lo, hi, 2)
            if free(xy, radius[i]):
                add(i, xy)
                break
    return centres, pairs_made


def _lattice(shapes: list[np.ndarray], size: int, gap: float,
             rng: np.random.Generator) -> list[np.ndarray | None]:
    """Centres on a square grid whose pitch keeps the widest aligned particles `gap` apart."""
    pitch = max(float(np.ptp(v, axis=0).max()) for v in shapes) + gap
    offset = rng.uniform(0, pitch, 2)
    grid = np.arange(-pitch, size + pitch, pitch)
    spots = [np.array([x, y]) + offset for y in grid for x in grid]
    spots = [xy for xy in spots if -pitch / 2 < xy.min() and xy.max() < size + pitch / 2]
    centres: list[np.ndarray | None] = [None] * len(shapes)
    for i, xy in enumerate(spots[: len(shapes)]):
        centres[i] = xy
    return centres


def _draw(coverage: np.ndarray, poly: np.ndarray, weight: float) -> None:
    """Add a polygon's anti-aliased area coverage (times `weight`) to `coverage` in place."""
    from skimage.draw import polygon as fill

    h, w = coverage.shape
    x0, y0 = max(int(np.floor(poly[:, 0].min())), 0), max(int(np.floor(poly[:, 1].min())), 0)
    x1, y1 = min(int(np.ceil(poly[:, 0].max())) + 1, w), min(int(np.ceil(poly[:, 1].max())) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    s = SUPERSAMPLE
    fine = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.float32)
    # Fine pixel i has its centre at coarse coordinate x0 - 0.5 + (i + 0.5) / s.
    rr, cc = fill((poly[:, 1] - y0 + 0.5) * s - 0.5, (poly[:, 0] - x0 + 0.5) * s - 0.5, fine.shape)
    fine[rr, cc] = 1.0
    cover = fine.reshape(y1 - y0, s, x1 - x0, s).mean(axis=(1, 3)) * weight
    region = coverage[y0:y1, x0:x1]
    np.maximum(region, cover, out=region)
