"""SAXS size distributions of spherical nanocrystals.

`saxs.size_distribution` fits polydisperse homogeneous spheres to I(q):

    I(q) = scale * sum_k n(D_k) V(D_k)^2 P(q, D_k) / sum_k n(D_k) V(D_k)^2 + background

with n(D) a Gaussian (or log-normal) NUMBER distribution of diameters, V = pi D^3 / 6 and
P the sphere form factor (Rayleigh 1911; Guinier & Fournet 1955). The D-integral is a
fixed 61-node grid over mean ± 5 SD, so one model evaluation is one small matrix product.
Starting values come from a grid search over (mean, SD/mean) on a precomputed kernel,
with scale and background solved linearly for every candidate.

mode="montecarlo" is distribution-free, in the spirit of McSAS (Bressler, Pauw &
Thünemann, J. Appl. Cryst. 48 (2015) 962): regularised non-negative least squares of
volume fractions on a log-spaced diameter grid, repeated on noise-resampled copies of the
curve to give the spread of each statistic.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, nnls

from analysis.data import SaxsCurve
from analysis.ranges import parse_range
from analysis.registry import routine, set_plot
from analysis.result import InputError, Q, Result

SHAPES = ("gaussian", "lognormal")
MODES = ("model", "montecarlo")
N_NODES = 61            # diameter nodes for the parametric model
SPAN_SD = 5.0           # the grid covers mean ± 5 SD
RELATIVE_ERROR = 0.02   # error model when the file carries no uncertainties
MIN_POINTS = 10
OBSERVABLE_FRACTION = 0.01  # montecarlo mode: <1% of the peak's forward intensity is noise


def sphere_form_factor(q_per_nm: np.ndarray, diameter_nm: np.ndarray) -> np.ndarray:
    """P(q, D) = [3 (sin x - x cos x) / x^3]^2 with x = qD/2, as a (len(q), len(D)) array
    normalised to P(0) = 1."""
    x0 = np.outer(q_per_nm, np.asarray(diameter_nm, dtype=float) / 2.0)
    small = x0 < 1e-2
    x = np.where(small, 1.0, x0) if small.any() else x0
    amp = np.sin(x)
    amp -= x * np.cos(x)
    amp *= 3.0 / x**3
    if small.any():
        amp = np.where(small, 1.0 - x0**2 / 10.0, amp)  # series: cancellation near x = 0
    return amp * amp


def sphere_volume_nm3(diameter_nm: np.ndarray) -> np.ndarray:
    """Sphere volume in nm^3."""
    return np.pi * np.asarray(diameter_nm) ** 3 / 6.0


def number_distribution(diameter_nm: np.ndarray, mean_nm: float, sd_nm: float,
                        shape: str = "gaussian") -> np.ndarray:
    """n(D) per nm (unit area over D > 0) with the given number-weighted mean and SD."""
    d = np.asarray(diameter_nm, dtype=float)
    if shape == "lognormal":
        s2 = np.log1p((sd_nm / mean_nm) ** 2)
        mu = np.log(mean_nm) - s2 / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(-(np.log(d) - mu) ** 2 / (2 * s2)) / (d * np.sqrt(2 * np.pi * s2))
        return np.where(d > 0, out, 0.0)
    out = np.exp(-0.5 * ((d - mean_nm) / sd_nm) ** 2) / (sd_nm * np.sqrt(2 * np.pi))
    return np.where(d > 0, out, 0.0)


def diameter_grid(mean_nm: float, sd_nm: float, n: int = N_NODES) -> np.ndarray:
    """Evenly spaced diameters over mean ± 5 SD, clipped to positive sizes (nm)."""
    lo = max(mean_nm - SPAN_SD * sd_nm, 0.02 * mean_nm)
    return np.linspace(lo, mean_nm + SPAN_SD * sd_nm, n)


def polydisperse_spheres(q_per_nm: np.ndarray, mean_nm: float, sd_nm: float,
                         scale: float = 1.0, background: float = 0.0,
                         shape: str = "gaussian", n_nodes: int = N_NODES) -> np.ndarray:
    """I(q) of polydisperse spheres (scale = forward intensity above background)."""
    d = diameter_grid(mean_nm, sd_nm, n_nodes)
    w = number_distribution(d, mean_nm, sd_nm, shape) * sphere_volume_nm3(d) ** 2
    return scale * (sphere_form_factor(q_per_nm, d) @ w) / w.sum() + background


def moments(mean_nm: float, sd_nm: float, shape: str) -> tuple[float, float, float]:
    """(number mean, number SD, volume-weighted mean) of the distribution, in nm."""
    d = diameter_grid(mean_nm, sd_nm, 401)
    n = number_distribution(d, mean_nm, sd_nm, shape)
    m = np.sum(n * d) / np.sum(n)
    sd = np.sqrt(np.sum(n * (d - m) ** 2) / np.sum(n))
    dv = np.sum(n * d**4) / np.sum(n * d**3)
    return float(m), float(sd), float(dv)


@routine("saxs.size_distribution", version="1.0.0", accepts=(SaxsCurve.kind,),
         reader_options=("q_unit",), title="SAXS diameter", default_for=(SaxsCurve.kind,),
         headline=("mean_diameter_nm", "sd_diameter_nm"), headline_order=10,
         renamed={"q_min_per_nm": ("q_range_per_nm", 0), "q_max_per_nm": ("q_range_per_nm", 1)})
def size_distribution(curve: SaxsCurve, *, q_range_per_nm: list | None = None, shape: str = "gaussian",
                      mode: str = "model", n_repetitions: int = 10, seed: int = 0) -> Result:
    """Diameter distribution of spherical particles from a SAXS curve.

    Returns mean_diameter_nm and sd_diameter_nm (number-weighted) and
    volume_weighted_mean_diameter_nm, all in nm with one-sigma stderr. mode="model" fits a
    Gaussian or log-normal number distribution (`shape`); mode="montecarlo" is
    distribution-free (regularised NNLS, `n_repetitions` noise-resampled repeats).
    """
    if shape not in SHAPES:
        raise InputError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    q, y, sigma, warnings = _prepare(curve, *parse_range(q_range_per_nm, "q_range_per_nm"))
    if mode == "montecarlo":
        result = _montecarlo_fit(q, y, sigma, n_repetitions, seed)
    else:
        result = _model_fit(q, y, sigma, shape)
    result.warnings[:0] = warnings
    result.curves["fit"].update(q_per_nm=q, intensity=y, sigma=sigma)
    result.extras["mode"] = mode
    result.extras["shape"] = shape
    return result


def _prepare(curve: SaxsCurve, q_min: float | None, q_max: float | None):
    q = np.asarray(curve.q_per_nm, dtype=float)
    y = np.asarray(curve.intensity, dtype=float)
    src = curve.source or None
    if q.shape != y.shape or q.ndim != 1:
        raise InputError("q and intensity columns have different lengths", src)
    warnings: list[str] = []
    if curve.sigma is not None and np.all(np.asarray(curve.sigma) > 0):
        sigma = np.asarray(curve.sigma, dtype=float)
    else:
        sigma = None
    keep = np.isfinite(q) & np.isfinite(y) & (q > 0)
    if q_min is not None:
        keep &= q >= q_min
    if q_max is not None:
        keep &= q <= q_max
    if keep.sum() < MIN_POINTS:
        raise InputError(
            f"only {int(keep.sum())} points in the chosen q-range; at least {MIN_POINTS} are needed", src)
    q, y = q[keep], y[keep]
    if not np.any(y > 0) or np.median(y) <= 0:
        raise InputError("the intensities are zero or negative; is this a background-"
                         "subtracted blank?", src)
    if sigma is None:
        warnings.append(f"no uncertainties in the file: weighted with a {RELATIVE_ERROR:.0%} "
                        "relative error model")
        floor = 1e-3 * np.max(np.abs(y))
        sigma = RELATIVE_ERROR * np.abs(y) + floor
    else:
        sigma = sigma[keep]
    order = np.argsort(q)
    return q[order], y[order], sigma[order], warnings


def _start_values(q, y, sigma, shape):
    """Best (mean, sd, scale, bg) from a grid over mean and SD/mean."""
    d_max = min(200.0, 4 * np.pi / q[0])  # sizes whose Guinier region is in range
    d_min = max(0.5, 2.0 / q[-1])
    means = np.geomspace(d_min, d_max, 80)
    cvs = np.array([0.04, 0.08, 0.15, 0.25])
    grid = np.geomspace(d_min * 0.5, d_max * 1.6, 300)
    kernel = sphere_form_factor(q, grid)
    mm, cc = np.meshgrid(means, cvs, indexing="ij")
    pairs = np.column_stack([mm.ravel(), (mm * cc).ravel()])
    weights = number_distribution(grid[None, :], pairs[:, :1], pairs[:, 1:], shape)
    weights *= np.gradient(grid) * sphere_volume_nm3(grid) ** 2
    weights /= weights.sum(axis=1, keepdims=True)
    shapes = kernel @ weights.T                    # (n_q, n_candidates), unit forward intensity
    a = shapes / sigma[:, None]
    b = 1.0 / sigma
    t = y / sigma
    # Weighted linear least squares for (scale, bg) per candidate, closed form.
    saa, sab, sbb = (a * a).sum(0), (a * b[:, None]).sum(0), (b * b).sum()
    sat, sbt = (a * t[:, None]).sum(0), (b * t).sum()
    det = saa * sbb - sab**2
    scale = (sat * sbb - sab * sbt) / det
    bg = (saa * sbt - sab * sat) / det
    resid = a * scale + b[:, None] * bg - t[:, None]
    chi2 = np.where(scale > 0, (resid**2).sum(0), np.inf)
    best = int(np.argmin(chi2))
    m, sd = pairs[best]
    return np.array([m, sd, scale[best], bg[best]])


def _model_fit(q, y, sigma, shape) -> Result:
    p0 = _start_values(q, y, sigma, shape)

    last: dict[tuple, np.ndarray] = {}  # residuals and jacobian ask for the same point

    def profile(mean, sd):
        key = (mean, sd)
        if key not in last:
            last.clear()
            last[key] = polydisperse_spheres(q, mean, sd, 1.0, 0.0, shape)
        return last[key]

    def residuals(p):
        return (p[2] * profile(p[0], p[1]) + p[3] - y) / sigma

    def jacobian(p):
        # Scale and background enter linearly; only mean and SD need finite differences.
        base = profile(p[0], p[1])
        h0, h1 = 1e-6 * p[0], 1e-6 * max(p[1], 1e-3)
        d0 = (polydisperse_spheres(q, p[0] + h0, p[1], 1.0, 0.0, shape) - base) / h0
        d1 = (polydisperse_spheres(q, p[0], p[1] + h1, 1.0, 0.0, shape) - base) / h1
        return np.column_stack([p[2] * d0, p[2] * d1, base, np.ones_like(q)]) / sigma[:, None]

    lower = [0.3, 0.005 * p0[0], 0.0, -np.inf]
    upper = [500.0, 2.0 * p0[0] + 5, np.inf, np.inf]
    p0[1] = np.clip(p0[1], lower[1] * 1.01, upper[1] * 0.99)
    sol = least_squares(residuals, p0, jac=jacobian, bounds=(lower, upper), x_scale="jac",
                        method="trf")
    n, k = len(q), len(sol.x)
    redchi = float(2 * sol.cost / max(n - k, 1))
    warnings: list[str] = []
    cov = _covariance(sol.jac, redchi)
    mean, sd, scale, bg = sol.x
    if cov is None:
        warnings.append("the fit is degenerate: uncertainties could not be estimated")
    # Reported statistics are moments of the fitted distribution (equal to the parameters
    # for a Gaussian far from D = 0); their errors propagate from the parameter covariance.
    stats = np.array(moments(mean, sd, shape))
    errs = [None, None, None]
    if cov is not None:
        jac = np.empty((3, 2))
        for j, h in enumerate((1e-4 * mean, 1e-4 * max(sd, 1e-3))):
            dp = np.zeros(2)
            dp[j] = h
            jac[:, j] = (np.array(moments(mean + dp[0], sd + dp[1], shape)) - stats) / h
        scov = jac @ cov[:2, :2] @ jac.T
        errs = [float(np.sqrt(v)) for v in np.diag(scov)]
    if redchi > 3:
        warnings.append(f"reduced chi-square is {redchi:.1f}: spheres with a "
                        f"{shape} distribution do not describe this curve well; "
                        "try mode=montecarlo")
    if sd < 0.02 * mean:
        warnings.append("the distribution is narrower than the data can resolve")
    model = polydisperse_spheres(q, mean, sd, scale, bg, shape)
    d = diameter_grid(mean, sd, 201)
    n_d = number_distribution(d, mean, sd, shape)
    v_d = n_d * d**3
    return Result(
        quantities={
            "mean_diameter_nm": Q(float(stats[0]), errs[0], "nm"),
            "sd_diameter_nm": Q(float(stats[1]), errs[1], "nm"),
            "volume_weighted_mean_diameter_nm": Q(float(stats[2]), errs[2], "nm"),
            "scale": Q(float(scale), _err(cov, 2), "a.u."),
            "background": Q(float(bg), _err(cov, 3), "a.u."),
        },
        fit=_fit_stats(y, model, sigma, redchi, n),
        warnings=warnings,
        curves={
            "fit": {"model": model},
            "distribution": {"diameter_nm": d, "number": n_d / n_d.max(),
                             "volume": v_d / v_d.max()},
        },
    )


def _montecarlo_fit(q, y, sigma, n_repetitions: int, seed: int) -> Result:
    """Distribution-free volume fractions on a log diameter grid (regularised NNLS)."""
    if not 1 <= n_repetitions <= 200:
        raise InputError("n_repetitions must be between 1 and 200")
    # Sizes the q-range can resolve: below ~2 pi/q_max a sphere is a flat background.
    d = np.geomspace(max(2 * np.pi / q[-1], 0.5), min(2 * np.pi / q[0], 300.0), 100)
    kernel = sphere_form_factor(q, d) * sphere_volume_nm3(d)   # per unit volume fraction
    norm = kernel.max(axis=0)
    a = np.column_stack([kernel / norm, np.ones_like(q)]) / sigma[:, None]
    smooth = np.diff(np.eye(len(d) + 1)[:-1], 2, axis=0)      # 2nd differences, not on bg
    lam = _choose_regularisation(a, y / sigma, smooth)
    aug = np.vstack([a, lam * smooth])
    rng = np.random.default_rng(seed)
    fits, stats = [], []
    for rep in range(n_repetitions + 1):
        # Parametric bootstrap: repeats are the first fit plus fresh noise, so the noise
        # level is the data's, not twice it.
        target = y if rep == 0 else (a @ fits[0][0]) * sigma + rng.normal(0.0, sigma)
        x, _ = nnls(aug, np.concatenate([target / sigma, np.zeros(len(smooth))]), maxiter=5000)
        vol = x[:-1] / norm
        # Bins whose share of the forward intensity is at the noise floor, amplified by
        # 1/D^3 (volume) and 1/D^3 again (number), would dominate the statistics; McSAS
        # likewise counts only populations above its observability limit.
        seen = x[:-1] >= OBSERVABLE_FRACTION * x[:-1].max()
        num = np.where(seen, vol, 0.0) / sphere_volume_nm3(d)
        vol = np.where(seen, vol, 0.0)
        if num.sum() <= 0:
            raise InputError("no particle population could be fitted to this curve")
        m = np.sum(num * d) / num.sum()
        sd = np.sqrt(np.sum(num * (d - m) ** 2) / num.sum())
        stats.append((m, sd, np.sum(vol * d) / vol.sum()))
        fits.append((x, num, vol))
    x, num, vol = fits[0]
    if n_repetitions > 1:
        lo, hi = np.percentile(np.array(stats[1:]), [15.87, 84.13], axis=0)
        spread = (hi - lo) / 2.0   # robust one-sigma: repeats may pick up a noise bump
    else:
        spread = [None] * 3
    model = (a @ x) * sigma
    redchi = float(np.sum(((model - y) / sigma) ** 2) / max(len(q) - 1, 1))
    warnings = [f"number-weighted statistics count diameters above {d[0]:.1f} nm (the "
                f"q-range's limit) whose forward scattering is at least {OBSERVABLE_FRACTION:.0%} "
                "of the strongest size class"]
    q_ = [Q(float(v), None if e is None else float(e), "nm") for v, e in zip(stats[0], spread)]
    return Result(
        quantities={"mean_diameter_nm": q_[0], "sd_diameter_nm": q_[1],
                    "volume_weighted_mean_diameter_nm": q_[2],
                    "background": Q(float(x[-1]), None, "a.u.")},
        fit=_fit_stats(y, model, sigma, redchi, len(q)),
        warnings=warnings,
        curves={"fit": {"model": model},
                "distribution": {"diameter_nm": d, "number": num / num.max(),
                                 "volume": vol / vol.max()}},
    )


def _choose_regularisation(a, t, smooth) -> float:
    """The strongest smoothing whose chi-square stays within 10% of the weakest's."""
    scale = np.linalg.norm(a[:, :-1], axis=0).mean()
    best, chi_min = 0.0, None
    for lam in scale * np.array([1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1]):
        aug = np.vstack([a, lam * smooth])
        x, _ = nnls(aug, np.concatenate([t, np.zeros(len(smooth))]), maxiter=5000)
        chi = np.sum((a @ x - t) ** 2)
        chi_min = chi if chi_min is None else chi_min
        if chi > 1.1 * chi_min:
            break
        best = lam
    return best


def _covariance(jac: np.ndarray, redchi: float) -> np.ndarray | None:
    """Parameter covariance (J^T J)^-1 scaled by reduced chi-square (lmfit's convention)."""
    try:
        cov = np.linalg.inv(jac.T @ jac) * max(redchi, 1e-12)
    except np.linalg.LinAlgError:
        return None
    return cov if np.all(np.isfinite(np.diag(cov))) and np.all(np.diag(cov) >= 0) else None


def _err(cov: np.ndarray | None, i: int) -> float | None:
    return None if cov is None else float(np.sqrt(cov[i, i]))


def _fit_stats(y, model, sigma, redchi, n) -> dict:
    ly, lm = np.log10(np.clip(y, 1e-300, None)), np.log10(np.clip(model, 1e-300, None))
    ok = y > 0
    ss_res = np.sum((ly[ok] - lm[ok]) ** 2)
    ss_tot = np.sum((ly[ok] - ly[ok].mean()) ** 2)
    return {"reduced_chi2": redchi, "r_squared": float(1 - ss_res / ss_tot) if ss_tot > 0 else None,
            "n_points": int(n)}


def plot_size_distribution(result: Result):
    """Two panels: I(q) with the fit (log-log) and the number/volume distributions."""
    from matplotlib.figure import Figure

    fit, dist = result.curves["fit"], result.curves["distribution"]
    fig = Figure(figsize=(9, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    q, y = np.asarray(fit["q_per_nm"]), np.asarray(fit["intensity"])
    pos = y > 0
    ax1.errorbar(q[pos], y[pos], yerr=np.asarray(fit["sigma"])[pos], fmt=".", ms=3,
                 color="0.35", elinewidth=0.5, label="data")
    ax1.plot(q, fit["model"], color="C3", lw=1.4, label="fit", zorder=3)
    ax1.set(xscale="log", yscale="log", xlabel="q (1/nm)", ylabel="I(q)")
    ax1.legend(frameon=False)
    d = np.asarray(dist["diameter_nm"])
    seen = np.flatnonzero(np.maximum(dist["number"], dist["volume"]) > 1e-3)
    if result.extras.get("mode") == "montecarlo":
        from matplotlib.ticker import FormatStrFormatter

        ax2.set_xscale("log")  # the distribution-free grid is log-spaced
        ax2.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax2.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax2.step(d, dist["number"], where="mid", color="C0", label="number")
        ax2.step(d, dist["volume"], where="mid", color="C1", ls="--", label="volume")
        if len(seen):
            ax2.set_xlim(d[max(seen[0] - 3, 0)], d[min(seen[-1] + 3, len(d) - 1)])
    else:
        ax2.plot(d, dist["number"], color="C0", label="number")
        ax2.plot(d, dist["volume"], color="C1", ls="--", label="volume")
    m = result.quantities["mean_diameter_nm"]
    s = result.quantities["sd_diameter_nm"]
    ax2.set(xlabel="diameter (nm)", ylabel="relative frequency",
            title=f"mean {m.value:.2f} nm, SD {s.value:.2f} nm")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return fig


set_plot("saxs.size_distribution", plot_size_distribution)
