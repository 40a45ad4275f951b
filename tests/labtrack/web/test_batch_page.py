"""The batch page: key results as one table (rows: quantities by technique; columns: samples
and their ages, fresh before aged), the table alone for live refresh, run progress JSON."""
from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from labtrack.analyses.batch_page import key_results_table
from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.analyses.selectors import key_results
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import SAMPLE_PREPARED_AT, make_sample, mark_accepted


def _run(batch, sample, chemist, routine: str, technique: str, quantities: list[dict], *, days: float = 1,
         label: str = "") -> AnalysisRun:
    m = Measurement.objects.create(sample=sample, technique=technique, label=label,
                                   measured_at=(sample.ageing_started_at or sample.prepared_at) + timedelta(days=days))
    run = AnalysisRun.objects.create(project=batch.project, batch=batch, measurement=m, routine=routine,
                                     requested_by=chemist, status=RunStatus.SUCCEEDED)
    Quantity.objects.bulk_create(Quantity(run=run, **q) for q in quantities)
    return run


def _lab(members, batch):
    chemist = members["chemist"]
    powder = make_sample(chemist, batch, code="NC8.3-P")
    aged = make_sample(chemist, batch, code="NC8.3-P-AGED", parent=powder,
                       ageing_started_at=SAMPLE_PREPARED_AT + timedelta(days=2))
    xrd = _run(batch, powder, chemist, "xrd.scherrer", "xrd", [
        {"name": "crystallite_size_nm", "value": 8.41, "stderr": 0.1, "unit": "nm"},
        {"name": "size_lower_bound", "value_json": False, "unit": ""}])
    components = lambda shift, integral: [  # noqa: E731
        {"name": "shift_ppm", "value": shift, "stderr": 0.05, "unit": "ppm", "component_label": "c1", "assignment": "bulk"},
        {"name": "integral_percent", "value": integral, "stderr": 0.4, "unit": "%", "component_label": "c1",
         "assignment": "bulk"}]
    fresh = _run(batch, powder, chemist, "nmr.deconvolve", "nmr", components(119.5, 15.2))
    old = _run(batch, aged, chemist, "nmr.deconvolve", "nmr", components(119.49, 28.3), days=181)
    t1 = _run(batch, powder, chemist, "nmr.t1", "nmr", [
        {"name": "t1_s", "value": 0.01977, "stderr": 0.0003, "unit": "s", "component_label": "c1",
         "assignment": "ligand-adjacent"}])
    mark_accepted(fresh, members["analyst"])
    return {"xrd": xrd, "fresh": fresh, "old": old, "t1": t1}


def test_key_results_read_as_one_table_fresh_then_aged(members, batch):
    runs = _lab(members, batch)
    table = key_results_table(key_results(batch=batch))
    assert [(c.sample_code, c.aged, c.age_text) for c in table.columns] == [
        ("NC8.3-P", False, "1 d"), ("NC8.3-P-AGED", True, "181 d")]
    groups = {g.title: g for g in table.groups}
    shift = next(r for r in groups["NMR deconvolution"].rows if r.label == "bulk · Shift")
    assert [c.text for c in shift.cells] == ["119.500 ± 0.050 ppm", "119.490 ± 0.050 ppm"]
    assert [c.accepted for c in shift.cells] == [True, False]
    assert [c.run_pk for c in shift.cells] == [runs["fresh"].pk, runs["old"].pk]
    xrd = {r.label: r.cells[0].text for r in groups["XRD size and markers"].rows}
    assert xrd == {"Crystallite size (Scherrer)": "8.41 ± 0.10 nm", "Size is a lower bound": "no"}
    assert groups["NMR T1"].rows[0].label == "ligand-adjacent · T1"
    assert groups["NMR T1"].rows[0].cells[0].text == "19.77 ± 0.30 ms"
    assert groups["NMR T1"].rows[0].cells[1] is None
    assert "SAXS diameter" in table.missing and table.any_pending


def test_two_measurements_of_a_routine_on_one_sample_get_rows_of_their_own(members, batch):
    chemist = members["chemist"]
    powder = make_sample(chemist, batch, code="NC8.3-P")
    for label, shift in (("133Cs one-pulse", 119.5), ("1H one-pulse", 3.5)):
        _run(batch, powder, chemist, "nmr.deconvolve", "nmr", [
            {"name": "shift_ppm", "value": shift, "stderr": 0.05, "unit": "ppm", "component_label": "c1"}], label=label)
    rows = key_results_table(key_results(batch=batch)).groups[0].rows
    assert sorted(r.label for r in rows) == ["c1 · Shift (133Cs one-pulse)", "c1 · Shift (1H one-pulse)"]


def test_batch_page_and_its_key_results_fragment(login, members, batch):
    runs = _lab(members, batch)
    client = login(members["viewer"])
    html = client.get(reverse("batch_detail", args=[batch.code])).content.decode()
    assert 'data-key-results-url="/batches/NC8.3/key-results/"' in html
    assert "<details" in html and 'name="m"' in html
    fragment = client.get(reverse("batch_key_results", args=[batch.code]))
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert "Size is a lower bound" in text and "19.77 ± 0.30 ms" in text and "181 d old" in text
    assert f'href="/runs/{runs["fresh"].pk}/"' in text


def test_key_results_fragment_of_another_project_is_not_found(login, members, batch, other_project, make_user):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="viewer")
    assert login(outsider).get(reverse("batch_key_results", args=[batch.code])).status_code == 404


def test_progress_json_names_the_review_state_and_labels_the_numbers(login, members, batch):
    runs = _lab(members, batch)
    client = login(members["viewer"])
    data = client.get(reverse("run_status", args=[runs["xrd"].pk])).json()
    assert data["review_label"] == "Pending review"
    assert {"name": "Size is a lower bound", "text": "no"} in data["quantities"]
    assert client.get(reverse("run_status", args=[runs["fresh"].pk])).json()["review_label"] == "Result of record"
