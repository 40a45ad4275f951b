"""Figures in the style of the paper's Figure 3: deconvolution with residuals, T1
recovery per component, and the spherical layer schematic."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from analysis.result import Result

# Colours by assignment, close to the paper's Figure 3 key.
COLOURS = {"ligand-adjacent": "#7b3294", "bulk": "#636363", "core": "#d7191c",
           "middle": "#fdae61", "surface": "#2c7bb6", "Cs4PbBr6": "#1a9641",
           "unassigned": "#8c6d31"}


def _colour(assignment: str) -> str:
    return COLOURS.get(assignment, COLOURS["unassigned"])


def deconvolution_figure(result: Result) -> Figure:
    """Data (black), total fit (grey), components coloured by assignment, residual below;
    ppm axis reversed as in NMR convention."""
    sp = result.curves["spectrum"]
    fig = Figure(figsize=(7, 5))
    ax, axr = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    x = sp["ppm"]
    ax.plot(x, sp["data"], color="black", lw=1, label="data")
    ax.plot(x, sp["fit"], color="0.6", lw=1.5, label="fit")
    names = result.extras.get("assignments", {})
    for comp in result.components:
        curve = sp.get(comp.label)
        if curve is None:
            continue
        shift = comp.quantities["shift_ppm"].value
        pct = comp.quantities["integral_percent"].value
        ax.fill_between(x, sp["fit_baseline"], curve, color=_colour(names.get(comp.label, "")),
                        alpha=0.45, lw=0,
                        label=f"{comp.label} {comp.assignment} {shift:.1f} ppm ({pct:.0f}%)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_ylabel("intensity")
    ax.set_yticks([])
    axr.plot(x, sp["residual"], color="black", lw=0.7)
    axr.axhline(0, color="0.6", lw=0.7)
    axr.set_ylabel("residual")
    axr.set_yticks([])
    axr.set_xlabel("chemical shift (ppm)")
    axr.set_xlim(x.max(), x.min())
    return fig


def t1_figure(result: Result) -> Figure:
    """Each component's recovered integral against delay (log axis) with its fitted curve."""
    rec, mod = result.curves["recovery"], result.curves["model"]
    names = result.extras.get("assignments", {})
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for comp in result.components:
        amp = rec[comp.label]
        top = float(np.max(np.abs(amp))) or 1.0
        colour = _colour(names.get(comp.label, ""))
        t1 = comp.quantities["t1_s"].value
        label = f"{comp.assignment} ({'T1 n/a' if t1 is None else f'T1 {t1:.3g} s'})"
        ax.errorbar(rec["delay_s"], amp / top, yerr=rec[f"{comp.label}_err"] / top, fmt="o",
                    ms=3, color=colour, label=label)
        if comp.label in mod:
            ax.plot(mod["delay_s"], mod[comp.label] / top, color=colour, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("recovery delay (s)")
    ax.set_ylabel("normalised integral")
    ax.legend(fontsize=7, frameon=False)
    return fig


def layer_figure(result: Result) -> Figure:
    """Concentric circles: core, middle and surface layers with their depths (nm)."""
    fr = result.extras["fractions"]
    diameter = result.extras.get("diameter_nm")
    if diameter is None and "nmr_diameter_nm" in result.quantities:
        diameter = result.quantities["nmr_diameter_nm"].value
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    r = (diameter or 2.0) / 2.0
    radii = [r, r * (fr["core"] + fr["middle"]) ** (1 / 3), r * fr["core"] ** (1 / 3)]
    for radius, name in zip(radii, ("surface", "middle", "core")):
        ax.add_patch(Circle((0, 0), radius, color=_colour(name), alpha=0.8,
                            label=f"{name} {100 * fr[name]:.0f}%"))
    q = result.quantities
    for key, rad, ty in (("middle_boundary_depth_nm", radii[1], 0.85),
                         ("core_boundary_depth_nm", radii[2], 0.45)):
        if key in q and q[key].value is not None and diameter:
            ax.annotate(f"{q[key].value:.2f} nm deep", xy=(rad, 0), xytext=(r * 1.05, r * ty),
                        fontsize=8, arrowprops={"arrowstyle": "-", "lw": 0.6})
    ax.set_xlim(-r * 1.1, r * 1.6)
    ax.set_ylim(-r * 1.1, r * 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"d = {diameter:.1f} nm" if diameter else "relative radii", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig


def quantify_figure(result: Result) -> Figure:
    """Sample and reference spectra (normalised by NS x RG) with the integrated regions."""
    fig = Figure(figsize=(8, 4.2))
    axes = fig.subplots(1, 2)
    for ax, role in zip(axes, ("sample", "reference")):
        curve = result.curves[role]
        ax.plot(curve["ppm"], curve["data"], color="black", lw=0.8)
        lo, hi = result.fit[f"{role}_range_ppm"]
        ax.axvspan(lo, hi, color="tab:blue", alpha=0.2, label="integrated")
        ax.set_xlim(float(np.max(curve["ppm"])), float(np.min(curve["ppm"])))
        ax.set_xlabel("δ (ppm)")
        ax.set_title(f"{role} (integral {result.fit[f'{role}_integral']:.3g})", fontsize=9)
        ax.set_yticks([])
    axes[0].set_ylabel("intensity / (NS·RG)")
    wt = result.quantities["ligand_wt_percent"]
    fig.suptitle(f"ligand {wt.value:.3g} ± {wt.stderr:.2g} wt%", fontsize=10)
    fig.tight_layout()
    return fig
