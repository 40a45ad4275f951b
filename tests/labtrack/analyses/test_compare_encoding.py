"""The compare view's array encoding: the precision a plot needs, nulls, arrays spliced once."""
from __future__ import annotations

import json

import numpy as np
import pytest

from labtrack.analyses import compare_encoding as enc


def test_linear_values_keep_five_figures_of_the_trace_and_nan_inf_become_null():
    y = np.array([1.0, 0.123456789, -2e-7, np.nan, np.inf, -np.inf, 0.5])
    arr = enc.plot_array(y, significant=5)
    assert arr.decimals == 4
    assert json.loads(enc.array_json(arr)) == [1.0, 0.1235, 0.0, None, None, None, 0.5]
    # against a taller trace, a small component keeps places relative to the trace, not itself
    assert enc.plot_array(np.array([0.002, 0.00123456]), significant=5, scale=1.0).decimals == 4
    assert enc.plot_array(np.array([420.0, -280.123456]), significant=6).decimals == 3


def test_log_axes_keep_significant_figures_of_each_value():
    q_intensity = np.array([3.2e4, 1.234567e-3, 5.5e-9, np.nan])
    assert json.loads(enc.array_json(enc.plot_array(q_intensity, significant=5, log=True))) == [
        32000.0, pytest.approx(1.2346e-3, rel=1e-12), pytest.approx(5.5e-9, rel=1e-12), None]


def test_too_small_a_scale_for_fixed_decimals_falls_back_to_significant_figures():
    tiny = np.array([1.23456e-20, 3e-21])
    assert json.loads(enc.array_json(enc.plot_array(tiny, significant=3))) == [
        pytest.approx(1.23e-20, rel=1e-12), pytest.approx(3e-21, rel=1e-12)]


def test_dumps_splices_each_array_once_and_user_text_cannot_imitate_a_placeholder():
    shared = enc.plot_array(np.linspace(0, 1, 5), significant=3)
    data = {"label": '"0:0" NC8.3 — δ', "a": shared, "b": [shared, {"c": enc.plot_array(np.array([2.5]), significant=2)}]}
    out = json.loads(enc.dumps(data))
    assert out == {"label": '"0:0" NC8.3 — δ', "a": [0.0, 0.25, 0.5, 0.75, 1.0],
                   "b": [[0.0, 0.25, 0.5, 0.75, 1.0], {"c": [2.5]}]}


def test_csv_rows_carry_the_guarded_lead_cells_and_empty_cells_for_gaps():
    x = enc.plot_array(np.array([1.0, 2.0]), significant=3)
    y = enc.plot_array(np.array([0.5, np.nan]), significant=3)
    text = "".join(enc.csv_chunks(["batch", "x", "y"], [(["=cmd()", 7], x, y)]))
    assert text.splitlines() == ["batch,x,y", "'=cmd(),7,1.0,0.5", "'=cmd(),7,2.0,"]
