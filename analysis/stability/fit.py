"""Trend of a stability-indicating quantity against age.

Three models, each linear in its parameters after a transform, so the ordinary
least-squares confidence band is exact under normal errors:

- ``linear``       y = a + b·t
- ``sqrt``         y = a + b·√t       (diffusion-limited change, fast then slowing)
- ``exponential``  y = a·exp(k·t)     (fitted as ln y = ln a + k·t; needs y > 0)

AIC (small-sample corrected, AICc) compares them on the scale of y: for the exponential model the log-scale likelihood
gets the Jacobian term 2·Σ ln y (Akaike 1978; Burnham & Anderson 2002, §2.11), otherwise
a log fit would always "win" on small numbers.

The time to a limit follows ICH Q1E (2003) §B.2.2 / Appendix B: the shelf life is where
the one-sided 95 % confidence bound of the *mean* regression line meets the acceptance
criterion, which is earlier than where the fitted line itself meets it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

DAYS_PER_MONTH = 365.25 / 12.0
MODELS = ("linear", "sqrt", "exponential")
# Search for a crossing out to this many months past the last point at most; ICH Q1E
# allows limited extrapolation, so a crossing found far beyond the data is marked as such.
SEARCH_MONTHS = 120.0


class TooFewPoints(ValueError):
    """Not enough (or unsuitable) points for a fit; the message says why."""


@dataclass(frozen=True)
class TrendFit:
    """An OLS fit in transformed coordinates: u = g(t), v = h(y), v = a + b·u."""

    model: str
    a: float
    b: float
    n: int
    s: float            # residual standard deviation in v
    u_mean: float
    sxx: float
    aic: float
    t_max_days: float

    @property
    def df(self) -> int:
        return self.n - 2

    def _u(self, t_days: np.ndarray) -> np.ndarray:
        months = np.asarray(t_days, dtype=float) / DAYS_PER_MONTH
        return np.sqrt(np.clip(months, 0.0, None)) if self.model == "sqrt" else months

    def _y(self, v: np.ndarray) -> np.ndarray:
        return np.exp(v) if self.model == "exponential" else v

    def _se_mean(self, u: np.ndarray) -> np.ndarray:
        return self.s * np.sqrt(1.0 / self.n + (u - self.u_mean) ** 2 / self.sxx)

    def predict(self, t_days) -> np.ndarray:
        """Fitted mean value at ages `t_days` (in the quantity's unit)."""
        return self._y(self.a + self.b * self._u(t_days))

    def band(self, t_days, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided `level` confidence band of the mean response at `t_days`."""
        u = self._u(t_days)
        q = stats.t.ppf(0.5 + level / 2.0, self.df)
        v = self.a + self.b * u
        half = q * self._se_mean(u)
        return self._y(v - half), self._y(v + half)

    def one_sided_bound(self, t_days, upper: bool, level: float = 0.95) -> np.ndarray:
        """One-sided `level` confidence bound of the mean response (upper or lower)."""
        u = self._u(t_days)
        q = stats.t.ppf(level, self.df)
        v = self.a + self.b * u + (1 if upper else -1) * q * self._se_mean(u)
        return self._y(v)

    @property
    def slope_stderr(self) -> float:
        """Standard error of b (per month, or per √month for `sqrt`, per month in ln y
        for `exponential`)."""
        return self.s / math.sqrt(self.sxx)

    def slope_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided confidence interval of b."""
        q = float(stats.t.ppf(0.5 + level / 2.0, self.df))
        return self.b - q * self.slope_stderr, self.b + q * self.slope_stderr

    def slope_per_month_at(self, t_days: float) -> float:
        """dy/dt in unit per month at age `t_days` (the same as b for the linear model)."""
        months = max(t_days / DAYS_PER_MONTH, 1e-6)
        if self.model == "linear":
            return self.b
        if self.model == "sqrt":
            return self.b / (2.0 * math.sqrt(months))
        return float(self.b * self.predict(t_days))


def fit_trend(t_days, y, model: str = "linear") -> TrendFit:
    """Fit `model` to values `y` at ages `t_days`. Raises TooFewPoints (a ValueError
    with a readable message) with fewer than 3 points at 2 distinct ages, or for the
    exponential model when a value is not positive."""
    if model not in MODELS:
        raise TooFewPoints(f"Unknown trend model {model!r}; choose one of {', '.join(MODELS)}.")
    t = np.asarray(t_days, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if t.size < 3 or np.unique(t).size < 2:
        raise TooFewPoints(f"A trend needs at least 3 results at 2 or more ages; there are {t.size}.")
    if model == "exponential" and np.any(y <= 0):
        raise TooFewPoints("The exponential model needs every value above zero.")
    months = t / DAYS_PER_MONTH
    # √t needs t ≥ 0; a (manager-confirmed) negative age counts as t0 there, and keeps
    # its sign in the other models.
    u = np.sqrt(np.clip(months, 0.0, None)) if model == "sqrt" else months
    v = np.log(y) if model == "exponential" else y
    u_mean = float(u.mean())
    sxx = float(((u - u_mean) ** 2).sum())
    b = float(((u - u_mean) * (v - v.mean())).sum() / sxx)
    a = float(v.mean() - b * u_mean)
    rss = float(((v - a - b * u) ** 2).sum())
    n = int(t.size)
    # A perfect fit would give s = 0 and an infinite likelihood; a floor keeps AIC finite.
    rss = max(rss, 1e-12 * max(1.0, float((v ** 2).sum())))
    s = math.sqrt(rss / (n - 2)) if n > 2 else 0.0
    k = 3  # a, b and the error variance
    log_lik = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1.0)
    if model == "exponential":
        log_lik -= float(np.log(y).sum())  # Jacobian of v = ln y: the likelihood of y itself
    aic = 2 * k - 2 * log_lik
    # Small-sample correction (AICc, Hurvich & Tsai 1989): a stability series often has
    # 4-8 points, where plain AIC favours whichever curve bends through the noise.
    aic = aic + 2 * k * (k + 1) / (n - k - 1) if n > k + 1 else math.inf
    return TrendFit(model=model, a=a, b=b, n=n, s=s, u_mean=u_mean, sxx=sxx, aic=aic, t_max_days=float(t.max()))


def fit_best(t_days, y, models: tuple[str, ...] = MODELS) -> tuple[TrendFit, dict[str, float]]:
    """The model of `models` with the lowest AICc, and {model: AICc} of every model that
    could be fitted (inf with ≤ 4 points, when linear is kept). Linear wins ties (it is
    listed first and is the ICH default)."""
    fits: dict[str, TrendFit] = {}
    problems = []
    for model in models:
        try:
            fits[model] = fit_trend(t_days, y, model)
        except TooFewPoints as exc:
            problems.append(str(exc))
    if not fits:
        raise TooFewPoints(problems[0] if problems else "No model to fit.")
    if all(math.isinf(f.aic) for f in fits.values()):
        # Too few points to compare models (AICc undefined): the ICH default, linear.
        best = fits.get("linear") or next(iter(fits.values()))
        return best, {m: f.aic for m, f in fits.items()}
    best = min(fits.values(), key=lambda f: (round(f.aic, 9), models.index(f.model)))
    return best, {m: f.aic for m, f in fits.items()}


@dataclass(frozen=True)
class Crossing:
    """When the trend reaches a limit: the fitted line (`estimate_days`) and the one-sided
    95 % confidence bound (`bound_days`, ≤ estimate: the conservative shelf life).
    None means not reached within the search horizon."""

    estimate_days: float | None
    bound_days: float | None
    extrapolated: bool


def _first_crossing(f, limit: float, horizon: float) -> float | None:
    grid = np.linspace(0.0, horizon, 2001)
    values = f(grid) - limit
    if values[0] >= 0:
        return 0.0
    above = np.nonzero(values >= 0)[0]
    if above.size == 0:
        return None
    i = int(above[0])
    return float(optimize.brentq(lambda x: float(f(np.array([x]))[0] - limit), grid[i - 1], grid[i]))


def time_to_limit(fit: TrendFit, limit: float, increasing: bool, level: float = 0.95) -> Crossing:
    """Age in days at which the fitted mean reaches `limit` and at which its one-sided
    `level` confidence bound does (ICH Q1E). `increasing` says the quantity fails by
    rising above `limit` (else by falling below it)."""
    horizon = fit.t_max_days + SEARCH_MONTHS * DAYS_PER_MONTH
    sign = 1.0 if increasing else -1.0
    estimate = _first_crossing(lambda t: sign * fit.predict(t), sign * limit, horizon)
    bound = _first_crossing(lambda t: sign * fit.one_sided_bound(t, upper=increasing, level=level),
                            sign * limit, horizon)
    reached = [x for x in (estimate, bound) if x is not None]
    return Crossing(estimate, bound, extrapolated=bool(reached) and max(reached) > fit.t_max_days)
