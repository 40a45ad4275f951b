"""Getting a 1-D spectrum ready to fit: noise level, baseline, signal regions, the
centreband fit window and its spinning sidebands."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import binary_dilation, label, uniform_filter1d

from analysis.result import InputError

BASELINE_ORDER = 5
MIN_SMOOTHED_SNR = 8.0   # below this the spectrum is called empty (pure noise peaks ~4)
# A negative lobe this deep relative to the tallest peak is a phase error, not a line: an
# absorption line has none. On a Table 2 133Cs spectrum (after the baseline fit) a zero-
# order error of 15 degrees leaves a 5 % lobe, 45 degrees 22 %, 60 degrees 34 %, 90 degrees
# 68 %; noise alone stays below 1 %.
MISPHASED_FRACTION = 0.25       # ~50 degrees: refused
SUSPECT_PHASE_FRACTION = 0.05   # ~15 degrees: fitted, with a warning


@dataclass
class Prepared:
    """An ascending-ppm spectrum with its baseline removed and where the signal is."""

    ppm: np.ndarray                # ascending
    data: np.ndarray               # baseline-corrected intensity
    baseline: np.ndarray
    sigma: float                   # noise standard deviation (intensity units)
    mask: np.ndarray               # True where there is signal
    smooth_width: int
    sigma_smooth: float
    fit_range: tuple[float, float]
    peak_snr: float
    sidebands: list[tuple[float, float]] = field(default_factory=list)  # (lo, hi) ppm
    sideband_fraction: float | None = None   # sideband integral / centreband integral
    inferred_spacing_ppm: float | None = None  # sideband spacing found when no MAS rate given
    warnings: list[str] = field(default_factory=list)


def ascending(ppm: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The spectrum sorted by increasing ppm (Bruker stores high ppm first)."""
    ppm = np.asarray(ppm, float)
    y = np.asarray(y, float)
    if ppm.size > 1 and ppm[0] > ppm[-1]:
        return ppm[::-1].copy(), y[::-1].copy()
    return ppm, y


def noise_sigma(y: np.ndarray) -> float:
    """Noise standard deviation from the median absolute point-to-point difference,
    which smooth lines and baselines barely affect."""
    d = np.diff(y)
    return float(np.median(np.abs(d - np.median(d))) / 0.6745 / np.sqrt(2.0))


def solve_normal(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Linear least squares through the normal equations. Tall-matrix SVD/QR go through
    multi-threaded LAPACK, which on a busy machine is 100x slower than this small solve."""
    return np.linalg.lstsq(a.T @ a, a.T @ y, rcond=None)[0]


def poly_baseline(u: np.ndarray, y: np.ndarray, keep: np.ndarray, order: int = BASELINE_ORDER
                  ) -> np.ndarray:
    """Legendre polynomial in u (-1..1) fitted to y where `keep`, evaluated everywhere."""
    v = np.polynomial.legendre.legvander(u, order)
    return v @ solve_normal(v[keep], y[keep])


def correct_baseline(ppm: np.ndarray, y: np.ndarray, sigma: float, *,
                     order: int = BASELINE_ORDER, keep_out: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Polynomial baseline fitted where there is no signal, found iteratively.

    Returns (baseline, signal mask, smoothing width in points, noise of the smoothed
    residual). `keep_out` forces points into the signal mask (used for series rows).
    """
    n = len(y)
    u = (ppm - ppm.mean()) / (np.ptp(ppm) / 2.0)
    k = max(5, n // 400)
    pad = max(3 * k, int(0.012 * n))
    mask = np.zeros(n, bool) if keep_out is None else keep_out.copy()
    sigma_s = sigma / np.sqrt(k)
    base = np.zeros(n)
    for _ in range(6):
        if (~mask).sum() < 4 * (order + 1):
            break
        base = poly_baseline(u, y, ~mask, order)
        smooth = uniform_filter1d(y - base, k)
        sigma_s = float(np.median(np.abs(smooth[~mask] - np.median(smooth[~mask])))) / 0.6745
        sigma_s = max(sigma_s, sigma / np.sqrt(k))
        new = binary_dilation(np.abs(smooth) > 3.0 * sigma_s, iterations=pad)
        if keep_out is not None:
            new |= keep_out
        if np.array_equal(new, mask):
            break
        mask = new
    return base, mask, k, sigma_s


def _regions(ppm: np.ndarray, mask: np.ndarray) -> list[tuple[int, int]]:
    lab, n = label(mask)
    return [tuple(np.flatnonzero(lab == i)[[0, -1]]) for i in range(1, n + 1)]


def _sideband_spacing(ppm: np.ndarray, data: np.ndarray, regions: list[tuple[int, int]],
                      ipk: int) -> float | None:
    """Spacing (ppm) of a pair of weaker regions placed symmetrically about the region
    holding the tallest peak - the signature of spinning sidebands - or None."""
    def centroid_area(a, b):
        w = np.clip(data[a:b + 1], 0, None)
        return float(np.sum(w * ppm[a:b + 1]) / max(w.sum(), 1e-300)), float(w.sum())

    main = next(((a, b) for a, b in regions if a <= ipk <= b), None)
    if main is None:
        return None
    c0, i0 = centroid_area(*main)
    half_width = (ppm[main[1]] - ppm[main[0]]) / 2
    stats = [centroid_area(a, b) for a, b in regions if (a, b) != main]
    left = [(c0 - c, i) for c, i in stats if c < c0 and i < i0]
    right = [(c - c0, i) for c, i in stats if c > c0 and i < i0]
    pairs = [(dl + dr) / 2 for dl, _ in left for dr, _ in right
             if abs(dl - dr) < 0.05 * max(dl, dr) and min(dl, dr) > half_width]
    return min(pairs) if pairs else None


def prepare(ppm: np.ndarray, intensity: np.ndarray, *, mas_rate_hz: float | None,
            sf_mhz: float, fit_range_ppm: list | None, path: str | None = None) -> Prepared:
    """Baseline-correct, test for signal and choose the centreband fit window.

    Raises InputError for a spectrum without signal. The fit window is the signal around
    the tallest peak, limited to +-half the MAS rate so sidebands stay outside it.
    """
    ppm, y = ascending(ppm, intensity)
    if ppm.size < 64 or not np.all(np.isfinite(y)):
        raise InputError("the spectrum has too few points or contains NaN/inf values", path)
    sigma = noise_sigma(y)
    if sigma <= 0:
        raise InputError("the spectrum is constant (no noise, no signal)", path)
    base, mask, k, sigma_s = correct_baseline(ppm, y, sigma)
    data = y - base
    smooth = uniform_filter1d(data, k)
    ipk = int(np.argmax(np.where(mask, smooth, -np.inf))) if mask.any() else int(np.argmax(smooth))
    smooth_snr = smooth[ipk] / sigma_s
    warnings = check_phase(ppm, data, smooth, mask, sigma_s, path)
    if not mask.any() or smooth_snr < MIN_SMOOTHED_SNR:
        raise InputError(
            f"no NMR signal above the noise (best peak {smooth_snr:.1f} x the smoothed noise, "
            f"need {MIN_SMOOTHED_SNR:.0f}); check the receiver gain, number of scans or "
            "the processing", path)
    peak = ppm[ipk]
    # Regions of real (positive, clearly above noise) signal; the mask also holds wiggles.
    regions = [(a, b) for a, b in _regions(ppm, mask) if smooth[a:b + 1].max() > 5 * sigma_s]
    mas_ppm = mas_rate_hz / sf_mhz if mas_rate_hz and sf_mhz else None
    inferred = None
    if mas_ppm is None:
        mas_ppm = inferred = _sideband_spacing(ppm, data, regions, ipk)
    zone = (peak - mas_ppm / 2, peak + mas_ppm / 2) if mas_ppm else (ppm[0], ppm[-1])
    centre = [(ppm[a], ppm[b]) for a, b in regions if ppm[b] > zone[0] and ppm[a] < zone[1]]
    lo, hi = min(r[0] for r in centre), max(r[1] for r in centre)
    margin = max(10.0, 0.1 * (hi - lo))
    window = (max(lo - margin, zone[0], ppm[0]), min(hi + margin, zone[1], ppm[-1]))
    if fit_range_ppm is not None:
        try:
            a, b = sorted(float(v) for v in fit_range_ppm)
        except (TypeError, ValueError):
            raise InputError("fit_range_ppm must be two numbers [low, high] in ppm") from None
        if b - a <= 0 or b < ppm[0] or a > ppm[-1]:
            raise InputError(f"fit_range_ppm {fit_range_ppm} lies outside the spectrum "
                             f"({ppm[0]:.0f} to {ppm[-1]:.0f} ppm)", path)
        window = (max(a, ppm[0]), min(b, ppm[-1]))
    sidebands, fraction = [], None
    if mas_ppm:
        sidebands = [(ppm[a], ppm[b]) for a, b in regions
                     if ppm[b] < window[0] or ppm[a] > window[1]
                     if any(abs((ppm[a] + ppm[b]) / 2 - peak - j * mas_ppm) < mas_ppm / 3
                            for j in (-3, -2, -1, 1, 2, 3))]
        dx = abs(ppm[1] - ppm[0])
        inside = (ppm >= window[0]) & (ppm <= window[1])
        sb = np.zeros_like(mask)
        for a, b in sidebands:
            sb |= (ppm >= a) & (ppm <= b)
        total_c = data[inside & mask].sum() * dx
        fraction = float(data[sb].sum() * dx / total_c) if total_c > 0 else None
    return Prepared(ppm=ppm, data=data, baseline=base, sigma=sigma, mask=mask, smooth_width=k,
                    sigma_smooth=sigma_s, fit_range=window, peak_snr=float(data[ipk] / sigma),
                    sidebands=sidebands, sideband_fraction=fraction,
                    inferred_spacing_ppm=inferred, warnings=warnings)


def check_phase(ppm: np.ndarray, data: np.ndarray, smooth: np.ndarray, mask: np.ndarray,
                sigma_s: float, path: str | None = None) -> list[str]:
    """Refuse a spectrum that is inverted or clearly misphased; warn when it may be.

    Every routine here integrates absorption-mode lines, so a negative total integral (a
    spectrum phased 180 degrees wrong, or a raw fid processed with the wrong phase
    convention) or a deep negative lobe (a dispersive component) would give meaningless
    fractions. Judged on the baseline-corrected, smoothed spectrum, against the noise.
    """
    neg_i = int(np.argmin(smooth))
    depth, height = -float(smooth[neg_i]), max(float(smooth.max()), 0.0)
    if depth < MIN_SMOOTHED_SNR * sigma_s:
        return []   # nothing below the baseline beyond noise
    dx = abs(float(ppm[1] - ppm[0]))
    integral = float(data[mask].sum()) * dx if mask.any() else float(data.sum()) * dx
    if integral < 0:
        raise InputError(
            f"the spectrum's integral is negative (deepest point at {ppm[neg_i]:.1f} ppm, "
            f"{depth / sigma_s:.0f} x the noise): it is inverted or phased about 180 degrees "
            "wrong; re-phase it (PHC0 + 180) and upload it again", path)
    fraction = depth / height if height > 0 else np.inf
    if fraction >= MISPHASED_FRACTION:
        raise InputError(
            f"the spectrum looks misphased: a negative lobe at {ppm[neg_i]:.1f} ppm is "
            f"{100 * fraction:.0f}% as deep as the tallest peak is high; correct the phase "
            "(PHC0/PHC1) and upload it again", path)
    if fraction >= SUSPECT_PHASE_FRACTION:
        return [f"check the phase: a negative lobe at {ppm[neg_i]:.1f} ppm is "
                f"{100 * fraction:.0f}% as deep as the tallest peak; integrals of a misphased "
                "spectrum are biased"]
    return []
