"""API test base (in the manner of NetBox's utilities/testing/api.py): clients that
authenticate with a personal API token of a given scope, and two labs side by side to
count what one project's member can see of the other's."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from labtrack.accounts.services import token_create
from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.samples.models import Membership
from tests.labtrack.factories import make_batch, make_sample, mark_accepted


@pytest.fixture
def token_client(db):
    """token_client(user, scope="write") -> APIClient sending `Authorization: Token lt_…`."""

    def make(user, scope: str = "write", **kwargs) -> APIClient:
        _, key = token_create(user=user, name=f"test {scope}", scope=scope, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.key = key
        return client

    return make


@dataclass
class Lab:
    """One project's objects, by kind: what a member of another project must never see."""

    project: object
    codes: dict[str, set] = field(default_factory=dict)
    ids: dict[str, set] = field(default_factory=dict)

    def add(self, kind: str, *, code: str | None = None, pk: int | None = None) -> None:
        if code is not None:
            self.codes.setdefault(kind, set()).add(code)
        if pk is not None:
            self.ids.setdefault(kind, set()).add(pk)


def saxs_bytes(tmp_path, name: str, code: str = "NC8.3") -> bytes:
    from analysis.synthetic.saxs import write_saxs_curve

    return write_saxs_curve(tmp_path / f"{name}.dat", code).read_bytes()


def build_lab(project, chemist, analyst, prefix: str, tmp_path, *, formula_note: str = "") -> Lab:
    """A batch, a fresh and an aged sample, a SAXS measurement with its raw file, an
    accepted run with quantities (of record), a pending run, and an ageing study."""
    from labtrack.ageing.services import study_create

    lab = Lab(project)
    batch = make_batch(chemist, project, code=f"{prefix}8.3", notes=formula_note)
    lab.add("batches", code=batch.code, pk=batch.pk)
    sample = make_sample(chemist, batch, code=f"{prefix}8.3-P")
    aged = make_sample(chemist, batch, code=f"{prefix}8.3-AGED", parent=sample)
    for s in (sample, aged):
        lab.add("samples", code=s.code, pk=s.pk)
    measurement = measurement_upload(user=chemist, sample=sample, technique="saxs", request_analyses=False,
                                     uploads=[Upload(f"{prefix}.dat", io.BytesIO(saxs_bytes(tmp_path, prefix)))])
    lab.add("measurements", pk=measurement.pk)
    for raw in measurement.raw_files.all():
        lab.add("files", pk=raw.pk)
    for accepted, value in ((True, 8.3), (False, 8.9)):
        run = AnalysisRun.objects.create(
            project=project, batch=batch, measurement=measurement if accepted else None,
            routine="saxs.size_distribution", routine_version="1.0.0", requested_by=chemist,
            status=RunStatus.SUCCEEDED, result={"quantities": {}}, result_sha256="ab" * 32)
        quantity = Quantity.objects.create(run=run, name="mean_diameter_nm", value=value, stderr=0.1, unit="nm",
                                           assignment=formula_note)
        Quantity.objects.create(run=run, name="pdi", value=0.08, unit="")
        if accepted:
            mark_accepted(run, analyst)
        lab.add("runs", pk=run.pk)
        lab.add("quantities", pk=quantity.pk)
    study = study_create(user=chemist, project=project, name=f"{prefix} ambient ageing", samples=[aged],
                         pull_points=[{"label": "1 month", "offset_days": 30, "tolerance_days": 3, "techniques": ["saxs"]}],
                         quantities=[])
    lab.add("studies", pk=study.pk)
    lab.add("projects", pk=project.pk)
    return lab


@pytest.fixture
def two_labs(members, project, other_project, make_user, tmp_path):
    """Project A (the `members` fixture's) and project B with its own members; returns
    {"a": Lab, "b": Lab, "b_members": {...}}."""
    b_members = {}
    for role in ("chemist", "analyst", "viewer"):
        user = make_user(f"b-{role}")
        Membership.objects.create(project=other_project, user=user, role=role)
        b_members[role] = user
    a = build_lab(project, members["chemist"], members["analyst"], "NC", tmp_path)
    b = build_lab(other_project, b_members["chemist"], b_members["analyst"], "OT", tmp_path)
    return {"a": a, "b": b, "b_members": b_members}
