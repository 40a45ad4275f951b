"""Peak fit of one XPS region above a fixed background: pseudo-Voigt components with
spin-orbit doublets constrained in splitting and area ratio, weighted by Poisson errors."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from analysis.xps.lines import CoreLine

_SIGMA_PER_FWHM = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def pseudo_voigt(x: np.ndarray, area: float, center: float, fwhm: float, eta: float) -> np.ndarray:
    """Area-normalised pseudo-Voigt (eta = Lorentzian fraction) times `area`."""
    sigma = fwhm * _SIGMA_PER_FWHM
    gauss = np.exp(-0.5 * ((x - center) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    half = fwhm / 2
    lorentz = half / np.pi / ((x - center) ** 2 + half**2)
    return area * (eta * lorentz + (1 - eta) * gauss)


@dataclass
class RegionFit:
    total_area: float            # counts·eV, all components
    total_area_err: float        # from the fit covariance only
    position_ev: float           # main component, as measured (no charge correction)
    position_err: float
    fwhm_ev: float
    fwhm_err: float
    reduced_chi2: float
    model: np.ndarray            # sum of components (no background)
    components: list[tuple[str, np.ndarray]] = field(default_factory=list)


def _components(line: CoreLine, x: np.ndarray, p: np.ndarray) -> list[tuple[str, np.ndarray]]:
    area, x0, fwhm, eta = p[:4]
    out = [(line.main, pseudo_voigt(x, area, x0, fwhm, eta))]
    if line.second:
        out.append((line.second, pseudo_voigt(x, area * line.ratio, x0 + line.splitting_ev,
                                               fwhm, eta)))
    for k, (label, _) in enumerate(line.shifted):
        a, off = p[4 + 2 * k], p[5 + 2 * k]
        out.append((label, pseudo_voigt(x, a, x0 + off, fwhm, eta)))
    return out


def _seed(line: CoreLine, x: np.ndarray,
          s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    total = float(np.trapezoid(np.clip(s, 0, None), x))
    x_top = float(x[int(np.argmax(s))])
    if line.second and line.splitting_ev < line.fwhm_ev:
        # An unresolved doublet peaks between its components.
        x_top -= line.splitting_ev * line.ratio / (1 + line.ratio)
    share = 1.0 + line.ratio + 0.3 * len(line.shifted)
    p0 = [total / share, x_top, line.fwhm_ev, 0.3]
    lo = [0.0, x[0], 0.25, 0.0]
    hi = [np.inf, x[-1], 6.0, 1.0]
    for _, offset in line.shifted:
        p0 += [0.15 * total / share, offset]
        lo += [0.0, offset - 0.5]
        hi += [np.inf, offset + 0.5]
    p0 = np.clip(p0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    return p0, np.array(lo), np.array(hi)


def fit_region(line: CoreLine, x: np.ndarray, y: np.ndarray, bg: np.ndarray) -> RegionFit:
    """Least-squares fit of `line`'s components to counts `y` above background `bg`.
    Raises RuntimeError if the fit does not converge."""
    sigma = np.sqrt(np.maximum(y, 1.0))
    s = y - bg
    p0, lo, hi = _seed(line, x, s)

    def residual(p: np.ndarray) -> np.ndarray:
        return (s - sum(c for _, c in _components(line, x, p))) / sigma

    sol = least_squares(residual, p0, bounds=(lo, hi), x_scale="jac", max_nfev=2000)
    if not sol.success:
        raise RuntimeError(sol.message)
    dof = max(len(x) - len(p0), 1)
    redchi = float(np.sum(sol.fun**2) / dof)
    cov = np.linalg.pinv(sol.jac.T @ sol.jac) * max(redchi, 1.0)
    grad = np.zeros(len(p0))
    grad[0] = 1.0 + (line.ratio if line.second else 0.0)
    grad[4::2] = 1.0
    total = float(grad @ sol.x)
    comps = _components(line, x, sol.x)
    return RegionFit(
        total_area=total, total_area_err=float(np.sqrt(max(grad @ cov @ grad, 0.0))),
        position_ev=float(sol.x[1]), position_err=float(np.sqrt(max(cov[1, 1], 0.0))),
        fwhm_ev=float(sol.x[2]), fwhm_err=float(np.sqrt(max(cov[2, 2], 0.0))),
        reduced_chi2=redchi, model=sum(c for _, c in comps), components=comps,
    )
