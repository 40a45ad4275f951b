"""Least-squares fit of a sum of unit-area lines plus a straight baseline.

Residuals are divided by the noise sigma, so chi2 and BIC = chi2 + k ln(n) are in units
of the noise and one-sigma errors come from the inverse of J^T J (scaled up by the
reduced chi2 when the model is worse than the noise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.nmr.lineshapes import shape, shape_and_derivatives
from analysis.nmr.prep import solve_normal


@dataclass
class LineSpec:
    """One line to fit: start values and bounds in ppm; a fixed value overrides both."""

    label: str
    assignment: str
    centre: float
    centre_bounds: tuple[float, float]
    fwhm: float
    fwhm_bounds: tuple[float, float]
    fixed_centre: float | None = None
    fixed_fwhm: float | None = None


@dataclass
class LineFit:
    label: str
    assignment: str
    centre: float
    centre_err: float | None
    fwhm: float
    fwhm_err: float | None
    area: float
    area_err: float | None
    at_bound: list[str]


@dataclass
class FitOutcome:
    lines: list[LineFit]
    chi2: float
    bic: float
    n_points: int
    n_params: int
    eta: float
    area_cov: np.ndarray          # covariance of the line areas
    shape_cov: np.ndarray         # covariance of [centres..., widths...] (0 where fixed)
    x: np.ndarray
    y: np.ndarray
    baseline: np.ndarray          # the straight baseline fitted with the lines
    specs: list[LineSpec]
    kind: str

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / max(1, self.n_points - self.n_params)

    def line_curves(self) -> list[np.ndarray]:
        return [ln.area * shape(self.x, ln.centre, ln.fwhm, self.kind, self.eta)
                for ln in self.lines]

    def model(self) -> np.ndarray:
        return self.baseline + (np.sum(self.line_curves(), axis=0) if self.lines else 0.0)


def scaled_inverse(h: np.ndarray) -> np.ndarray:
    """Inverse of J^T J after scaling to unit diagonal: areas (~1e7) and shifts (~1 ppm)
    differ so much in scale that a plain pseudo-inverse drops real variance."""
    d = np.sqrt(np.clip(np.diag(h), 1e-300, None))
    try:
        return np.linalg.pinv(h / np.outer(d, d), rcond=1e-12) / np.outer(d, d)
    except np.linalg.LinAlgError:
        return np.full_like(h, np.nan)


def levenberg_marquardt(resid, jac, p0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                        max_iter: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded Levenberg-Marquardt on the normal equations; returns (p, residuals, J).

    Parameters pressed against a bound are held there for a step (active set). The
    normal equations are tiny (k x k); scipy's trust-region solvers factorise the tall
    Jacobian instead, which multi-threaded LAPACK makes very slow on a busy machine.
    """
    p = p0.copy()
    r = resid(p)
    j = jac(p)
    cost = float(r @ r)
    lam = 1e-3
    for _ in range(max_iter):
        g = j.T @ r
        h = j.T @ j
        active = ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
        free = ~active
        hf = h[np.ix_(free, free)]
        d = np.diag(hf).copy()
        d[d <= 0] = 1.0
        improved = False
        while lam < 1e12:
            step = np.zeros_like(p)
            try:
                step[free] = np.linalg.solve(hf + lam * np.diag(d), -g[free])
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            p_new = np.clip(p + step, lo, hi)
            r_new = resid(p_new)
            cost_new = float(r_new @ r_new)
            if cost_new < cost:
                improved = True
                break
            lam *= 4
        if not improved:
            break
        small = np.all(np.abs(p_new - p) <= 1e-8 * (np.abs(p) + 1e-8))
        converged = cost - cost_new <= 1e-10 * cost or small
        p, r, cost = p_new, r_new, cost_new
        j = jac(p)
        lam = max(lam / 5, 1e-9)
        if converged:
            break
    return p, r, j


def _design(x, centres, widths, kind, eta, u):
    cols = [shape(x, c, w, kind, eta) for c, w in zip(centres, widths)]
    return np.column_stack(cols + [np.ones_like(x), u])


def fit_lines(x: np.ndarray, y: np.ndarray, sigma: float, specs: list[LineSpec],
              kind: str = "gaussian") -> FitOutcome:
    """Fit `specs` to (x, y); returns areas, centres and widths with one-sigma errors."""
    n = len(specs)
    u = (x - x.mean()) / max(np.ptp(x) / 2.0, 1e-12)
    c0 = np.array([s.fixed_centre if s.fixed_centre is not None else s.centre for s in specs])
    w0 = np.array([s.fixed_fwhm if s.fixed_fwhm is not None else s.fwhm for s in specs])
    eta0 = 0.5
    # Start areas from a linear fit with the starting shapes (areas kept > 0).
    a_mat = _design(x, c0, w0, kind, eta0, u)
    lin = solve_normal(a_mat, y)
    areas0, b0 = np.maximum(lin[:n], 1e-3 * max(lin[:n].max(initial=0.0), 1e-12)), lin[n:]

    free_c = [s.fixed_centre is None for s in specs]
    free_w = [s.fixed_fwhm is None for s in specs]
    # Parameter vector layout: [centres (free), widths (free), areas, b0, b1, (eta)]
    idx_c = np.cumsum(free_c) - 1
    idx_w = np.cumsum(free_w) - 1 + sum(free_c)
    off_a = sum(free_c) + sum(free_w)
    voigt = kind == "voigt"
    p0 = np.r_[c0[free_c], w0[free_w], np.maximum(areas0, 1e-9 * max(1.0, np.abs(y).sum())),
               b0, [eta0] if voigt else []]
    lo = np.r_[[s.centre_bounds[0] for s, f in zip(specs, free_c) if f],
               [s.fwhm_bounds[0] for s, f in zip(specs, free_w) if f],
               np.zeros(n), -np.inf, -np.inf, [0.0] if voigt else []]
    hi = np.r_[[s.centre_bounds[1] for s, f in zip(specs, free_c) if f],
               [s.fwhm_bounds[1] for s, f in zip(specs, free_w) if f],
               np.full(n, np.inf), np.inf, np.inf, [1.0] if voigt else []]
    span = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    p0 = np.clip(p0, lo + 1e-6 * span, hi - 1e-6 * span)

    def unpack(p):
        c = np.array([p[idx_c[i]] if free_c[i] else c0[i] for i in range(n)])
        w = np.array([p[idx_w[i]] if free_w[i] else w0[i] for i in range(n)])
        a = p[off_a:off_a + n]
        b = p[off_a + n:off_a + n + 2]
        eta = p[-1] if voigt else eta0
        return c, w, a, b, eta

    def resid(p):
        c, w, a, b, eta = unpack(p)
        m = b[0] + b[1] * u
        for i in range(n):
            m = m + a[i] * shape(x, c[i], w[i], kind, eta)
        return (m - y) / sigma

    def jac(p):
        c, w, a, b, eta = unpack(p)
        j = np.zeros((len(x), len(p)))
        for i in range(n):
            f, dc, dw, de = shape_and_derivatives(x, c[i], w[i], kind, eta)
            if free_c[i]:
                j[:, idx_c[i]] = a[i] * dc
            if free_w[i]:
                j[:, idx_w[i]] = a[i] * dw
            j[:, off_a + i] = f
            if voigt:
                j[:, -1] += a[i] * de
        j[:, off_a + n] = 1.0
        j[:, off_a + n + 1] = u
        return j / sigma

    p, fun, jm = levenberg_marquardt(resid, jac, p0, lo, hi)
    chi2 = float(np.sum(fun**2))
    k = len(p0)
    cov = scaled_inverse(jm.T @ jm) * max(1.0, chi2 / max(1, len(x) - k))
    err = np.sqrt(np.clip(np.diag(cov), 0, None))
    c, w, a, b, eta = unpack(p)
    lines = []
    for i, s in enumerate(specs):
        at = []
        tol = 1e-4
        if free_c[i] and (abs(c[i] - s.centre_bounds[0]) < tol or abs(c[i] - s.centre_bounds[1]) < tol):
            at.append("shift")
        if free_w[i] and (w[i] - s.fwhm_bounds[0] < tol * w[i] or s.fwhm_bounds[1] - w[i] < tol * w[i]):
            at.append("width")
        lines.append(LineFit(s.label, s.assignment, float(c[i]),
                             float(err[idx_c[i]]) if free_c[i] else None, float(w[i]),
                             float(err[idx_w[i]]) if free_w[i] else None, float(a[i]),
                             float(err[off_a + i]), at))
    area_cov = cov[off_a:off_a + n, off_a:off_a + n]
    # Shape parameters in a fixed layout [c_1..c_n, w_1..w_n]; fixed ones get zero variance.
    where = [idx_c[i] if free_c[i] else None for i in range(n)] + \
            [idx_w[i] if free_w[i] else None for i in range(n)]
    shape_cov = np.zeros((2 * n, 2 * n))
    for a_, ia in enumerate(where):
        for b_, ib in enumerate(where):
            if ia is not None and ib is not None:
                shape_cov[a_, b_] = cov[ia, ib]
    return FitOutcome(lines=lines, chi2=chi2, bic=chi2 + k * np.log(len(x)), n_points=len(x),
                      n_params=k, eta=float(eta), area_cov=area_cov, shape_cov=shape_cov, x=x, y=y,
                      baseline=b[0] + b[1] * u, specs=specs, kind=kind)


def percent_with_errors(areas: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each area as percent of the total, with errors propagated through the covariance."""
    total = areas.sum()
    pct = 100.0 * areas / total
    grad = (np.eye(len(areas)) * total - areas[:, None]) / total**2 * 100.0  # d pct_i / d a_j
    var = np.einsum("ij,jk,ik->i", grad, cov, grad)
    return pct, np.sqrt(np.clip(var, 0, None))
