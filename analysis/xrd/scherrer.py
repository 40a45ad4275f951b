"""Powder XRD routines: Scherrer crystallite size of CsPbBr3 (here) and the instrument
profile from a line-profile standard (analysis.xrd.profile, registered on import).

Each reflection is a pseudo-Voigt; with unmonochromated Cu radiation it is a Kα1 + Kα2
doublet (Kα2 at its own Bragg angle, area ratio from the file, same width and shape).
Instrument broadening is removed per reflection: the pseudo-Voigt (FWHM, η) is split into
Lorentzian and Gaussian widths (de Keijser 1982); Lorentzian widths subtract, Gaussian
widths subtract in quadrature, and the sample FWHM is recombined with Thompson-Cox-
Hastings. The Scherrer size is D = Kλ/(β cos θ) with β that sample FWHM in radians.
"""
from __future__ import annotations

import math

import numpy as np

from analysis.data import PowderPattern
from analysis.registry import routine, set_plot
from analysis.result import Component, InputError, Q, Result
from analysis.xrd.fit import Radiation, background, detect, fit_window, pattern_arrays
from analysis.xrd.markers import expected_fwhm, measure_markers
from analysis.xrd.model import (
    CSPBBR3_CUBIC_A, ORTHORHOMBIC_MARKERS, cubic_reflections, reflection_positions, sample_fwhm,
    scherrer_nm,
)

RESOLUTION_LIMIT_NM = 100.0   # beyond this a lab diffractometer barely sees size broadening
MARKER_TOLERANCE_DEG = 0.3
# Broader than this (crystallites below ~6.5 nm with Cu Kα) the profile-shape error in the
# tails of the cubic reflections around 24-29° reaches 1-2 % of the strongest peak on
# synthetic Voigt patterns, as large as the markers themselves: they are not evaluated.
MARKER_MAX_FWHM_DEG = 1.3


def _instrument_width(instrument_fwhm_deg: float | None, caglioti: dict | None):
    """A function 2θ -> instrument FWHM (degrees), or None when no correction is given."""
    if instrument_fwhm_deg is not None and caglioti is not None:
        raise InputError("give either instrument_fwhm_deg or caglioti, not both")
    if instrument_fwhm_deg is not None:
        if not instrument_fwhm_deg > 0:
            raise InputError(f"instrument_fwhm_deg must be positive, not {instrument_fwhm_deg}")
        return lambda tt: float(instrument_fwhm_deg)
    if caglioti is not None:
        try:
            u, v, w = (float(caglioti[key]) for key in ("U", "V", "W"))
        except (KeyError, TypeError, ValueError):
            raise InputError('caglioti must look like {"U": 0.004, "V": -0.001, "W": 0.002} (degrees²)') from None

        def width(tt: float) -> float:
            t = math.tan(math.radians(tt / 2))
            return math.sqrt(max(u * t * t + v * t + w, 0.0))
        return width
    return None


@routine("xrd.scherrer", version="1.1.0", accepts=(PowderPattern.kind,), title="XRD size and markers",
         default_for=(PowderPattern.kind,), calibration=("caglioti", "instrument_fwhm_deg", "instrument_eta"),
         headline=("crystallite_size_nm", "williamson_hall_size_nm", "microstrain_percent", "orthorhombic_markers",
                   "orthorhombic_phase_evident", "size_lower_bound", "lattice_a_angstrom"), headline_order=40)
def scherrer(pattern: PowderPattern, *, k: float = 0.9, instrument_fwhm_deg: float | None = None,
             caglioti: dict | None = None, instrument_eta: float = 0.5,
             marker_threshold_percent: float = 3.0, williamson_hall: bool = False,
             lattice_a_angstrom: float = CSPBBR3_CUBIC_A) -> Result:
    """Scherrer crystallite size (nm) of cubic CsPbBr3 from doublet pseudo-Voigt fits.

    Instrument broadening (a constant FWHM or a Caglioti U, V, W in degrees² from
    xrd.instrument_profile; its Lorentzian fraction `instrument_eta`) is removed per
    reflection. Reports the weighted mean size, each reflection's 2θ, FWHM, hkl and size,
    every statistically significant orthorhombic (Pnma) marker reflection with its area
    and height relative to the strongest peak (`orthorhombic_markers`); the flag
    `orthorhombic_phase_evident` says whether any reaches `marker_threshold_percent` of the
    strongest peak's integrated intensity (the threshold no longer hides weaker ones).
    """
    if not k > 0:
        raise InputError(f"k (the Scherrer constant) must be positive, not {k}")
    if not 0 <= instrument_eta <= 1:
        raise InputError(f"instrument_eta must be between 0 and 1, not {instrument_eta}")
    inst = _instrument_width(instrument_fwhm_deg, caglioti)
    x, y = pattern_arrays(pattern)
    rad = Radiation.of(pattern)
    warnings: list[str] = []
    if pattern.metadata.get("radiation_assumed"):
        warnings.append(f"the file does not state the radiation; assumed {pattern.metadata['radiation_assumed'].split(' (')[0]}")

    peaks, stats = _fit_reflections(x, y, rad, lattice_a_angstrom, pattern.source, warnings)
    lattice = _index(peaks, rad.ka1, lattice_a_angstrom, x[0], x[-1])
    cubic = [p for p in peaks if p.hkl]
    real = [p for p in peaks if not p.extras["marker"]]
    if not real:
        raise InputError("no diffraction peaks could be fitted", pattern.source)
    strongest = max(real, key=lambda p: p.area)
    markers = _markers(x, y, peaks, stats["model"], rad, strongest, marker_threshold_percent, warnings)

    if inst is None:
        warnings.append("no instrument broadening given (instrument_fwhm_deg or caglioti): sizes are "
                        "lower bounds because the instrument's own width was not removed")
    sized = cubic if cubic else real
    if not cubic:
        warnings.append(f"no peak matches cubic CsPbBr3 (a = {lattice_a_angstrom} Å); sizes use every peak")
    for p in real:
        _size_peak(p, inst, instrument_eta, rad.ka1, k)
    mean, mean_err, used = _weighted_mean(sized)

    quantities = {"crystallite_size_nm": Q(mean, mean_err, "nm")}
    lower_bound = mean is None or mean > RESOLUTION_LIMIT_NM
    if lower_bound:
        what = "no reflection is broader than the instrument" if mean is None else \
            f"the estimate ({mean:.0f} nm) is near or beyond"
        warnings.append(f"crystallite size > {RESOLUTION_LIMIT_NM:.0f} nm: {what} the instrument's "
                        "resolution limit, so treat the value as a lower bound")
    quantities["size_lower_bound"] = Q(lower_bound, None, "")
    quantities["orthorhombic_markers"] = Q(markers, None, "")
    strongest_marker = max((m["relative_intensity_percent"] for m in markers), default=None)
    quantities["orthorhombic_marker_max_percent"] = Q(strongest_marker, None, "%")
    quantities["orthorhombic_phase_evident"] = Q(
        bool(strongest_marker is not None and strongest_marker >= marker_threshold_percent), None, "")
    quantities["n_reflections"] = Q(len(used), None, "")
    if lattice:
        quantities["lattice_a_angstrom"] = Q(lattice[0], lattice[1], "Å")
    if williamson_hall:
        quantities.update(_williamson_hall(used, rad.ka1, k, warnings))

    components = [_component(i, p) for i, p in enumerate(
        [p for p in peaks if not p.extras["marker"] or p.extras.get("reported")])]
    curves = {"pattern": {"two_theta_deg": x, "intensity": y, "background": stats["background"],
                          "fit": stats["model"]}}
    extras = {
        "peaks": [{"two_theta_deg": p.center, "label": p.hkl or p.extras["marker"] or "",
                   "height": float(np.interp(p.center, x, stats["model"]))}
                  for p in peaks if not p.extras["marker"] or p.extras.get("reported")],
        "marker_positions": [{"hkl": h, "two_theta_deg": t} for h, t in ORTHORHOMBIC_MARKERS],
    }
    fit = {key: stats[key] for key in ("reduced_chi2", "r_squared", "n_points")}
    return Result(quantities=quantities, components=components, fit=fit,
                  warnings=warnings, curves=curves, extras=extras)


def _fit_reflections(x: np.ndarray, y: np.ndarray, rad: Radiation, a0: float, source: str,
                     warnings: list[str]) -> tuple[list, dict]:
    """Detect peaks and fit them all at once; peaks carry `extras["marker"]` (the
    orthorhombic hkl for the marker slots, else None). Returns peaks and fit statistics."""
    rough = detect(x, y - background(x, y, 2.0), rad)
    if not rough:
        raise InputError("no diffraction peaks stand out of the noise", source)
    widest = max(w for p, h, w in rough if h > 0.05 * max(h for _, h, _ in rough))
    base = background(x, y, min(max(widest, 0.2), 3.0))
    found = detect(x, y - base, rad)
    if not found:
        raise InputError("no diffraction peaks stand out of the noise", source)
    # Look for the orthorhombic markers only in a pattern that is CsPbBr3 at all.
    perovskite = len(_match_cubic([f[0] for f in found], [f[2] for f in found], rad.ka1,
                                  a0, x[0], x[-1])[0]) >= 3
    if perovskite:
        found = [f for f in found if all(abs(f[0] - m) > MARKER_TOLERANCE_DEG for _, m in ORTHORHOMBIC_MARKERS)]
    else:
        warnings.append("fewer than 3 peaks match cubic CsPbBr3: orthorhombic markers not evaluated")

    # Marker reflections are always fitted (area >= 0) so that a shoulder hidden under a
    # broad cubic peak is measured rather than missed; they report only when significant.
    starts = [(p, h, w, None) for p, h, w in found]
    for hkl, pos in ORTHORHOMBIC_MARKERS:
        if perovskite and found and x[0] + 0.5 < pos < x[-1] - 0.5:
            ref = min(found, key=lambda f: abs(f[0] - pos))
            starts.append((pos, 0.02 * ref[1], ref[2], (0.15, 0.7 * ref[2], 1.5 * ref[2], hkl)))
    starts.sort(key=lambda s: s[0])
    # Broad nanocrystal reflections overlap everywhere, so the whole scan is one fit with
    # a smooth Chebyshev background (about one order per 8° of scan).
    degree = int(np.clip(round((x[-1] - x[0]) / 8.0), 3, 10))
    peaks, stats = fit_window(x, y, np.zeros_like(x), [s[:3] for s in starts], rad,
                              limits=[s[3][:3] if s[3] else None for s in starts],
                              bg_degree=degree, bg_guess=base)
    for peak, start in zip(peaks, starts):
        peak.extras["marker"] = start[3][3] if start[3] else None
    return peaks, stats



def _match_cubic(positions: list[float], widths: list[float], wavelength: float, a0: float,
                 lo: float, hi: float) -> tuple[list[tuple[int, object]], tuple[float, float | None] | None]:
    """Pair peak positions (2θ) with cubic reflections: a is refined from loose matches
    (0.6°) first, then peaks within max(0.2°, 0.35 FWHM) are assigned. Returns the
    (peak index, reflection) pairs and the refined a (Å) with its standard error."""
    refl = cubic_reflections()

    def match(a: float, tol_of) -> list[tuple[int, object]]:
        table = reflection_positions(refl, a, wavelength, lo - 1, hi + 1)
        pairs = []
        for i, pos in enumerate(positions):
            if table:
                r, tt = min(table, key=lambda rt: abs(rt[1] - pos))
                if abs(tt - pos) <= tol_of(i):
                    pairs.append((i, r))
        return pairs

    def lattice(pairs) -> list[float]:
        return [wavelength / (2 * math.sin(math.radians(positions[i] / 2))) * math.sqrt(r.n) for i, r in pairs]

    loose = match(a0, lambda i: 0.6)
    if not loose:
        return [], None
    tight = match(float(np.median(lattice(loose))), lambda i: max(0.2, 0.35 * widths[i]))
    if not tight:
        return [], None
    a_each = lattice(tight)
    err = float(np.std(a_each, ddof=1) / math.sqrt(len(a_each))) if len(a_each) > 2 else None
    return tight, (float(np.mean(a_each)), err)


def _index(peaks, wavelength: float, a0: float, lo: float, hi: float) -> tuple[float, float | None] | None:
    """Set `hkl` on fitted (non-marker) peaks that match cubic CsPbBr3; returns a (Å)."""
    candidates = [p for p in peaks if not p.extras.get("marker")]
    pairs, lattice = _match_cubic([p.center for p in candidates], [p.fwhm for p in candidates],
                                  wavelength, a0, lo, hi)
    for i, r in pairs:
        candidates[i].hkl = r.hkl
    return lattice


def _markers(x: np.ndarray, y: np.ndarray, peaks, model: np.ndarray, rad: Radiation, strongest,
             threshold: float, warnings: list[str]) -> list[dict]:
    """Every significant marker (see analysis.xrd.markers), as reported in
    `orthorhombic_markers`; the reported peaks take the local measurement."""
    if not any(p.extras["marker"] for p in peaks):
        return []
    widths = [expected_fwhm(peaks, pos) or 0.0 for _, pos in ORTHORHOMBIC_MARKERS]
    if max(widths) > MARKER_MAX_FWHM_DEG:
        warnings.append(f"the reflections near 24-29° are {max(widths):.1f}° wide: too broad to tell "
                        "orthorhombic markers from the tails of the cubic reflections, so they were "
                        "not evaluated")
        return []
    out = []
    for m in measure_markers(x, y, peaks, model, rad, strongest):
        if not m["significant"]:
            continue
        p = next(q for q in peaks if q.extras["marker"] == m["hkl"])
        p.center, p.area, p.area_err, p.fwhm = m["two_theta_deg"], m["area"], m["area_err"], m["fwhm_deg"]
        p.center_err = p.fwhm_err = None
        rel = m["relative_area_percent"]
        if rel < threshold:
            warnings.append(f"a weak orthorhombic {m['hkl']} reflection is reported ({rel:.1f}% of the "
                            f"strongest peak, {m['significance']:.0f} sigma), below the {threshold:g}% at "
                            "which the orthorhombic phase is flagged as evident")
        # relative_intensity_percent (integrated, as before) keeps stored runs comparable.
        out.append({"hkl": m["hkl"], "two_theta_deg": float(m["two_theta_deg"]),
                    "relative_intensity_percent": float(rel),
                    "relative_height_percent": float(m["relative_height_percent"]),
                    "area": float(m["area"]), "area_err": float(m["area_err"]),
                    "height": float(m["height"]), "significance": float(m["significance"])})
    return out


def _size_peak(p, inst, eta_inst: float, wavelength: float, k: float) -> None:
    """Sample FWHM (deg) and Scherrer size (nm) with one-sigma errors, stored in p.extras."""
    h_inst = inst(p.center) if inst else 0.0

    def size(h: float, eta: float) -> tuple[float, float | None]:
        hs = sample_fwhm(h, eta, h_inst, eta_inst) if h_inst > 0 else h
        return hs, (scherrer_nm(hs, p.center, wavelength, k) if hs > 0 else None)

    hs, d = size(p.fwhm, p.eta)
    p.extras.update(sample_fwhm_deg=hs, size_nm=d, size_err=None, instrument_fwhm_deg=h_inst)
    if d is None or p.fwhm_err is None or not np.isfinite(p.fwhm_err):
        return
    # Propagate the fitted (FWHM, η) covariance through the deconvolution numerically.
    dh, de = max(1e-5, 1e-3 * p.fwhm), 1e-3
    grad_h = (size(p.fwhm + dh, p.eta)[0] - size(p.fwhm - dh, p.eta)[0]) / (2 * dh)
    e_hi, e_lo = min(p.eta + de, 1.0), max(p.eta - de, 0.0)
    grad_e = (size(p.fwhm, e_hi)[0] - size(p.fwhm, e_lo)[0]) / (e_hi - e_lo)
    var = grad_h**2 * p.fwhm_err**2 + grad_e**2 * (p.eta_err or 0) ** 2 + 2 * grad_h * grad_e * p.cov_fwhm_eta
    hs_err = math.sqrt(max(var, 0.0))
    p.extras["sample_fwhm_err"] = hs_err
    p.extras["size_err"] = d * hs_err / hs


def _weighted_mean(peaks) -> tuple[float | None, float | None, list]:
    """Inverse-variance mean size (nm); its error is the larger of the internal error and
    the scatter between reflections (Birge ratio)."""
    used = [p for p in peaks if p.extras.get("size_nm") and p.extras.get("size_err")]
    if not used:
        return None, None, []
    d = np.array([p.extras["size_nm"] for p in used])
    w = 1.0 / np.array([p.extras["size_err"] for p in used]) ** 2
    mean = float(np.sum(w * d) / np.sum(w))
    internal = 1.0 / math.sqrt(float(np.sum(w)))
    if len(used) > 1:
        external = math.sqrt(float(np.sum(w * (d - mean) ** 2)) / ((len(used) - 1) * float(np.sum(w))))
        internal = max(internal, external)
    return mean, internal, used


def _williamson_hall(peaks, wavelength: float, k: float, warnings: list[str]) -> dict[str, Q]:
    """β cos θ = Kλ/D + 4ε sin θ fitted to the sized reflections (β, sample FWHM in rad)."""
    if len(peaks) < 3:
        warnings.append("Williamson-Hall needs at least 3 sized reflections; skipped")
        return {}
    theta = np.radians([p.center / 2 for p in peaks])
    beta = np.radians([p.extras["sample_fwhm_deg"] for p in peaks])
    beta_err = np.radians([p.extras["sample_fwhm_err"] for p in peaks])
    xs, ys, ws = 4 * np.sin(theta), beta * np.cos(theta), 1 / (beta_err * np.cos(theta))
    design = np.vstack([np.ones_like(xs), xs]).T * ws[:, None]
    coef, *_ = np.linalg.lstsq(design, ys * ws, rcond=None)
    resid = ys * ws - design @ coef
    chi2 = float(resid @ resid) / max(len(xs) - 2, 1)
    cov = np.linalg.inv(design.T @ design) * max(chi2, 1.0)
    intercept, slope = coef
    if intercept <= 0:
        warnings.append("Williamson-Hall intercept is not positive: strain dominates; no size")
        return {"microstrain_percent": Q(100 * slope, 100 * math.sqrt(cov[1, 1]), "%")}
    size = k * wavelength / intercept / 10.0
    return {"williamson_hall_size_nm": Q(size, size * math.sqrt(cov[0, 0]) / intercept, "nm"),
            "microstrain_percent": Q(100 * slope, 100 * math.sqrt(cov[1, 1]), "%")}


def _component(i: int, p) -> Component:
    marker = p.extras.get("marker")
    assignment = f"orthorhombic {marker}" if marker else (f"cubic {p.hkl}" if p.hkl else "unindexed")
    size = None if marker else p.extras.get("size_nm")
    return Component(label=f"p{i + 1}", assignment=assignment, quantities={
        "two_theta_deg": Q(p.center, p.center_err, "deg"),
        "fwhm_deg": Q(p.fwhm, p.fwhm_err, "deg"),
        "sample_fwhm_deg": Q(None if marker else p.extras.get("sample_fwhm_deg"),
                             None if marker else p.extras.get("sample_fwhm_err"), "deg"),
        "hkl": Q(p.hkl or "", None, ""),
        "size_nm": Q(size, p.extras.get("size_err") if size else None, "nm"),
        "area": Q(p.area, p.area_err, "counts·deg"),
    })


def _plot(result: Result):
    from analysis.xrd.plot import plot_scherrer  # matplotlib only when a figure is drawn

    return plot_scherrer(result)


set_plot("xrd.scherrer", _plot)
