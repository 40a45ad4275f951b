"""Weak orthorhombic (Pnma) markers in synthetic Kα-doublet patterns: every significant one
reported with its area and height relative to the strongest reflection; none invented.

The paper calls markers at this level "just visible" and reads them as evidence of the
orthorhombic phase; sizes span its NCs (7.7-12.8 nm) and the bulk powder (270 nm)."""
import pytest

from analysis.synthetic.paper import BULK_CRYSTALLITE_NM
from analysis.synthetic.xrd import powder_pattern
from analysis.xrd import scherrer

ALL_MARKERS = {"(102)", "(131)", "(221)"}
SIZES = [7.7, 10.4, 12.8, BULK_CRYSTALLITE_NM]


def markers(result):
    return {m["hkl"]: m for m in result.quantities["orthorhombic_markers"].value}


@pytest.mark.parametrize("size_nm", SIZES)
@pytest.mark.parametrize("percent", [1.5, 2.0, 2.5, 3.0])
def test_markers_at_1_5_to_3_percent_are_reported_with_intensities(size_nm, percent):
    pattern = powder_pattern("x", size_nm=size_nm, markers_percent=percent, kalpha2=True, seed=31)
    result = scherrer(pattern, instrument_fwhm_deg=0.06)
    found = markers(result)
    assert set(found) == ALL_MARKERS
    for m in found.values():
        # Within 0.75 percentage points: at 7.7 nm (221) sits in the tail of the strongest
        # reflection (200) and reads 0.2-0.6 low (profile-shape error); elsewhere within
        # +-0.4. A chemist reads these as "just visible", not as a phase ratio.
        assert m["relative_intensity_percent"] == pytest.approx(percent, abs=0.75), m
        # Same crystallites, same width: heights relative to the strongest peak track areas.
        assert m["relative_height_percent"] == pytest.approx(m["relative_intensity_percent"], rel=0.35)
        assert m["significance"] > 3 and m["area"] > 3 * m["area_err"]
    if percent <= 2.5:   # at exactly the 3 % threshold the flag may go either way
        assert result.quantities["orthorhombic_phase_evident"].value is False
    comps = {c.assignment for c in result.components}
    assert {f"orthorhombic {h}" for h in ALL_MARKERS} <= comps


@pytest.mark.parametrize("size_nm", SIZES)
@pytest.mark.parametrize("seed", [41, 42, 43])
def test_no_markers_are_reported_on_a_pattern_without_them(size_nm, seed):
    result = scherrer(powder_pattern("x", size_nm=size_nm, markers_percent=0.0, seed=seed),
                      instrument_fwhm_deg=0.06)
    assert result.quantities["orthorhombic_markers"].value == []
    assert result.quantities["orthorhombic_phase_evident"].value is False
    assert result.quantities["orthorhombic_marker_max_percent"].value is None
    assert not any("orthorhombic" in w for w in result.warnings)


def test_weak_markers_are_named_in_a_warning_below_the_flag_threshold():
    result = scherrer(powder_pattern("NC10.4", markers_percent=2.0, seed=32), instrument_fwhm_deg=0.06)
    assert result.quantities["orthorhombic_phase_evident"].value is False
    assert sum("weak orthorhombic" in w and "below the 3%" in w for w in result.warnings) == 3


def test_markers_are_not_evaluated_when_reflections_are_too_broad():
    result = scherrer(powder_pattern("x", size_nm=5.0, markers_percent=2.0, seed=33), instrument_fwhm_deg=0.06)
    assert result.quantities["orthorhombic_markers"].value == []
    assert any("too broad to tell orthorhombic markers" in w for w in result.warnings)
