"""Issue 12, item 8: the smaller page faults, each checked where a chemist meets it."""
from __future__ import annotations

import io
import json

import jsonschema
import pytest
from django.urls import reverse

from labtrack.analyses import services as run_services
from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.analyses.selectors import quantities_of_record, results_csv_rows
from labtrack.samples.models import Batch, SynthesisProtocol
from labtrack.web.forms import BatchForm, RefitForm
from labtrack.web.templatetags.labtrack_web import measured, quantity_text
from tests.labtrack.factories import make_batch, make_succeeded_run, mark_accepted
from tests.labtrack.web.conftest import upload_file

SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "stirring_rpm": {"type": "number", "minimum": 0},
    "antisolvent": {"type": "string", "enum": ["ethyl acetate", "methyl acetate"]}}}


def test_a_new_batch_starts_in_progress(login, members, project):
    form = login(members["chemist"]).get(reverse("batch_create")).context["form"]
    assert form["status"].value() == "in_progress"
    assert make_batch(members["chemist"], project, code="NC1.1").status == "in_progress"
    assert Batch._meta.get_field("status").default == "in_progress"


def test_extra_parameters_help_lists_allowed_keys_and_its_example_is_accepted(db):
    SynthesisProtocol.objects.create(name="Hot injection", version="1", parameter_schema=SCHEMA)
    text = BatchForm(projects=[{"id": 1, "name": "p"}]).fields["extra_parameters"].help_text
    # Keys in alphabetical order on every database (jsonb reorders them by length).
    assert "Hot injection v1: antisolvent (\"ethyl acetate\" or \"methyl acetate\"), stirring_rpm (number)" in text
    example = json.loads(text.split("e.g. ", 1)[1].split(". Allowed", 1)[0])
    jsonschema.validate(example, SCHEMA)  # raises if the help suggested a rejected key
    assert "stir_rpm" not in text


def test_upload_preview_flags_a_file_of_another_technique_before_save(login, members, batch, sample, tmp_path):
    from analysis.synthetic.pl import write_pl_spectrum

    pl_bytes = write_pl_spectrum(tmp_path / "NC8.3_pl.csv", "NC8.3").read_bytes()
    client = login(members["chemist"])
    response = client.post(reverse("measurement_detect", args=[batch.code]),
                           {"technique": "nmr", "files": [upload_file("NC8.3_pl.csv", pl_bytes)]})
    data = response.json()
    assert data["files"][0]["mismatch"].startswith("NC8.3_pl.csv is pl-spectrum data")
    assert "not Solid-state NMR" in data["files"][0]["mismatch"] and "Save would refuse" in data["problem"]
    fits = client.post(reverse("measurement_detect", args=[batch.code]),
                       {"technique": "pl", "files": [upload_file("NC8.3_pl.csv", pl_bytes)]}).json()
    assert fits["files"][0]["mismatch"] == "" and not fits["problem"]
    # The page without JavaScript says the same when "Check files first" is pressed.
    html = client.post(reverse("measurement_create", args=[batch.code]), {
        "sample": sample.pk, "technique": "nmr", "action": "detect",
        "files": [upload_file("NC8.3_pl.csv", pl_bytes)]}).content.decode()
    assert "✗ NC8.3_pl.csv is pl-spectrum data" in html


@pytest.fixture
def tem_run(members, sample, tem_tif_bytes):
    measurement_upload(user=members["chemist"], sample=sample, technique="tem",
                       uploads=[Upload("NC8.3_tem.tif", io.BytesIO(tem_tif_bytes))])
    run = AnalysisRun.objects.get()
    run_services.run_execute(run_id=run.pk, attempt=run_services.run_claim(run_id=run.pk, task_id="t"))
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def test_run_page_shows_the_values_used_not_default(login, members, tem_run):
    assert tem_run.parameters["max_diameter_nm"] is None  # left to the routine
    page = login(members["analyst"]).get(reverse("run_detail", args=[tem_run.pk]))
    used = {p.name: p for p in page.context["parameters_used"]}
    cap = tem_run.result["fit"]["max_diameter_nm_used"]
    assert used["max_diameter_nm"].chosen_by_routine and used["max_diameter_nm"].value == cap
    assert used["min_diameter_nm"].value == 2.0 and not used["min_diameter_nm"].chosen_by_routine
    html = page.content.decode()
    params = html.split('id="params-h"', 1)[1].split("</section>", 1)[0]
    assert ">default<" not in params and "(chosen by the routine)" in params


def test_each_refit_field_has_its_own_help(db):
    form = RefitForm(routine="tem.particle_sizes", current={})
    helps = [f.help_text for f in form.fields.values()]
    assert len(set(helps)) == len(helps)
    assert "Smallest particle counted" in form.fields["min_diameter_nm"].help_text


def test_results_csv_lists_peaks_in_natural_order(members, batch):
    run = make_succeeded_run(batch, members["chemist"], routine="xrd.scherrer")
    for i in (1, 10, 2, 11, 3):
        Quantity.objects.create(run=run, component_label=f"p{i}", name="size_nm", value=10.0 + i, unit="nm")
    mark_accepted(run, members["analyst"])
    rows = list(results_csv_rows(quantities_of_record(user=members["analyst"])))[1:]
    labels = [r[7] for r in rows if r[7]]
    assert labels == ["p1", "p2", "p3", "p10", "p11"]


def test_percent_is_shown_as_a_symbol():
    stored = Quantity(name="at_percent_cs", value=12.34, stderr=0.21, unit="percent")
    assert quantity_text(stored) == "12.34 ± 0.21 %"
    assert measured(0.39, 0.02, "percent") == "0.390 ± 0.020 %"


def test_results_csv_age_has_the_digits_of_the_measurement_page(members, project):
    """The CSV reads the age as the database's interval: the same days, to the rounding
    digit, as Measurement.sample_age_days."""
    from datetime import timedelta as _td

    from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
    from labtrack.measurements.models import Measurement
    from tests.labtrack.factories import make_batch, make_sample

    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC7.7")
    sample = make_sample(chemist, batch, code="NC7.7-P-AGED", ageing_started_at=batch.synthesised_at)
    ages = (_td(days=3, hours=7, minutes=13, seconds=11, microseconds=500), _td(days=400, seconds=43))
    for age in ages:
        m = Measurement.objects.create(sample=sample, technique="nmr", measured_at=sample.age_started_at + age)
        run = AnalysisRun.objects.create(project=project, batch=batch, measurement=m, routine="nmr.deconvolve",
                                         requested_by=chemist, status=RunStatus.SUCCEEDED,
                                         review_state=ReviewState.ACCEPTED, reviewer=chemist)
        Quantity.objects.create(run=run, name="integral_percent", value=20.0, unit="%", component_label="c2",
                                assignment="bulk")
    rows = list(results_csv_rows(quantities_of_record(user=members["viewer"], name="integral_percent")))
    expected = sorted(round(m.sample_age_days, 3) for m in Measurement.objects.filter(sample=sample))
    assert sorted(r[2] for r in rows[1:]) == expected and expected[0] == round(ages[0].total_seconds() / 86400, 3)
    assert {r[6] for r in rows[1:]} == {True}
