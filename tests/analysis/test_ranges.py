"""Ranges are named one way ([low, high] in `<quantity>_range_<unit>`); the old min/max
names of stored runs and scripts are still accepted."""
import pytest

from analysis.registry import get_routine
from analysis.result import InputError


@pytest.mark.parametrize("routine, old, new", [
    ("pl.peak", ("wavelength_min_nm", "wavelength_max_nm"), "wavelength_range_nm"),
    ("saxs.size_distribution", ("q_min_per_nm", "q_max_per_nm"), "q_range_per_nm"),
])
def test_old_min_max_names_become_the_range(routine, old, new):
    r = get_routine(routine)
    assert r.coerce_params({old[0]: "480", old[1]: 540.0})[new] == [480.0, 540.0]
    assert r.coerce_params({old[0]: 0.2})[new] == [0.2, None]
    # A stored run's full parameter set (old names with their None defaults) still re-fits.
    assert r.coerce_params({old[0]: None, old[1]: None})[new] is None
    assert old[0] not in r.parameters()


def test_a_bad_range_says_what_a_range_is(tmp_path):
    from analysis.pl import peak
    from analysis.synthetic.pl import pl_spectrum

    with pytest.raises(InputError, match=r"wavelength_range_nm must be two numbers \[low, high\]"):
        peak(pl_spectrum("NC8.3"), wavelength_range_nm=[480])
    reversed_ends = peak(pl_spectrum("NC8.3"), wavelength_range_nm=[540, 480])
    assert 490 < reversed_ends.quantities["peak_wavelength_nm"].value < 530


def test_a_new_range_wins_over_an_old_stored_end():
    r = get_routine("saxs.size_distribution")
    merged = {"q_min_per_nm": 0.2, "q_max_per_nm": None, "q_range_per_nm": "[0.1, 2.0]"}
    assert r.coerce_params(merged)["q_range_per_nm"] == [0.1, 2.0]
