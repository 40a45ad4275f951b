"""Inelastic backgrounds for XPS regions and the Poisson error of background-subtracted
areas. Every function takes binding energy ascending and counts per channel."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.result import InputError

# Tougaard universal cross-section constant C (eV²), Tougaard, Surf. Interface Anal. 11
# (1988) 453; B is scaled so the background meets the high-BE end.
TOUGAARD_C_EV2 = 1643.0


@dataclass
class Background:
    values: np.ndarray     # background per channel
    weight_low: np.ndarray  # d(background)/d(low-BE end level), per channel
    weight_high: np.ndarray
    var_low: float         # variance of the averaged low-BE end level
    var_high: float


def _ends(y: np.ndarray, n_avg: int) -> tuple[int, float, float, float, float]:
    k = int(max(1, min(n_avg, len(y) // 4)))
    var = np.maximum(y, 1.0)
    return k, float(y[:k].mean()), float(y[-k:].mean()), float(var[:k].sum() / k**2), \
        float(var[-k:].sum() / k**2)


def _cumulative(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(0.5 * (s[1:] + s[:-1]) * np.diff(x))))


def shirley(x: np.ndarray, y: np.ndarray, end_points: int = 5, max_iter: int = 100,
            tol: float = 1e-7) -> Background:
    """Iterative Shirley background: at each BE it rises above the low-BE end level in
    proportion to the peak area at lower BE (Shirley, Phys. Rev. B 5 (1972) 4709)."""
    k, lo, hi, var_lo, var_hi = _ends(y, end_points)
    frac = np.linspace(0.0, 1.0, len(y))
    b = lo + (hi - lo) * frac
    for _ in range(max_iter):
        cum = _cumulative(x, y - b)
        if cum[-1] <= 0:
            break  # nothing above the background: keep the last estimate
        new_frac = cum / cum[-1]
        new = lo + (hi - lo) * new_frac
        done = np.max(np.abs(new - b)) <= tol * max(abs(hi - lo), 1.0)
        b, frac = new, new_frac
        if done:
            break
    return Background(b, 1.0 - frac, frac, var_lo, var_hi)


def tougaard(x: np.ndarray, y: np.ndarray, end_points: int = 5) -> Background:
    """Tougaard universal-cross-section background, one pass: the low-BE end level plus
    B·∫K(E−E′)·j(E′)dE′ over lower BE, with B making it meet the high-BE end."""
    k, lo, hi, var_lo, var_hi = _ends(y, end_points)
    dx = np.gradient(x)
    t = x[:, None] - x[None, :]
    kernel = np.where(t > 0, t / (TOUGAARD_C_EV2 + t**2) ** 2, 0.0)
    loss = kernel @ ((y - lo) * dx)
    scale = (hi - lo) / loss[-1] if loss[-1] > 0 else 0.0
    frac = loss / loss[-1] if loss[-1] > 0 else np.linspace(0, 1, len(y))
    return Background(lo + scale * loss, 1.0 - frac, frac, var_lo, var_hi)


def linear(x: np.ndarray, y: np.ndarray, end_points: int = 5) -> Background:
    """Straight line between the averaged end levels."""
    k, lo, hi, var_lo, var_hi = _ends(y, end_points)
    frac = (x - x[0]) / (x[-1] - x[0])
    return Background(lo + (hi - lo) * frac, 1.0 - frac, frac, var_lo, var_hi)


BACKGROUNDS = {"shirley": shirley, "tougaard": tougaard, "linear": linear}


def background(kind: str, x: np.ndarray, y: np.ndarray, end_points: int) -> Background:
    """Dispatch on the user's `background` parameter."""
    try:
        return BACKGROUNDS[kind](x, y, end_points)
    except KeyError:
        raise InputError(f"background must be one of {', '.join(BACKGROUNDS)}, not {kind!r}") \
            from None


def trapezoid_weights(x: np.ndarray) -> np.ndarray:
    """w such that Σ w·f is the trapezoid integral of f over x."""
    w = np.zeros_like(x, dtype=float)
    d = np.diff(x)
    w[:-1] += d / 2
    w[1:] += d / 2
    return w


def integrated_area(x: np.ndarray, y: np.ndarray, bg: Background) -> tuple[float, float]:
    """Background-subtracted area (counts·eV) and its one-sigma Poisson error, including
    the error of the averaged end levels that fix the background."""
    w = trapezoid_weights(x)
    area = float(np.sum(w * (y - bg.values)))
    var = float(np.sum(w**2 * np.maximum(y, 1.0)))
    var += float(np.sum(w * bg.weight_low)) ** 2 * bg.var_low
    var += float(np.sum(w * bg.weight_high)) ** 2 * bg.var_high
    return area, float(np.sqrt(var))


def background_area_variance(x: np.ndarray, bg: Background) -> float:
    """Variance that the end-level errors add to any area measured above `bg`."""
    w = trapezoid_weights(x)
    return float(np.sum(w * bg.weight_low)) ** 2 * bg.var_low + \
        float(np.sum(w * bg.weight_high)) ** 2 * bg.var_high
