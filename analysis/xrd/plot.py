"""Figures for the XRD routines (matplotlib Figure objects, no pyplot state)."""
from __future__ import annotations

from matplotlib.figure import Figure

from analysis.result import Result


def plot_scherrer(result: Result) -> Figure:
    """Pattern, background and fit, with hkl labels at the fitted peaks and dashed lines
    at the orthorhombic marker positions."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    c = result.curves["pattern"]
    ax.plot(c["two_theta_deg"], c["intensity"], ".", ms=2, color="0.35", label="data")
    ax.plot(c["two_theta_deg"], c["background"], "-", lw=1, color="tab:green", label="background")
    ax.plot(c["two_theta_deg"], c["fit"], "-", lw=1.2, color="tab:red", label="fit")
    top = float(max(c["intensity"]))
    for mark in result.extras.get("marker_positions", []):
        ax.axvline(mark["two_theta_deg"], ls="--", lw=0.8, color="tab:purple")
        ax.text(mark["two_theta_deg"], top * 1.02, f"o{mark['hkl']}", rotation=90, fontsize=7,
                color="tab:purple", ha="right", va="top")
    for peak in result.extras.get("peaks", []):
        if peak["label"]:
            ax.annotate(peak["label"], (peak["two_theta_deg"], peak["height"]), xytext=(0, 4),
                        textcoords="offset points", ha="center", fontsize=7, rotation=90)
    size = result.quantities.get("crystallite_size_nm")
    if size is not None and size.value is not None:
        err = f" ± {size.stderr:.1f}" if size.stderr is not None else ""
        bound = result.quantities.get("size_lower_bound")
        if bound is not None and bound.value:
            ax.set_title(f"Scherrer size > 100 nm (estimate {size.value:.0f}{err} nm)", fontsize=10)
        else:
            ax.set_title(f"Scherrer size {size.value:.1f}{err} nm", fontsize=10)
    ax.set_xlabel("2θ (°)")
    ax.set_ylabel("intensity (counts)")
    ax.set_ylim(top=top * 1.15)
    ax.legend(fontsize=8, loc="upper right")
    return fig


def plot_profile(result: Result) -> Figure:
    """Instrument FWHM of each standard reflection with the fitted Caglioti curve."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    pts, curve = result.curves["fwhm"], result.curves["caglioti"]
    ax.errorbar(pts["two_theta_deg"], pts["fwhm_deg"], yerr=pts["fwhm_err_deg"], fmt="o",
                color="tab:blue", label="standard reflections")
    ax.plot(curve["two_theta_deg"], curve["fwhm_deg"], "-", color="tab:red",
            label="Caglioti: FWHM² = U tan²θ + V tanθ + W")
    for comp in result.components:
        ax.annotate(comp.quantities["hkl"].value, (comp.quantities["two_theta_deg"].value,
                    comp.quantities["fwhm_deg"].value), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlabel("2θ (°)")
    ax.set_ylabel("instrument FWHM (°)")
    ax.legend(fontsize=8)
    return fig
