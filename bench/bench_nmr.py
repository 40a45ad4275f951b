"""Benchmarks of the solid-state NMR routines on synthetic 133Cs data (8k points)."""
from __future__ import annotations

import statistics
import time

import numpy as np

from bench import benchmark


@benchmark("nmr.deconvolve", target_s=0.5)
def deconvolve_auto():
    """nmr.deconvolve of NC12.8 (8192 points, 5 lines) with the automatic component count."""
    from analysis.nmr.deconvolve import deconvolve
    from analysis.synthetic.nmr import cs133_spectrum

    spec = cs133_spectrum("NC12.8")
    return lambda: deconvolve(spec)


@benchmark("nmr.t1", target_s=1.0)
def t1_series():
    """nmr.t1 of NC8.3: 16 delays x 8192 points, 4 components."""
    from analysis.nmr.t1 import t1
    from analysis.synthetic.nmr import cs133_saturation_recovery

    series = cs133_saturation_recovery("NC8.3")
    return lambda: t1(series)


@benchmark("nmr.hetcor", target_s=0.5)
def hetcor_nc83():
    """nmr.hetcor of a synthetic NC8.3 133Cs-1H HETCOR (128 x 1024, four cross peaks)."""
    from analysis.nmr.hetcor import hetcor
    from analysis.synthetic.nmr import hetcor_spectrum

    spectrum = hetcor_spectrum(seed=1)
    return lambda: hetcor(spectrum)


def _median_time(fn, repeat=5):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _lmfit_fit(prep, library, sf, names):
    """A plain lmfit composite: one GaussianModel per site + LinearModel, same window,
    same starting positions and bounds as our library."""
    from lmfit.models import GaussianModel, LinearModel

    inside = (prep.ppm >= prep.fit_range[0]) & (prep.ppm <= prep.fit_range[1])
    x, y = prep.ppm[inside], prep.data[inside]
    model = LinearModel(prefix="b_")
    params = model.make_params(intercept=0.0, slope=0.0)
    total = float(np.sum(y) * abs(x[1] - x[0]))
    for name in names:
        site = library[name]
        g = GaussianModel(prefix=f"{name.replace('-', '_')}_")
        wlo, whi = (v * 1e3 / sf / 2.3548 for v in site["fwhm_khz"])
        p = g.make_params()
        p[f"{g.prefix}center"].set(value=site["shift_ppm"], min=site["shift_ppm"] - site["tol_ppm"],
                                   max=site["shift_ppm"] + site["tol_ppm"])
        p[f"{g.prefix}sigma"].set(value=np.sqrt(wlo * whi), min=wlo, max=whi)
        p[f"{g.prefix}amplitude"].set(value=total / len(names), min=0)
        model = model + g
        params.update(p)
    res = model.fit(y, params, x=x, weights=np.full_like(y, 1.0 / prep.sigma))
    areas = {n: res.params[f"{n.replace('-', '_')}_amplitude"].value for n in names}
    s = sum(areas.values())
    return {n: {"shift_ppm": round(res.params[f"{n.replace('-', '_')}_center"].value, 2),
                "fwhm_hz": round(res.params[f"{n.replace('-', '_')}_fwhm"].value * sf, 1),
                "integral_percent": round(100 * areas[n] / s, 2)} for n in names}


@benchmark("nmr.deconvolve_vs_lmfit")
def versus_lmfit():
    """Our fit vs a straightforward lmfit composite-Gaussian fit of NC8.3 from the same guesses."""
    from analysis.nmr.deconvolve import deconvolve
    from analysis.nmr.prep import prepare
    from analysis.nmr.sites import CS133_SITES, library_for
    from analysis.synthetic import paper
    from analysis.synthetic.nmr import cs133_spectrum

    spec = cs133_spectrum("NC8.3")
    names = ["ligand-adjacent", "core", "middle", "surface"]
    guesses = [CS133_SITES[n]["shift_ppm"] for n in names]
    t_auto, auto = _median_time(lambda: deconvolve(spec))
    t_ours, ours = _median_time(lambda: deconvolve(spec, positions_ppm=guesses))
    library = library_for("133Cs", None)

    def run_lmfit():
        prep = prepare(spec.ppm, spec.intensity, mas_rate_hz=paper.CS133_MAS_HZ,
                       sf_mhz=spec.sf_mhz, fit_range_ppm=None)
        return _lmfit_fit(prep, library, spec.sf_mhz, names)

    t_lmfit, lm = _median_time(run_lmfit)

    def answer(result):
        return {c.assignment: {k: round(q.value, 2) for k, q in c.quantities.items()}
                for c in result.components}

    truth = {ln.assignment: {"shift_ppm": ln.shift_ppm, "fwhm_hz": ln.fwhm_khz * 1e3,
                             "integral_percent": ln.integral_percent}
             for ln in paper.TABLE2["NC8.3"]}
    return {"ours_auto_median_s": t_auto, "ours_same_guesses_median_s": t_ours,
            "lmfit_same_guesses_median_s": t_lmfit, "ours_auto": answer(auto),
            "ours_same_guesses": answer(ours), "lmfit": lm, "truth": truth,
            "note": "lmfit time includes the same baseline/window preparation as ours"}
