"""xps.atomic_ratios on synthetic spectra built from the paper's Figure 5(a) ratios."""
import json
import subprocess
import sys

import pytest

from analysis.result import InputError
from analysis.runner import render_figure, run_files
from analysis.synthetic.paper import XPS_RATIOS
from analysis.synthetic.xps import CHARGING_EV, write_vamas, xps_spectra
from analysis.xps import atomic_ratios, plot_atomic_ratios
from analysis.xps.lines import KRATOS_RSF
from tests.analysis.real_files import real_file

CODES = list(XPS_RATIOS)
REGULAR_VMS = real_file("xps/regular.vms")


def _rel(got: float, want: float) -> float:
    return abs(got / want - 1)


@pytest.mark.parametrize("code", CODES)
def test_kratos_vamas_gives_paper_ratios(tmp_path, code):
    seed = CODES.index(code)
    path = write_vamas(tmp_path / f"{code}.vms", code, seed=seed)
    q = run_files("xps.atomic_ratios", [str(path)]).quantities
    truth = XPS_RATIOS[code]
    assert _rel(q["cs_pb"].value, truth.cs_pb) < 0.04
    assert _rel(q["br_pb"].value, truth.br_pb) < 0.04
    assert _rel(q["n_pb"].value, truth.n_pb) < 0.15


@pytest.mark.parametrize("code", CODES)
def test_fitted_areas_give_paper_ratios(code):
    q = atomic_ratios(xps_spectra(code, seed=10 + CODES.index(code)), area_method="fit").quantities
    truth = XPS_RATIOS[code]
    assert _rel(q["cs_pb"].value, truth.cs_pb) < 0.04
    assert _rel(q["br_pb"].value, truth.br_pb) < 0.04
    assert _rel(q["n_pb"].value, truth.n_pb) < 0.15


def test_irregular_binding_energy_file_gives_the_same_ratios(tmp_path):
    regular = write_vamas(tmp_path / "r.vms", "NC9.9", seed=4)
    irregular = write_vamas(tmp_path / "i.vms", "NC9.9", seed=4, scan_mode="IRREGULAR",
                            abscissa="binding", flavour="casaxps")
    a = run_files("xps.atomic_ratios", [str(regular)]).quantities
    b = run_files("xps.atomic_ratios", [str(irregular)]).quantities
    assert b["cs_pb"].value == pytest.approx(a["cs_pb"].value, rel=1e-9)
    assert b["br_pb"].value == pytest.approx(a["br_pb"].value, rel=1e-9)


def test_c1s_correction_removes_the_charging_shift():
    result = atomic_ratios(xps_spectra("NC8.3", seed=5))
    assert result.quantities["charge_shift_ev"].value == pytest.approx(-CHARGING_EV, abs=0.03)
    pb = next(c for c in result.components if c.label == "Pb 4f")
    assert pb.quantities["position_ev"].value == pytest.approx(138.4, abs=0.05)
    assert pb.quantities["position_ev"].stderr < 0.05


def test_without_c1s_it_warns_and_uses_the_given_shift():
    spectra = xps_spectra("NC8.3", seed=5, include_carbon=False)
    uncorrected = atomic_ratios(spectra)
    assert any("no fitted C 1s" in w for w in uncorrected.warnings)
    pb = next(c for c in uncorrected.components if c.label == "Pb 4f")
    assert pb.quantities["position_ev"].value == pytest.approx(138.4 + CHARGING_EV, abs=0.05)
    given = atomic_ratios(spectra, charge_shift_ev=-1.3)
    pb = next(c for c in given.components if c.label == "Pb 4f")
    assert pb.quantities["position_ev"].value == pytest.approx(138.4, abs=0.05)


def test_rsf_parameter_replaces_one_entry_of_the_scale():
    spectra = xps_spectra("NC7.7", seed=6)
    default = atomic_ratios(spectra)
    halved = atomic_ratios(spectra, rsf={"Cs 3d": KRATOS_RSF["Cs 3d"] / 2})
    assert halved.quantities["cs_pb"].value == pytest.approx(2 * default.quantities["cs_pb"].value)
    assert halved.quantities["br_pb"].value == pytest.approx(default.quantities["br_pb"].value)
    cs = next(c for c in halved.components if c.label == "Cs 3d")
    assert cs.quantities["rsf"].value == pytest.approx(KRATOS_RSF["Cs 3d"] / 2)


def test_scale_without_a_table_refuses_partial_rsfs():
    with pytest.raises(InputError, match="rsf_scale 'scofield' has no built-in table"):
        atomic_ratios(xps_spectra("NC7.7"), rsf_scale="scofield", rsf={"Cs 3d": 1.0})


def test_ratio_uncertainty_reflects_counting_noise():
    q = atomic_ratios(xps_spectra("NC10.4", seed=7)).quantities
    assert 0.002 < q["cs_pb"].stderr / q["cs_pb"].value < 0.05
    assert 0.01 < q["n_pb"].stderr / q["n_pb"].value < 0.15


def test_atomic_percentages_sum_to_100():
    q = atomic_ratios(xps_spectra("NC6.4", seed=8)).quantities
    total = sum(v.value for k, v in q.items() if k.startswith("at_percent_"))
    assert total == pytest.approx(100.0)
    assert {"at_percent_cs", "at_percent_pb", "at_percent_br", "at_percent_n"} <= set(q)


def test_tougaard_background_runs_and_keeps_doublet_ratio_sensible():
    q = atomic_ratios(xps_spectra("NC8.3", seed=9), background="tougaard").quantities
    assert 0.5 < q["br_pb"].value / XPS_RATIOS["NC8.3"].br_pb < 1.5


def test_unknown_area_method_is_refused():
    with pytest.raises(InputError, match="area_method must be"):
        atomic_ratios(xps_spectra("NC8.3"), area_method="guess")


@pytest.mark.skipif(not REGULAR_VMS.exists(), reason="shared regular.vms not present")
def test_survey_only_file_has_no_core_levels():
    with pytest.raises(InputError, match="no core-level regions"):
        run_files("xps.atomic_ratios", [str(REGULAR_VMS)])


def test_figure_has_one_panel_per_region(tmp_path):
    path = write_vamas(tmp_path / "f.vms", "NC12.8")
    result = run_files("xps.atomic_ratios", [str(path)])
    fig = plot_atomic_ratios(result)
    assert sum(ax.get_visible() for ax in fig.axes) == 5
    assert render_figure(result, "png")[:4] == b"\x89PNG"


def test_cli_json_has_contract_names(tmp_path):
    path = write_vamas(tmp_path / "c.vms", "NC8.9")
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "xps.atomic_ratios",
                           str(path), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"cs_pb", "br_pb", "n_pb"} <= set(out["quantities"])
    for comp in out["components"]:
        assert {"area", "rsf", "position_ev"} <= set(comp["quantities"])


def test_component_rsfs_are_refused_because_areas_cover_both_components():
    with pytest.raises(InputError, match="whole lines such as 'Cs 3d'"):
        atomic_ratios(xps_spectra("NC7.7"), rsf={"Cs 3d5/2": 7.0})
