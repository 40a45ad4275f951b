"""Selectors behind the pages: which run feeds the key results."""
from __future__ import annotations

from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.analyses.selectors import key_results
from labtrack.analyses.review import run_review
from tests.labtrack.factories import make_succeeded_run


def _by_label(batch):
    return {k.label: k for k in key_results(batch=batch)}


def test_accepted_run_beats_a_newer_pending_one(members, batch):
    accepted = make_succeeded_run(batch, members["chemist"], value=8.1)
    run_review(run=accepted, reviewer=members["analyst"], accept=True)
    make_succeeded_run(batch, members["chemist"], value=9.9)
    saxs = _by_label(batch)["SAXS diameter"]
    assert saxs.run == accepted and saxs.accepted
    assert [q.value for q in saxs.quantities] == [8.1]


def test_rejected_run_is_never_a_key_result(members, batch):
    run = make_succeeded_run(batch, members["chemist"])
    run_review(run=run, reviewer=members["analyst"], accept=False, reason="baseline wrong")
    assert _by_label(batch)["SAXS diameter"].run is None


def _run(batch, user, routine, rows):
    run = AnalysisRun.objects.create(project=batch.project, batch=batch, routine=routine, requested_by=user,
                                     status=RunStatus.SUCCEEDED)
    Quantity.objects.bulk_create(Quantity(run=run, **row) for row in rows)
    return run


def test_xps_ratios_layer_fractions_and_nmr_diameter(members, batch):
    chemist = members["chemist"]
    _run(batch, chemist, "xps.atomic_ratios", [
        {"name": "cs_pb", "value": 1.02, "stderr": 0.05}, {"name": "br_pb", "value": 2.9, "stderr": 0.1},
        {"name": "charge_shift_ev", "value": 0.3, "unit": "eV"}])
    _run(batch, chemist, "nmr.layer_model", [
        {"name": "nmr_diameter_nm", "value": 8.2, "stderr": 0.4, "unit": "nm"},
        {"name": "volume_fraction", "value": 0.42, "component_label": "core"},
        {"name": "volume_fraction", "value": 0.35, "component_label": "middle"}])
    results = _by_label(batch)
    assert [q.name for q in results["XPS ratios"].quantities] == ["cs_pb", "br_pb"]
    layer = results["133Cs layer fractions"].quantities
    assert [(q.name, q.component_label) for q in layer] == [
        ("nmr_diameter_nm", ""), ("volume_fraction", "core"), ("volume_fraction", "middle")]
    assert layer[0].value == 8.2


def test_list_valued_quantities_read_as_text():
    """XRD markers are a list of reflections; a card shows them readably, not as repr."""
    from labtrack.analyses.models import Quantity
    from labtrack.web.templatetags.labtrack_web import quantity_text

    markers = Quantity(name="orthorhombic_markers", value_json=[
        {"hkl": "(102)", "two_theta_deg": 24.183, "relative_intensity_percent": 4.53},
        {"hkl": "(131)", "two_theta_deg": 27.39, "relative_intensity_percent": 3.9}])
    assert quantity_text(markers) == "(102) 24.18° 4.53%; (131) 27.39° 3.9%"
    assert quantity_text(Quantity(name="orthorhombic_markers", value_json=[])) == "none"
