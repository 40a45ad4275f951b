"""Figures and CSV of a study quantity: results of record against age, the fitted trend
with its 95 % confidence band, the threshold and the predicted crossing."""
from __future__ import annotations

import csv
import io

from labtrack.core.naturalsort import natural_key
from labtrack.ageing.selectors import QuantitySeries

DAYS_PER_MONTH = 365.25 / 12.0


def series_figure(series: list[QuantitySeries], fmt: str = "svg") -> bytes:
    """One panel: each sample's points, trend line and band, and its limit (dashed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.0))
    ax = fig.subplots()
    colours = ["#1f6f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d35400"]
    plotted = False
    for i, s in enumerate(series):
        colour = colours[i % len(colours)]
        if s.points:
            plotted = True
            ax.errorbar([p["age_days"] / DAYS_PER_MONTH for p in s.points], [p["value"] for p in s.points],
                        yerr=[p["stderr"] or 0 for p in s.points], fmt="o", color=colour, capsize=3, label=s.sample_code)
        a = s.assessment
        if a.get("band"):
            months = [t / DAYS_PER_MONTH for t in a["band"]["age_days"]]
            ax.plot(months, a["band"]["fit"], color=colour, lw=1.2,
                    label=f"{s.sample_code} {a['fit']['model']} fit")
            ax.fill_between(months, a["band"]["lower"], a["band"]["upper"], color=colour, alpha=0.15, lw=0)
        if a.get("limit") is not None:
            ax.axhline(a["limit"], color=colour, ls="--", lw=0.9)
    q = series[0].quantity if series else None
    ax.set_xlabel("sample age (months)")
    if q is not None:
        ax.set_ylabel(f"{q.label} ({q.unit})" if q.unit else q.label)
        ax.set_title(f"{q.label}: threshold {q.threshold_text} (dashed)", fontsize=10)
    if plotted:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no accepted results yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    return buf.getvalue()


def series_csv(series: list[QuantitySeries]) -> str:
    """Every result of record of the quantity, one row each, with change from t0."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sample", "age_days", "value", "stderr", "unit", "change_from_t0", "change_stderr",
                     "significant", "run", "reviewer"])
    for s in series:
        flagged = {f["index"] for f in s.assessment["flags"]}
        changes = s.assessment["changes"]
        for i, p in enumerate(s.points):
            change = changes[i] if i < len(changes) else {}
            writer.writerow([s.sample_code, round(p["age_days"], 3), p["value"], p["stderr"] if p["stderr"] is not None else "",
                             s.quantity.unit, change.get("change", ""), change.get("stderr", ""), i in flagged,
                             p["run"].pk, p["reviewer"] or ""])
    return out.getvalue()


def spectra_figure(spectra: list[dict], sample_code: str, fmt: str = "svg") -> bytes:
    """Fresh above aged: each spectrum normalised to its maximum, with the fit and the
    deconvolved components shaded and named by assignment; ppm decreasing to the right
    (the NMR convention), as in the paper's Figure 3c."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.subplots()
    palette = {"bulk": "#c0392b", "Cs4PbBr6": "#8e44ad", "core": "#1f6f8b", "middle": "#2e8b57",
               "surface": "#d35400", "ligand-adjacent": "#7f8c8d"}
    for row, spectrum in enumerate(reversed(spectra)):  # the aged one at the bottom
        c = spectrum["curves"]
        if not c.get("ppm"):
            continue
        data = c["data"]
        scale = max(max(data), 1e-12)
        offset = 1.15 * row
        ax.plot(c["ppm"], [offset + v / scale for v in data], color="#222", lw=0.7)
        ax.plot(c["ppm"], [offset + v / scale for v in c.get("fit", data)], color="#555", lw=0.9, ls="--")
        base = c.get("fit_baseline") or [0.0] * len(data)
        for label, assignment in sorted(spectrum["assignments"].items(), key=lambda kv: natural_key(kv[0])):
            if label not in c:
                continue
            ax.fill_between(c["ppm"], [offset + b / scale for b in base], [offset + v / scale for v in c[label]],
                            color=palette.get(assignment, "#95a5a6"), alpha=0.35, lw=0,
                            label=assignment if row == 0 else None)
        ax.text(max(c["ppm"]), offset + 0.85, spectrum["label"], fontsize=9, ha="left")
    if not spectra:
        ax.text(0.5, 0.5, "no accepted 133Cs deconvolution yet", ha="center", va="center", transform=ax.transAxes)
    ax.invert_xaxis()
    ax.set_yticks([])
    ax.set_xlabel("133Cs shift (ppm)")
    ax.set_title(f"{sample_code}: fresh and aged 133Cs spectra with components", fontsize=10)
    if spectra:
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    return buf.getvalue()


def spectra_csv(spectra: list[dict]) -> str:
    """Long format: spectrum, run, age_days, curve (data, fit, or a component's
    assignment), ppm, intensity."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["spectrum", "run", "age_days", "curve", "ppm", "intensity"])
    for s in spectra:
        c = s["curves"]
        names = [("data", "data"), ("fit", "fit")] + [(label, f"{label} {a}") for label, a in
                                                     sorted(s["assignments"].items(), key=lambda kv: natural_key(kv[0]))]
        for key, name in names:
            for ppm, value in zip(c.get("ppm", []), c.get(key, [])):
                writer.writerow([s["label"], s["run_id"], round(s["age_days"], 3), name, ppm, value])
    return out.getvalue()
