"""Property: whatever sequence of re-fits, accepts, rejects and retracts analysts make,
the batch page's key results, the trends selector, the API and the CSV export report the
same numbers of record, those an independent model of the rules predicts; at most one
accepted current run exists per measurement and routine, and the database refuses a
second one when the service is bypassed."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from labtrack.analyses.models import AnalysisRun, Quantity, ReviewState, RunStatus
from labtrack.analyses.review import run_accept, run_reject, run_retract
from labtrack.analyses.selectors import key_results
from labtrack.core.errors import Conflict
from labtrack.insights.selectors import quantity_points
from labtrack.measurements.models import Measurement
from tests.labtrack.factories import make_batch, make_sample

ROUTINE = "saxs.size_distribution"
N_MEASUREMENTS = 2

operation = st.tuples(st.sampled_from(["refit", "accept", "reject", "retract", "bypass"]),
                      st.integers(min_value=0, max_value=30),                 # which run
                      st.sampled_from(["analyst", "analyst2", "chemist"]))    # who


class Model:
    """The rules, written independently of the code under test."""

    def __init__(self) -> None:
        self.parent: dict[int, int | None] = {}
        self.measurement: dict[int, int] = {}
        self.requester: dict[int, str] = {}
        self.value: dict[int, float] = {}
        self.state: dict[int, str] = {}
        self.superseded: set[int] = set()
        self.record: dict[int, int | None] = {}  # measurement -> run of record

    def add(self, run: AnalysisRun, requester: str, parent: int | None) -> None:
        self.parent[run.pk], self.measurement[run.pk] = parent, run.measurement_id
        self.requester[run.pk], self.value[run.pk] = requester, run.quantities.get().value
        self.state[run.pk] = "pending"

    def ancestors(self, pk: int) -> list[int]:
        out, node = [], self.parent[pk]
        while node is not None:
            out.append(node)
            node = self.parent[node]
        return out

    def allows(self, action: str, pk: int, who: str) -> bool:
        if who == "chemist" or pk in self.superseded:
            return False
        if action == "retract":
            return self.state[pk] == "accepted"
        if self.state[pk] != "pending" or self.requester[pk] == who:
            return False
        if action == "accept":
            holder = self.record.get(self.measurement[pk])
            return holder is None or holder in self.ancestors(pk)
        return True

    def apply(self, action: str, pk: int) -> None:
        m = self.measurement[pk]
        if action == "accept":
            self.superseded.update(self.ancestors(pk))
            self.state[pk], self.record[m] = "accepted", pk
        elif action == "reject":
            self.state[pk] = "rejected"
        elif action == "retract":
            self.state[pk], self.record[m] = "pending", None

    def of_record(self) -> set[tuple[int, float]]:
        return {(pk, self.value[pk]) for pk in self.record.values() if pk is not None}


def _finish(run: AnalysisRun, value: float) -> AnalysisRun:
    """What the worker does, without fitting: the run succeeds with one number."""
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED, result_sha256="ef" * 32)
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.1, unit="nm")
    return AnalysisRun.objects.get(pk=run.pk)


def _reported(batch, members, client) -> dict[str, set[tuple[int, float]]]:
    """(run, value) of record as each reader reports it."""
    keys = {(k.run.pk, q.value) for k in key_results(batch=batch) if k.accepted for q in k.quantities
            if q.name == "mean_diameter_nm"}
    trends = {(p.run_id, p.value) for p in quantity_points(user=members["viewer"], name="mean_diameter_nm")}
    api = APIClient()
    api.force_authenticate(members["viewer"])
    rows = api.get("/api/v1/quantities/?name=mean_diameter_nm&accepted=1&page_size=500").json()["results"]
    from_api = {(r["run"], r["value"]) for r in rows}
    client.force_login(members["viewer"])
    body = b"".join(client.get(reverse("results_csv") + "?name=mean_diameter_nm").streaming_content).decode()
    from_csv = {(int(r["run"]), float(r["value"])) for r in csv.DictReader(io.StringIO(body))}
    return {"key results": keys, "trends": trends, "api": from_api, "csv": from_csv}


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=14))
def test_every_reader_reports_the_same_numbers_of_record(operations, members, project, client,
                                                         django_capture_on_commit_callbacks):
    with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
        batch = make_batch(members["chemist"], project, code="NC9.9")
        sample = make_sample(members["chemist"], batch)
        model = Model()
        runs: list[AnalysisRun] = []
        for i in range(N_MEASUREMENTS):
            measurement = Measurement.objects.create(sample=sample, technique="saxs",
                                                     measured_at=sample.prepared_at + timedelta(days=1 + i))
            run = AnalysisRun.objects.create(project=project, batch=batch, measurement=measurement, routine=ROUTINE,
                                             requested_by=members["chemist"], status=RunStatus.QUEUED)
            runs.append(_finish(run, 9.0 + i))
            model.add(runs[-1], "chemist", None)

        for step, (action, index, who) in enumerate(operations):
            target = AnalysisRun.objects.get(pk=runs[index % len(runs)].pk)
            user = members[who]
            if action == "refit":
                if target.pk in model.superseded:
                    continue
                refit = AnalysisRun.objects.create(
                    project=project, batch=batch, measurement=target.measurement, routine=ROUTINE,
                    requested_by=user, supersedes=target, status=RunStatus.QUEUED)
                runs.append(_finish(refit, 10.0 + step))
                model.add(runs[-1], who, target.pk)
            elif action == "bypass":
                # Straight to the database: a second accepted current run must be refused.
                holder = model.record.get(target.measurement_id)
                if holder is not None and holder != target.pk and target.pk not in model.superseded:
                    with pytest.raises(IntegrityError), transaction.atomic():
                        AnalysisRun.objects.filter(pk=target.pk).update(
                            review_state=ReviewState.ACCEPTED, reviewer=members["manager"])
            else:
                expected = model.allows(action, target.pk, who)
                try:
                    if action == "accept":
                        run_accept(run=target, reviewer=user)
                    elif action == "reject":
                        run_reject(run=target, reviewer=user, reason="baseline")
                    else:
                        run_retract(run=target, user=user, reason="recheck")
                    done = True
                except (Conflict, ValidationError, PermissionDenied):
                    done = False
                assert done == expected, (action, target.pk, who)
                if done:
                    model.apply(action, target.pk)

            reported = _reported(batch, members, client)
            for reader, values in reported.items():
                assert values == model.of_record(), (reader, operations[: step + 1])
            doubles = (AnalysisRun.objects.of_record().values("measurement", "routine")
                       .annotate(n=Count("id")).filter(n__gt=1))
            assert not doubles.exists()
        transaction.set_rollback(True)
