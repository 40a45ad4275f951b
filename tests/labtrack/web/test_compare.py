"""Compare view: the stored curves of measurements of one technique, as JSON, CSV and a page."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.urls import reverse

from labtrack import engine
from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample, mark_accepted


def _nmr_run(chemist, batch, code: str, shift_ppm: float, *, packed: bool = True) -> Measurement:
    """A 133Cs measurement whose deconvolution run stored its curves as a worker does."""
    sample = make_sample(chemist, batch, code=code)
    m = Measurement.objects.create(sample=sample, technique="nmr", label="133Cs one-pulse")
    ppm = np.linspace(400, -200, 8192)
    data = np.exp(-((ppm - shift_ppm) ** 2) / 20) + 0.2 * np.exp(-((ppm - 160) ** 2) / 40)
    window = ppm[(ppm < 200) & (ppm > 50)]
    c1 = np.exp(-((window - shift_ppm) ** 2) / 20)
    c2 = 0.2 * np.exp(-((window - 160) ** 2) / 40)
    curves = {"full": {"ppm": ppm, "data": data},
              "spectrum": {"ppm": window, "data": c1 + c2, "fit": c1 + c2, "residual": 0 * window,
                           "fit_baseline": 0 * window, "c1": c1, "c2": c2}}
    AnalysisRun.objects.create(
        project=batch.project, batch=batch, measurement=m, routine="nmr.deconvolve", requested_by=chemist,
        status=RunStatus.SUCCEEDED, curves={k: {c: v.tolist() for c, v in cols.items()} for k, cols in curves.items()},
        curve_arrays=engine.pack_curves(curves) if packed else None)
    return m


@pytest.fixture
def spectra(members, project):
    chemist = members["chemist"]
    out = []
    for i, code in enumerate(["NC10.4", "NC6.4", "NC8.3"]):
        batch = make_batch(chemist, project, code=code)
        out.append(_nmr_run(chemist, batch, f"{code}-P", 110 + i))
    return out


def _data(client, **params):
    return client.get(reverse("compare_data"), params)


def test_traces_come_normalised_decimated_in_natural_order_on_a_reversed_ppm_axis(login, members, spectra):
    response = _data(login(members["viewer"]), technique="nmr", m=[m.pk for m in spectra])
    assert response.status_code == 200
    data = response.json()
    assert [t["batch"] for t in data["traces"]] == ["NC6.4", "NC8.3", "NC10.4"]
    assert data["axis"]["x_reversed"] and data["axis"]["x_label"] == "δ / ppm"
    assert data["axis"]["focus"] == [pytest.approx(50, abs=0.1), pytest.approx(200, abs=0.1)]
    for trace in data["traces"]:
        assert len(trace["x"]) <= 4000 and max(trace["y"]) == pytest.approx(1.0, abs=1e-4)
        assert "components" not in trace
    assert data["traces"][0]["label"].startswith("NC6.4-P, ") and data["traces"][0]["label"].endswith(" d")


def test_components_and_fit_come_with_the_same_scale(login, members, spectra):
    data = _data(login(members["viewer"]), technique="nmr", m=spectra[0].pk, components="1", norm="none").json()
    trace = data["traces"][0]
    assert [c["label"] for c in trace["components"]] == ["c1", "c2"]
    assert max(trace["fit"]["y"]) == pytest.approx(max(trace["y"]), rel=1e-3)


def test_area_normalisation_and_batches_chosen_by_code(login, members, spectra):
    data = _data(login(members["viewer"]), technique="nmr", batch=["nc6.4", "NC8.3"], norm="area").json()
    assert [t["batch"] for t in data["traces"]] == ["NC6.4", "NC8.3"]
    assert "normalised to area" in data["axis"]["y_label"]


def test_runs_from_before_the_array_blobs_are_read_from_their_json_and_packed_once(login, members, project):
    from labtrack.analyses.curve_store import runs_pack_curves

    m = _nmr_run(members["chemist"], make_batch(members["chemist"], project, code="NC7.7"), "NC7.7-P", 112,
                 packed=False)
    client = login(members["viewer"])
    before = _data(client, technique="nmr", m=m.pk).json()["traces"][0]
    assert runs_pack_curves() == 1 and runs_pack_curves() == 0
    after = _data(client, technique="nmr", m=m.pk).json()["traces"][0]
    assert max(before["y"]) == pytest.approx(max(after["y"]), abs=1e-5)
    assert before["x"][0] == pytest.approx(after["x"][0], abs=1e-3)


def test_only_the_users_projects_and_missing_fits_are_named(login, members, spectra, other_project, make_user):
    outsider = make_user("outsider")
    from labtrack.samples.models import Membership

    Membership.objects.create(project=other_project, user=outsider, role="chemist")
    assert _data(login(outsider), technique="nmr", m=[m.pk for m in spectra]).json()["traces"] == []
    unfitted = Measurement.objects.create(sample=spectra[0].sample, technique="nmr", label="1H one-pulse")
    data = _data(login(members["viewer"]), technique="nmr", m=[spectra[0].pk, unfitted.pk]).json()
    assert [s["measurement"] for s in data["skipped"]] == [unfitted.pk]
    assert "no finished fit" in data["skipped"][0]["reason"]


@pytest.mark.parametrize("params, message", [
    ({"m": "1"}, "Choose a technique"),
    ({"technique": "nmr", "m": "12abc"}, "not a measurement number"),
    ({"technique": "nmr", "m": "1", "norm": "median"}, "max, area or none"),
    ({"technique": "nmr"}, "Pick measurements"),
    ({"technique": "tem", "m": "1"}, "no curves to compare"),
])
def test_bad_requests_say_what_to_change(login, members, params, message):
    client = login(members["viewer"])
    response = client.get(reverse("compare_data"), params)
    assert response.status_code == 400 and message in response.json()["error"]
    page = client.get(reverse("compare"), params)
    assert page.status_code == 400 and message in page.content.decode()


def test_csv_has_every_plotted_point_with_its_provenance(login, members, spectra):
    response = login(members["viewer"]).get(reverse("compare_csv"), {"technique": "nmr", "m": spectra[1].pk,
                                                                       "components": "1"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["batch", "sample", "measurement", "run", "series"]
    assert {r[4] for r in rows[1:]} == {"data", "fit", "c1", "c2"}


def test_the_page_loads_the_chart_from_the_json(login, members, spectra):
    html = login(members["viewer"]).get(reverse("compare"), {"technique": "nmr", "m": spectra[0].pk}).content.decode()
    assert "vendor/uplot/uPlot.iife.min.js" in html and f"data.json?technique=nmr&amp;m={spectra[0].pk}" in html


def test_the_record_run_is_compared_when_there_is_one(login, members, spectra):
    m = spectra[0]
    newer = AnalysisRun.objects.create(project=m.sample.batch.project, batch=m.sample.batch, measurement=m,
                                       routine="nmr.deconvolve", requested_by=members["chemist"],
                                       status=RunStatus.SUCCEEDED)
    record = AnalysisRun.objects.filter(measurement=m).exclude(pk=newer.pk).get()
    mark_accepted(record, members["analyst"])
    trace = _data(login(members["viewer"]), technique="nmr", m=m.pk).json()["traces"][0]
    assert trace["run"] == record.pk and trace["of_record"]


def test_query_count_does_not_grow_with_the_number_of_spectra(login, members, project, spectra,
                                                             django_assert_max_num_queries):
    client = login(members["viewer"])
    with django_assert_max_num_queries(8):
        assert _data(client, technique="nmr", m=[m.pk for m in spectra]).status_code == 200


def test_components_are_sampled_at_the_fit_x_which_is_sent_once(login, members, spectra):
    trace = _data(login(members["viewer"]), technique="nmr", m=spectra[0].pk, components="1").json()["traces"][0]
    assert all("x" not in c and len(c["y"]) == len(trace["fit"]["x"]) for c in trace["components"])
    # c2 is the 160 ppm line at a fifth of the height: its top sits at 160 ppm on the fit's x
    c2 = trace["components"][1]["y"]
    assert trace["fit"]["x"][int(np.argmax(c2))] == pytest.approx(160, abs=0.2)


def test_an_unchanged_comparison_revalidates_to_304_and_an_acceptance_changes_it(login, members, spectra):
    client = login(members["viewer"])
    first = _data(client, technique="nmr", m=[m.pk for m in spectra])
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    again = client.get(reverse("compare_data"), {"technique": "nmr", "m": [m.pk for m in spectra]},
                       HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    other_norm = client.get(reverse("compare_data"), {"technique": "nmr", "m": [m.pk for m in spectra],
                                                      "norm": "area"}, HTTP_IF_NONE_MATCH=etag)
    assert other_norm.status_code == 200 and other_norm["ETag"] != etag
    mark_accepted(AnalysisRun.objects.get(measurement=spectra[0]), members["analyst"])
    after = client.get(reverse("compare_data"), {"technique": "nmr", "m": [m.pk for m in spectra]},
                       HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after["ETag"] != etag
    assert {t["measurement"]: t["of_record"] for t in after.json()["traces"]} == {
        spectra[0].pk: True, spectra[1].pk: False, spectra[2].pk: False}
