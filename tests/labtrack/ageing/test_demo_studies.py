"""The demo's ageing studies with their analyses run and accepted: one flag raised (the
NC12.8 bulk line in air), one pull point overdue (NC8.9, 3 months), N2 stable."""
from __future__ import annotations

import pytest

from labtrack.ageing import selectors
from labtrack.ageing.models import Study
from labtrack.operations.demo_ageing import seed_ageing
from tests.labtrack.factories import make_batch, make_sample

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_studies_raise_one_flag_in_air_and_none_in_n2(members, project, django_capture_on_commit_callbacks):
    users = {"chemist": members["chemist"], "analyst": members["analyst"]}
    batch_samples = {code: {"powder": make_sample(members["chemist"], make_batch(members["chemist"], project, code=code),
                                                  code=f"{code}-P")}
                     for code in ("NC12.8", "NC8.9")}
    with django_capture_on_commit_callbacks(execute=False):  # the inline runs stand in for the worker
        made = seed_ageing(project=project, users=users, instruments={}, batch_samples=batch_samples,
                           request_analyses=True, log=lambda msg: None)
    assert made == 8
    air, n2 = Study.objects.get(atmosphere="air"), Study.objects.get(atmosphere="n2")
    flags = [(s.quantity.key, s.sample_code) for s, f in selectors.study_detail(user=members["viewer"], pk=air.pk)["flags"]]
    assert flags == [("cs133_bulk_fraction", "NC12.8-P-AIR")]
    assert selectors.study_detail(user=members["viewer"], pk=n2.pk)["flags"] == []
    assert [(d.point.sample.code, d.point.label, d.status) for d in selectors.due_pull_points(user=members["viewer"])] == [
        ("NC8.9-P-AIR", "3 months", "overdue")]
