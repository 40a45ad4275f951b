"""Races on PostgreSQL: concurrent accepts create one derived run; concurrent creations
of one batch code give one 201 and the usual duplicate-code 400 to the rest."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample, mark_accepted

pytestmark = [pytest.mark.integration]
N = 20


def _in_threads(n: int, work) -> list:
    """Run work(i) in n threads released together; each closes its own connection."""
    from django.db import connection

    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # the test reads it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_twenty_concurrent_accepts_in_one_batch_create_one_layer_model_run(real_services, members, project):
    from analysis.synthetic import paper
    from labtrack.analyses.review import run_accept

    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC12.8")
    sample = make_sample(chemist, batch)

    def measurement(technique: str, day: int) -> Measurement:
        return Measurement.objects.create(sample=sample, technique=technique,
                                          measured_at=sample.prepared_at + timedelta(days=day))

    def finished(m: Measurement, routine: str, **fields) -> AnalysisRun:
        return AnalysisRun.objects.create(project=project, batch=batch, measurement=m, routine=routine,
                                          requested_by=chemist, status=RunStatus.SUCCEEDED, **fields)

    saxs = finished(measurement("saxs", 1), "saxs.size_distribution")
    Quantity.objects.create(run=saxs, name="mean_diameter_nm", value=12.8, stderr=0.1, unit="nm")
    mark_accepted(saxs, members["manager"])
    components = [{"label": f"c{i}", "assignment": line.assignment,
                   "quantities": {"integral_percent": {"value": line.integral_percent, "stderr": 1.0}}}
                  for i, line in enumerate(paper.TABLE2["NC12.8"], start=1)]
    # Accepted behind the service's back, so no layer model exists yet: each of the 20
    # accepts below finds it missing and asks for it.
    mark_accepted(finished(measurement("nmr", 2), "nmr.deconvolve",
                           result={"routine": "nmr.deconvolve", "components": components}), members["manager"])
    pl_runs = [finished(measurement("pl", 3 + i), "pl.peak") for i in range(N)]
    reviewers = ["analyst", "analyst2"]

    outcomes = _in_threads(N, lambda i: run_accept(run=AnalysisRun.objects.get(pk=pl_runs[i].pk),
                                                   reviewer=members[reviewers[i % 2]]))
    assert all(isinstance(o, AnalysisRun) for o in outcomes), outcomes
    layer_models = AnalysisRun.objects.filter(batch=batch, routine="nmr.layer_model")
    assert layer_models.count() == 1
    assert AnalysisRun.objects.of_record().filter(routine="pl.peak").count() == N


def test_twenty_concurrent_creations_of_one_batch_code_give_one_201_and_nineteen_400s(real_services, members,
                                                                                     project):
    from rest_framework.test import APIClient

    def create(i: int):
        api = APIClient()
        api.force_authenticate(members["chemist"])
        return api.post("/api/v1/batches/", {"project_id": project.pk, "code": "NC7.7"}, format="json")

    responses = _in_threads(N, create)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [400] * (N - 1), codes
    for r in responses:
        if r.status_code == 400:
            assert "already exists" in r.json()["errors"]["code"][0]
