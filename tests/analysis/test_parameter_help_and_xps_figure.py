"""Issue 12 small items in analysis/: every routine parameter has its own help sentence
(the re-fit form shows it), XPS figures have legible legends, percentages say "%"."""
from __future__ import annotations

from analysis.registry import all_routines
from analysis.synthetic.xps import xps_spectra
from analysis.xps import atomic_ratios, plot_atomic_ratios


def test_every_parameter_has_its_own_help():
    for name, routine in all_routines().items():
        helps = {p: spec["help"] for p, spec in routine.parameters().items()}
        assert all(helps.values()), f"{name}: no help for {[p for p, h in helps.items() if not h]}"
        if len(helps) > 1:
            assert len(set(helps.values())) == len(helps), f"{name}: two parameters share one help text"


def test_xps_legends_and_labels_are_legible_and_percent_is_a_symbol():
    result = atomic_ratios(xps_spectra("NC8.3", seed=1))
    fig = plot_atomic_ratios(result)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_visible() and ax.get_legend()]
    assert legends
    for legend in legends:
        assert min(t.get_fontsize() for t in legend.get_texts()) >= 9
    assert all(q.unit == "%" for k, q in result.quantities.items() if k.startswith("at_percent_"))
