"""Stored curve arrays, decimation and normalisation for the compare view (analysis/traces.py)."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.result import InputError
from analysis.traces import minmax_decimate, normalised, pack_curves, trace_spec, unpack_curves


def test_decimation_bounds_points_and_keeps_a_one_point_peak():
    x = np.linspace(-300, 500, 100_001)
    y = np.random.default_rng(1).normal(0, 0.01, x.size)
    y[61_234] = 5.0   # a spike one point wide
    y[10_000] = -3.0  # and a dip
    xd, (yd,) = minmax_decimate(x, [y], 4000)
    assert len(xd) <= 4000
    assert yd.max() == 5.0 and yd.min() == -3.0
    assert np.all(np.diff(xd) > 0)  # still in x order


def test_decimation_takes_every_series_at_the_same_points():
    x = np.arange(10_000.0)
    main, other = np.sin(x / 50), np.cos(x / 50)
    xd, (md, od) = minmax_decimate(x, [main, other], 1000)
    assert np.allclose(od, np.cos(xd / 50))
    assert len(minmax_decimate(x[:500], [main[:500]], 1000)[0]) == 500  # short traces untouched


@pytest.mark.parametrize("how, expected", [("max", 1.0), ("none", 4.0)])
def test_normalised_to_maximum_or_not_at_all(how, expected):
    x = np.linspace(0, 10, 1001)
    y = 4.0 * np.exp(-((x - 5) ** 2))
    assert normalised(x, y, how)[0].max() == pytest.approx(expected)


def test_normalised_to_area_whatever_the_direction_of_x():
    x = np.linspace(10, 0, 2001)  # ppm axes run downwards
    y = 3.0 * np.exp(-((x - 5) ** 2) / 0.5)
    scaled, divisor = normalised(x, y, "area")
    assert divisor == pytest.approx(3.0 * np.sqrt(0.5 * np.pi), rel=1e-3)
    order = np.argsort(x)
    assert np.trapezoid(scaled[order], x[order]) == pytest.approx(1.0, rel=1e-6)


def test_unknown_normalisation_is_named():
    with pytest.raises(InputError, match="max, area or none"):
        normalised(np.arange(3.0), np.arange(3.0), "median")


def test_packed_curves_read_back_as_stored_and_only_those_asked_for():
    curves = {"full": {"ppm": np.linspace(300, -100, 8192), "data": np.random.default_rng(2).normal(size=8192)},
              "spectrum": {"ppm": np.linspace(200, 50, 100), "fit": np.ones(100)}}
    blob = pack_curves(curves)
    assert len(blob) < 8192 * 2 * 4 + 100 * 2 * 4 + 2000  # float32: 4 bytes a point
    back = unpack_curves(blob, {"full"})
    assert set(back) == {"full"}
    assert np.allclose(back["full"]["ppm"], curves["full"]["ppm"], rtol=1e-6)


def test_each_technique_declares_its_natural_axes():
    assert trace_spec("nmr.deconvolve").axis(None).x_reversed
    saxs = trace_spec("saxs.size_distribution").axis(None)
    assert saxs.log_x and saxs.log_y
    assert [a.key for a in trace_spec("pl.peak").axes] == ["wavelength", "energy"]
    with pytest.raises(InputError, match="wavelength, energy"):
        trace_spec("pl.peak").axis("ppm")
