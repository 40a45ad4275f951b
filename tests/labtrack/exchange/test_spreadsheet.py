"""Spreadsheet import: the dry-run preview names each bad cell by row and column, the
commit writes everything or nothing, units in headers convert or are refused, and the
lab's column names are remembered per project."""
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from labtrack.exchange import selectors, spreadsheet
from labtrack.exchange.models import ColumnMapping
from labtrack.samples.models import Batch, Sample, SynthesisProtocol
from tests.labtrack.factories import make_batch

GOOD_CSV = """Batch,Protocol,Date,OPA (mM),Reaction time (min),Sample,Form,Mass (g),stir_rpm
NC8.3,Hot injection v2,2024-03-05 14:30,100,1,NC8.3-P,powder,0.0125,800
NC8.3,,,,,NC8.3-I,colloid ink,,
NC9.9,Hot injection v2,05.03.2024,50,2,,,,
"""


@pytest.fixture
def protocol(db):
    return SynthesisProtocol.objects.create(
        name="Hot injection", version="2",
        parameter_schema={"type": "object", "properties": {"stir_rpm": {"type": "number", "minimum": 0}}})


def _extra_mapping(members, project):
    spreadsheet.mapping_save(user=members["chemist"], project=project, assignments={"stir_rpm": "batch.extra"})


def _run(members, project, text, commit, name="log.csv"):
    return spreadsheet.spreadsheet_import(user=members["chemist"], project=project, name=name,
                                          content=text.encode(), commit=commit)


def test_preview_writes_nothing_and_commit_converts_units(members, project, protocol):
    _extra_mapping(members, project)
    preview = _run(members, project, GOOD_CSV, commit=False)
    assert preview.ok, preview.errors
    assert preview.batches == ["NC8.3", "NC9.9"] and preview.samples == ["NC8.3-P", "NC8.3-I"]
    assert not Batch.objects.exists() and not Sample.objects.exists()
    notes = {c.header: c.unit_note for c in preview.columns}
    assert notes["OPA (mM)"] == "mM converted to M"

    report = _run(members, project, GOOD_CSV, commit=True)
    assert report.committed
    nc83 = Batch.objects.get(code="NC8.3")
    assert nc83.opa_concentration_molar == pytest.approx(0.1)
    assert nc83.reaction_duration_s == pytest.approx(60)
    assert nc83.protocol == protocol and nc83.extra_parameters == {"stir_rpm": 800}
    assert Batch.objects.get(code="NC9.9").synthesised_at.day == 5
    powder = Sample.objects.get(code="NC8.3-P")
    assert powder.mass_mg == pytest.approx(12.5) and powder.batch == nc83
    assert Sample.objects.get(code="NC8.3-I").form == "colloid_ink"


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_committed(members, project, protocol):
    make_batch(members["chemist"], project, code="NC6.4")
    bad = """Batch,Protocol,OPA (mM),Sample,Form
NC7.0,Hot injection v2,100,NC7.0-P,powder
NC6.4,Hot injection v2,100,,
NC7.1,Cold injection,100,,
NC7.2,Hot injection v2,lots,,
NC7.0,Hot injection v2,100,NC7.0-P,powder
NC7.3,Hot injection v2,-5,,
"""
    for commit in (False, True):
        report = _run(members, project, bad, commit=commit)
        assert not report.committed
        found = {(e.row, e.column): e.message for e in report.errors}
        assert "already exists" in found[(3, "Batch")]  # duplicate code already in the database
        assert "Unknown protocol “Cold injection”" in found[(4, "Protocol")]
        assert "text in a number column" in found[(5, "OPA (mM)")]
        assert "Duplicate sample code NC7.0-P in the file (also row 2)" in found[(6, "Sample")]
        assert "cannot be negative" in found[(7, "OPA (mM)")]
        assert Batch.objects.filter(code__in=["NC7.0", "NC7.3"]).count() == 0
    assert list(Batch.objects.values_list("code", flat=True)) == ["NC6.4"]
    assert not Sample.objects.exists()


def test_duplicate_batch_row_in_the_file(members, project):
    report = _run(members, project, "Batch,OPA (M)\nNC1,0.1\nnc1,0.1\n", commit=True)
    assert [(e.row, e.column) for e in report.errors] == [(3, "Batch")]
    assert "Duplicate batch code nc1 in the file (also row 2)" in report.errors[0].message
    assert not Batch.objects.exists()


@pytest.mark.parametrize("header, problem", [
    ("OPA (mL)", "mL is a unit of volume, but OPA concentration is a concentration stored in M"),
    ("OPA (furlongs)", "LabTrack does not know the unit furlongs"),
])
def test_a_unit_that_does_not_fit_is_refused_for_the_whole_column(members, project, header, problem):
    report = _run(members, project, f"Batch,{header}\nNC1,5\n", commit=True)
    assert [(e.row, e.column) for e in report.errors] == [(0, header)]
    assert problem in report.errors[0].message
    assert not Batch.objects.exists()


def test_units_convert_for_volume_temperature_and_time(members, project):
    text = "Batch,Cs-octanoate (mL),PbBr2 (µL),Temperature (K),Quench time (ms)\nNC1,0.2,2000,298.15,1500\n"
    assert _run(members, project, text, commit=True).committed
    batch = Batch.objects.get(code="NC1")
    assert batch.cs_octanoate_volume_ul == pytest.approx(200)
    assert batch.pbbr2_solution_volume_ml == pytest.approx(2)
    assert batch.temperature_c == pytest.approx(25)
    assert batch.quench_time_s == pytest.approx(1.5)


def test_the_labs_column_names_are_remembered_per_project(members, project, other_project):
    text = "Ansatz,Konz. OPA (mM)\nNC1,100\n"
    report = _run(members, project, text, commit=False)
    assert not report.ok and {c.header: c.target_key for c in report.columns} == {"Ansatz": "", "Konz. OPA (mM)": ""}
    spreadsheet.mapping_save(user=members["chemist"], project=project,
                             assignments={"Ansatz": "batch.code", "Konz. OPA": "batch.opa_concentration_molar"})
    assert ColumnMapping.objects.filter(project=project).count() == 2
    report = _run(members, project, text, commit=True)
    assert report.committed and Batch.objects.get(code="NC1").opa_concentration_molar == pytest.approx(0.1)
    plans = spreadsheet.plan_columns(other_project, ["Ansatz"])
    assert plans[0].target is None  # another project's names are its own


def test_a_viewer_cannot_import_and_a_mapping_to_nowhere_is_refused(members, project):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        spreadsheet.spreadsheet_import(user=members["viewer"], project=project, name="a.csv",
                                       content=b"Batch\nNC1\n", commit=True)
    with pytest.raises(ValidationError):
        spreadsheet.mapping_save(user=members["chemist"], project=project, assignments={"x": "batch.secret"})


def test_xlsx_import_with_dates_and_the_downloadable_templates(members, project):
    workbook = openpyxl.load_workbook(io.BytesIO(selectors.template_xlsx()))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "OPA concentration (M)" in headers and workbook.sheetnames == ["Syntheses", "Help"]
    # The template's own example row imports as it is (its protocol aside).
    sheet.cell(row=2, column=headers.index("Protocol") + 1).value = None
    out = io.BytesIO()
    workbook.save(out)
    report = spreadsheet.spreadsheet_import(user=members["chemist"], project=project, name="t.xlsx",
                                            content=out.getvalue(), commit=True)
    assert report.committed, report.errors
    assert Sample.objects.get(code="NC8.3-P").mass_mg == pytest.approx(12.5)
    csv_text = selectors.template_csv()
    assert csv_text.splitlines()[0].startswith("Batch code,Protocol,Synthesised at,Status,OPA concentration (M)")


def test_bounded_input(members, project, settings):
    settings.LABTRACK_IMPORT_MAX_ROWS = 3
    rows = "Batch\n" + "".join(f"NC{i}\n" for i in range(5))
    with pytest.raises(ValidationError, match="more than 3 rows"):
        _run(members, project, rows, commit=False)
    settings.LABTRACK_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="more than the 0 KiB limit|limit for a spreadsheet"):
        _run(members, project, "Batch\n" + "x" * 200 + "\n", commit=False)


def test_a_broken_workbook_is_refused_clearly(members, project):
    with pytest.raises(ValidationError, match="not a zip archive|cannot be read"):
        spreadsheet.spreadsheet_import(user=members["chemist"], project=project, name="log.xlsx",
                                       content=b"PK\x03\x04 not really", commit=False)
