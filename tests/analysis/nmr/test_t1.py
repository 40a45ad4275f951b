"""nmr.t1 on synthetic saturation-recovery series (Table 2 T1 values)."""
import numpy as np
import pytest

from analysis.nmr.t1 import t1
from analysis.result import InputError
from analysis.synthetic import nmr as syn
from analysis.synthetic import paper


@pytest.mark.parametrize("code", list(paper.TABLE2))
def test_table2_t1_recovered_per_component(code):
    result = t1(syn.cs133_saturation_recovery(code, seed=21))
    got = {c.assignment: c.quantities["t1_s"].value for c in result.components}
    for line in paper.TABLE2[code]:
        if line.t1_s is None:
            continue
        tol = 0.5 if line.t1_s < 0.1 else 0.2 if line.assignment in ("core", "bulk") else 0.1
        assert got[line.assignment] == pytest.approx(line.t1_s, rel=tol), line


def test_single_29si_line_t1():
    (comp,) = t1(syn.single_line_series(t1_s=20.0, seed=2)).components
    assert comp.quantities["t1_s"].value == pytest.approx(20.0, rel=0.05)
    assert comp.quantities["t1_s"].stderr > 0


def test_t1_far_below_the_shortest_delay_is_not_invented():
    series = syn.single_line_series(t1_s=0.0005, delays_s=syn.default_delays(10.0), seed=3)
    result = t1(series)
    assert result.components[0].quantities["t1_s"].value is None
    assert any("recovered fully by the shortest delay" in w for w in result.warnings)


def test_t1_far_beyond_the_longest_delay_is_not_invented():
    series = syn.single_line_series(t1_s=500.0, delays_s=list(np.geomspace(0.01, 2.0, 10)),
                                    snr=2000, seed=4)
    result = t1(series)
    assert result.components[0].quantities["t1_s"].value is None
    assert any("T1 not determined" in w for w in result.warnings)


def test_stretched_model_reports_beta_near_one_for_exponential_data():
    result = t1(syn.cs133_saturation_recovery("NC8.3", seed=5), model="stretched")
    middle = next(c for c in result.components if c.assignment == "middle")
    assert middle.quantities["beta"].value == pytest.approx(1.0, abs=0.1)
    assert middle.quantities["t1_s"].value == pytest.approx(8.6, rel=0.1)


def test_rows_and_delays_must_match():
    series = syn.single_line_series(seed=6)
    series.delays_s = series.delays_s[:-1]
    with pytest.raises(InputError, match="rows but 15 delays"):
        t1(series)


def test_unknown_model_is_refused():
    with pytest.raises(InputError, match="model must be one of exponential, stretched"):
        t1(syn.single_line_series(seed=7), model="biexponential")


def test_inversion_recovery_named_by_the_reader_uses_the_inversion_curve():
    series = syn.single_line_series(t1_s=5.0, seed=8, snr=1000)
    full = syn.single_line_series(t1_s=5.0, seed=8, snr=1000, delays_s=[1e4] * 16).intensity
    series.intensity = 2 * series.intensity - full   # I0 (1 - 2 exp(-tau/T1))
    series.metadata["experiment"] = "inversion-recovery"
    (comp,) = t1(series).components
    assert comp.quantities["t1_s"].value == pytest.approx(5.0, rel=0.05)
