"""Fixtures for the web pages: logged-in clients per role, a batch with samples and runs."""
from __future__ import annotations

import io

import pytest

from tests.labtrack.factories import make_batch, make_sample, make_succeeded_run


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def batch(members, project):
    return make_batch(members["chemist"], project, code="NC8.3", opa_concentration_molar=0.05,
                      reaction_duration_s=30, notes="green emission, washed twice")


@pytest.fixture
def sample(members, batch):
    return make_sample(members["chemist"], batch, code="NC8.3-INK", form="colloid_ink")


@pytest.fixture
def saxs_csv_bytes(tmp_path):
    """A real SAXS curve file (XSACT-style CSV) from the synthetic generator."""
    from analysis.synthetic.saxs import write_saxs_curve

    return write_saxs_curve(tmp_path / "NC8.3_saxs.csv", "NC8.3", fmt="csv").read_bytes()


@pytest.fixture
def tem_tif_bytes(tmp_path):
    from analysis.synthetic.tem import write_tem_tiff

    return write_tem_tiff(tmp_path / "NC8.3_tem.tif", "NC8.3", size_px=384).read_bytes()


def upload_file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


__all__ = ["make_succeeded_run", "upload_file", "io"]
