"""Numbers as a chemist reads them (labtrack.core.numbers, labtrack.analyses.presentation):
a table of value / uncertainty / unit -> text."""
from __future__ import annotations

import pytest

from labtrack.core.numbers import number_text, si_scaled, value_text


@pytest.mark.parametrize("value, stderr, unit, kind, text", [
    # two significant figures of the error, the value to the same decimal
    (8.37123, 0.0912, "nm", "measure", "8.371 ± 0.091 nm"),
    (2.435752, 0.000047, "eV", "measure", "2.435752 ± 0.000047 eV"),
    (0.39, 0.02, "%", "measure", "0.390 ± 0.020 %"),
    (120.4, 13.0, "Hz", "measure", "120 ± 13 Hz"),
    (1234.0, 160.0, "Hz", "measure", "1234 ± 160 Hz"),
    # SI prefixes where natural
    (0.02007, 0.0003, "s", "measure", "20.07 ± 0.30 ms"),
    (0.02007, None, "s", "measure", "20.07 ms"),
    (3.2, 0.41, "s", "measure", "3.20 ± 0.41 s"),
    (4.2e-5, 1e-6, "s", "measure", "42.0 ± 1.0 µs"),
    (0.0853, 0.0031, "eV", "measure", "85.3 ± 3.1 meV"),
    (85.3, 3.1, "meV", "measure", "85.3 ± 3.1 meV"),
    (1520.0, None, "meV", "measure", "1.52 eV"),
    # units as printed
    (4.5, 0.2, "percent", "measure", "4.50 ± 0.20 %"),
    (5.874, 0.004, "angstrom", "measure", "5.8740 ± 0.0040 Å"),
    (24.18, None, "deg", "measure", "24.18°"),
    # words and counts
    (False, None, "", "flag", "no"),
    (True, None, "", "flag", "yes"),
    (12.0, None, "", "count", "12"),
    (None, None, "nm", "measure", "—"),
    ([], None, "", "list", "none"),
    ([{"hkl": "(102)", "two_theta_deg": 24.183, "relative_intensity_percent": 4.53}], None, "", "list",
     "(102) 24.18° 4.53%"),
    (0.0, None, "s", "measure", "0 s"),
])
def test_value_text(value, stderr, unit, kind, text):
    assert value_text(value, stderr, unit, kind) == text


def test_no_error_keeps_four_significant_figures():
    assert number_text(0.0200712) == "0.02007"
    assert number_text(123456.0) == "1.23e+05"


def test_units_without_a_natural_prefix_are_left_alone():
    assert si_scaled(8.3, 0.1, "nm") == (8.3, 0.1, "nm")
    assert si_scaled(0.02, None, "ppm") == (0.02, None, "ppm")


@pytest.mark.parametrize("routine, name, label", [
    ("nmr.t1", "t1_s", "T1"),
    ("saxs.size_distribution", "mean_diameter_nm", "Mean diameter"),
    ("xrd.scherrer", "size_lower_bound", "Size is a lower bound"),
    ("xrd.scherrer", "volume_weighted_mean_diameter_nm", "Volume-weighted mean diameter"),
    ("xps.atomic_ratios", "cs_pb", "Cs/Pb atomic ratio"),
    ("xps.atomic_ratios", "at_percent_br", "Br atomic fraction"),
    ("no.such_routine", "n_widgets", "Widgets (count)"),
    ("no.such_routine", "mystery_width_nm", "Mystery width"),
])
def test_labels_are_declared_once_and_read_through_the_engine(routine, name, label):
    from labtrack.analyses.presentation import name_label

    assert name_label(routine, name) == label


def test_a_flag_quantity_reads_as_a_word():
    from labtrack.analyses.models import AnalysisRun, Quantity
    from labtrack.analyses.presentation import quantity_label, quantity_text

    q = Quantity(run=AnalysisRun(routine="xrd.scherrer"), name="size_lower_bound", value_json=False)
    assert (quantity_label(q), quantity_text(q)) == ("Size is a lower bound", "no")
    pl = Quantity(run=AnalysisRun(routine="pl.peak"), name="fwhm_nm", value=17.0, unit="nm")
    assert quantity_label(pl) == "Emission FWHM"  # the routine's own label wins
    t1 = Quantity(run=AnalysisRun(routine="nmr.t1"), name="t1_s", value=0.02007, stderr=0.00031, unit="s",
                  component_label="c2", assignment="surface")
    assert (quantity_label(t1), quantity_text(t1)) == ("c2 (surface) · T1", "20.07 ± 0.31 ms")
