"""Orthorhombic (Pnma) marker reflections of CsPbBr3: measured, tested for significance
and reported whatever their size; the lab's threshold only sets a flag.

The whole-pattern fit (analysis.xrd) includes a free line at each marker position so that
the cubic reflections are not distorted by it. That line alone is not a fair measure of
a weak marker: its width may grow to soak up a misfit of the smooth background (the
amorphous hump near 22° under (102) does exactly that), which the fit covariance does
not see. So each marker is measured again locally, in the residual of the pattern
without the markers:

- shape fixed: the same crystallites broaden every reflection alike, so a marker has the
  FWHM of the cubic reflections at its angle (interpolated between the fitted ones), the
  fitted η and the Kα doublet; its position may move by up to 0.1°;
- a cubic polynomial background over the window (about ±3 FWHM around the markers)
  absorbs smooth misfit there; markers whose windows overlap are fitted together;
- the area error is the linear least-squares error on counting statistics, scaled up by
  the window's reduced χ² when the residual has structure.

A marker is reported when its area exceeds 3σ of its own uncertainty and its height is
above 3x the local noise (point noise averaged over one FWHM, as the eye sees a broad
feature). Intensities are relative to the strongest reflection: area (integrated) and
height (peak maximum, Kα1 + Kα2).
"""
from __future__ import annotations

import math

import numpy as np

from analysis.xrd.fit import Radiation, noise_level
from analysis.xrd.model import ORTHORHOMBIC_MARKERS, doublet

SIGNIFICANCE = 3.0      # area / its one-sigma error
ABOVE_NOISE = 3.0       # height / local noise (smoothed over one FWHM)
POSITION_SLACK_DEG = 0.1
WINDOW_FWHM = 3.0       # half-window around a marker, in FWHMs (at least 1°)
BACKGROUND_ORDER = 3


def expected_fwhm(peaks, two_theta: float) -> float | None:
    """FWHM (°) of the cubic reflections interpolated to `two_theta` (nearest at the ends)."""
    cubic = sorted((p.center, p.fwhm) for p in peaks if not p.extras.get("marker") and p.fwhm > 0)
    if not cubic:
        return None
    xs, ws = zip(*cubic)
    return float(np.interp(two_theta, xs, ws))


def _groups(windows: list[tuple[float, float, int]]) -> list[list[tuple[float, float, int]]]:
    groups: list[list[tuple[float, float, int]]] = []
    for w in sorted(windows):
        if groups and w[0] <= groups[-1][-1][1]:
            groups[-1].append(w)
        else:
            groups.append([w])
    return groups


def _local_fit(x, residual, sigma, shapes):
    """Linear fit residual = sum_k A_k shape_k + cubic background; (areas, errors,
    reduced chi2). Shapes are unit-area doublets."""
    u = (x - x.mean()) / max(np.ptp(x) / 2.0, 1e-9)
    design = np.column_stack(shapes + [np.polynomial.legendre.legvander(u, BACKGROUND_ORDER)])
    w = 1.0 / sigma
    a = design * w[:, None]
    coef, *_ = np.linalg.lstsq(a, residual * w, rcond=None)
    chi2 = float(np.sum((a @ coef - residual * w) ** 2)) / max(len(x) - design.shape[1], 1)
    cov = np.linalg.pinv(a.T @ a) * max(chi2, 1.0)
    n = len(shapes)
    return coef[:n], np.sqrt(np.clip(np.diag(cov)[:n], 0, None)), chi2


def measure_markers(x: np.ndarray, y: np.ndarray, peaks: list, model: np.ndarray, rad: Radiation,
                    strongest) -> list[dict]:
    """Every marker in range, measured locally; each dict has hkl, two_theta_deg, area,
    area_err, height, relative_area_percent, relative_height_percent, significance,
    height_over_noise and significant. Also marks significant peaks `extras["reported"]`."""
    markers = {p.extras["marker"]: p for p in peaks if p.extras.get("marker")}
    if not markers:
        return []
    eta = strongest.eta
    without = model.copy()
    for p in markers.values():
        without -= doublet(x, p.center, p.area, p.fwhm, p.eta, rad.ka1, rad.ka2, rad.ratio)
    residual = y - without
    sigma = np.sqrt(np.maximum(y, 1.0))
    step = float(np.median(np.diff(x)))
    strongest_height = float(doublet(np.array([strongest.center]), strongest.center, strongest.area,
                                     strongest.fwhm, strongest.eta, rad.ka1, rad.ka2, rad.ratio)[0])
    info = {}
    windows = []
    for i, (hkl, pos) in enumerate(ORTHORHOMBIC_MARKERS):
        p = markers.get(hkl)
        width = expected_fwhm(peaks, pos)
        if p is None or width is None:
            continue
        centre = float(np.clip(p.center, pos - POSITION_SLACK_DEG, pos + POSITION_SLACK_DEG))
        half = max(WINDOW_FWHM * width, 1.0)
        info[hkl] = (p, centre, width)
        windows.append((centre - half, centre + half + rad.split(centre), i))
    out = []
    for group in _groups(windows):
        inside = (x >= group[0][0]) & (x <= max(w[1] for w in group))
        if inside.sum() < 4 * (BACKGROUND_ORDER + 1 + len(group)):
            continue
        hkls = [ORTHORHOMBIC_MARKERS[w[2]][0] for w in group]
        xs = x[inside]
        shapes = [doublet(xs, info[h][1], 1.0, info[h][2], eta, rad.ka1, rad.ka2, rad.ratio) for h in hkls]
        areas, errs, chi2 = _local_fit(xs, residual[inside], sigma[inside], shapes)
        noise_point = noise_level(residual[inside])
        for h, area, err, shape in zip(hkls, areas, errs, shapes):
            p, centre, width = info[h]
            height = float(area * shape.max())
            # Noise averaged over one FWHM: what a feature of this width has to beat.
            noise = noise_point / math.sqrt(max(width / step, 1.0))
            significance = float(area / err) if err > 0 else 0.0
            significant = bool(area > 0 and significance > SIGNIFICANCE and height > ABOVE_NOISE * noise)
            if significant:
                p.extras["reported"] = True
                p.hkl = h
            out.append({
                "hkl": h, "two_theta_deg": round(centre, 3),
                "area": float(area), "area_err": float(err), "height": height,
                "fwhm_deg": round(width, 4),
                "relative_area_percent": round(100.0 * float(area) / strongest.area, 2),
                "relative_height_percent": round(100.0 * height / strongest_height, 2),
                "significance": round(significance, 1), "height_over_noise": round(height / noise, 1),
                "local_reduced_chi2": round(chi2, 2), "significant": significant,
            })
    return sorted(out, key=lambda m: m["two_theta_deg"])
