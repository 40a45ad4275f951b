"""Choosing the components: site-library candidates, BIC backward elimination, then
forward addition of unassigned lines where the residual still shows signal."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d

from analysis.nmr.fitting import FitOutcome, LineSpec, fit_lines
from analysis.nmr.prep import Prepared
from analysis.nmr.sites import assign
from analysis.result import InputError

MAX_COMPONENTS = 6
FIXABLE = ("shift_ppm", "fwhm_hz")


def _site_spec(name: str, site: dict[str, Any], sf: float, centre: float | None = None) -> LineSpec:
    c = site["shift_ppm"] if centre is None else centre
    wlo, whi = (v * 1e3 / sf for v in site["fwhm_khz"])
    return LineSpec(label="", assignment=name, centre=c,
                    centre_bounds=(c - site["tol_ppm"], c + site["tol_ppm"]),
                    fwhm=float(np.sqrt(wlo * whi)), fwhm_bounds=(wlo, whi))


def _generic_spec(prep: Prepared, x: np.ndarray, residual: np.ndarray) -> LineSpec:
    """An unassigned line at the largest remaining residual, its width from the half height."""
    sm = uniform_filter1d(residual, prep.smooth_width)
    i = int(np.argmax(sm))
    half = sm[i] / 2
    l, r = i, i
    while l > 0 and sm[l] > half:
        l -= 1
    while r < len(sm) - 1 and sm[r] > half:
        r += 1
    dx = abs(x[1] - x[0])
    w = max((r - l) * dx, 3 * dx)
    span = np.ptp(x)
    return LineSpec(label="", assignment="unassigned", centre=float(x[i]),
                    centre_bounds=(max(x[0], x[i] - max(w, 2.0)), min(x[-1], x[i] + max(w, 2.0))),
                    fwhm=w, fwhm_bounds=(2 * dx, span / 2))


def _label(specs: list[LineSpec]) -> list[LineSpec]:
    specs = sorted(specs, key=lambda s: -s.centre)
    for i, s in enumerate(specs):
        s.label = f"c{i + 1}"
    return specs


def apply_fixed(specs: list[LineSpec], fixed: dict | None, sf: float) -> None:
    """Fix `{"c1.shift_ppm": 116, "core.fwhm_hz": 600}` (label or assignment)."""
    for key, value in (fixed or {}).items():
        who, _, what = str(key).partition(".")
        if what not in FIXABLE:
            raise InputError(f"fixed: {key!r} - can fix only {', '.join(FIXABLE)} "
                             "(e.g. {\"c1.shift_ppm\": 116})")
        hits = [s for s in specs if who in (s.label, s.assignment)]
        if not hits:
            raise InputError(f"fixed: no component {who!r}; the fit has "
                             + ", ".join(f"{s.label} ({s.assignment})" for s in specs))
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(f"fixed: {key} must be a number, got {value!r}") from None
        for s in hits:
            if what == "shift_ppm":
                s.fixed_centre = v
            else:
                s.fixed_fwhm = v / sf


def _fit(prep, x, y, specs, kind, fixed, sf):
    specs = _label([LineSpec(**vars(s)) for s in specs])
    # While choosing, only fixes keyed by assignment can apply; labels settle at the end.
    by_site = {k: v for k, v in (fixed or {}).items()
               if any(str(k).split(".")[0] == s.assignment for s in specs)}
    apply_fixed(specs, by_site, sf)
    return fit_lines(x, y, prep.sigma, specs, kind)


def _backward(specs, best, target, fit, keep=frozenset()):
    """Drop the line whose removal lowers BIC most, while that helps (or while there are
    more lines than the analyst's target / the maximum). Sites in `keep` (the analyst
    fixed them) stay."""
    while len(specs) > 1:
        droppable = [i for i, s in enumerate(specs) if s.assignment not in keep]
        if not droppable:
            break
        forced = len(specs) > MAX_COMPONENTS or (target is not None and len(specs) > target)
        if target is not None and len(specs) <= target:
            break
        trial, i = min(((fit(specs[:i] + specs[i + 1:]), i) for i in droppable),
                       key=lambda t: t[0].bic)
        if not forced and trial.bic >= best.bic:
            break
        specs, best = specs[:i] + specs[i + 1:], trial
    return specs, best


def _forward(prep, x, y, specs, best, target, fit):
    """Add one unassigned line at the largest residual if BIC improves (or the analyst's
    target is not reached). Returns (specs, best, added)."""
    if len(specs) >= (target or MAX_COMPONENTS):
        return specs, best, False
    resid = y - (best.model() if best is not None else np.zeros_like(y))
    new = _generic_spec(prep, x, resid)
    trial = fit(specs + [new])
    if target is None and best is not None and trial.bic >= best.bic:
        return specs, best, False
    return specs + [new], trial, True


def choose_components(prep: Prepared, library: dict, sf: float, *, n_components: int | None,
                      positions_ppm: list | None, fixed: dict | None,
                      lineshape: str) -> FitOutcome:
    """The final fit: the analyst's components if given, else the BIC-best set."""
    inside = (prep.ppm >= prep.fit_range[0]) & (prep.ppm <= prep.fit_range[1])
    x, y = prep.ppm[inside], prep.data[inside]
    if len(x) < 20:
        raise InputError(f"the fit range {prep.fit_range[0]:.1f}-{prep.fit_range[1]:.1f} ppm "
                         "holds fewer than 20 points")
    if n_components is not None and not 1 <= n_components <= MAX_COMPONENTS:
        raise InputError(f"n_components must be 1 to {MAX_COMPONENTS}, got {n_components}")

    if positions_ppm is not None:
        try:
            pos = [float(p) for p in positions_ppm]
        except (TypeError, ValueError):
            raise InputError("positions_ppm must be a list of numbers (ppm)") from None
        if not 1 <= len(pos) <= MAX_COMPONENTS:
            raise InputError(f"positions_ppm must give 1 to {MAX_COMPONENTS} positions, "
                             f"got {len(pos)}")
        if n_components is not None and n_components != len(pos):
            raise InputError(f"positions_ppm gives {len(pos)} positions but n_components is "
                             f"{n_components}")
        specs = []
        for p in pos:
            name = assign(p, library)
            if name == "unassigned":
                dx = abs(x[1] - x[0])
                spec = LineSpec(label="", assignment=name, centre=p, centre_bounds=(p - 5, p + 5),
                                fwhm=max(1.0e3 / sf, 3 * dx), fwhm_bounds=(2 * dx, np.ptp(x) / 2))
            else:
                spec = _site_spec(name, library[name], sf, centre=p)
            specs.append(spec)
        specs = _label(specs)
        apply_fixed(specs, fixed, sf)
        return fit_lines(x, y, prep.sigma, specs, lineshape)

    # Candidates: library sites whose window lies in the fit range and shows signal.
    sm = uniform_filter1d(y, prep.smooth_width)
    specs = []
    for name, site in library.items():
        win = np.abs(x - site["shift_ppm"]) <= site["tol_ppm"]
        if win.any() and sm[win].max() > 5 * prep.sigma_smooth:
            specs.append(_site_spec(name, site, sf))

    target = n_components

    def fit(sp):
        return _fit(prep, x, y, sp, lineshape, fixed, sf)

    keep = frozenset(str(k).split(".")[0] for k in (fixed or {}))
    best = fit(specs) if specs else None
    specs, best = _backward(specs, best, target, fit, keep)
    for _ in range(MAX_COMPONENTS):
        specs, best, added = _forward(prep, x, y, specs, best, target, fit)
        if not added:
            break
        # A line added where signal was unexplained can make a library line redundant.
        specs, best = _backward(specs, best, target, fit, keep)
    if best is None:
        raise InputError("no component could be placed in the fit range")
    if fixed:
        final = _label([LineSpec(**vars(s)) for s in best.specs])
        apply_fixed(final, fixed, sf)
        best = fit_lines(x, y, prep.sigma, final, lineshape)
    return best
