"""The README's "Scripting with the API" example, run as written: `requests` against a
live server, a real Celery worker fitting the uploaded TopSpin zip, pandas tables of the
results. The README and docs/api.md must carry the same code."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from labtrack.accounts.services import token_create
from labtrack.analyses.models import AnalysisRun, Quantity, RunStatus
from labtrack.analyses.pipeline import Upload, measurement_upload
from tests.labtrack.factories import make_batch, make_sample, mark_accepted

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def example_code(path: Path) -> str:
    text = path.read_text()
    section = text.split("## Scripting with the API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_and_docs_carry_the_same_example():
    assert example_code(ROOT / "README.md") == example_code(ROOT / "docs" / "api.md")


def test_the_example_runs_against_a_live_server(real_services, celery_worker_process, live_server, members, project,
                                                tmp_path, monkeypatch):
    from analysis.synthetic import nmr, saxs, topspin

    chemist = members["chemist"]
    batch = make_batch(chemist, project, code="NC8.3")
    sample = make_sample(chemist, batch, code="NC8.3-P")
    # An accepted SAXS size already on record, for the example's last table.
    curve = saxs.write_saxs_curve(tmp_path / "NC8.3.dat", "NC8.3").read_bytes()
    measured = measurement_upload(user=chemist, sample=sample, technique="saxs", request_analyses=False,
                                  uploads=[Upload("NC8.3.dat", io.BytesIO(curve))])
    run = AnalysisRun.objects.create(project=project, batch=batch, measurement=measured,
                                     routine="saxs.size_distribution", requested_by=chemist,
                                     status=RunStatus.SUCCEEDED, result={})
    Quantity.objects.create(run=run, name="mean_diameter_nm", value=8.3, stderr=0.1, unit="nm")
    mark_accepted(run, members["analyst"])

    folder = topspin.write_topspin_1d(tmp_path / "cs133", nmr.cs133_spectrum("NC8.3", seed=1))
    topspin.zip_folder(folder, tmp_path / "NC8.3_cs133.zip")
    _, key = token_create(user=chemist, name="notebook", scope="write")
    monkeypatch.setenv("LABTRACK_URL", live_server.url)
    monkeypatch.setenv("LABTRACK_TOKEN", key)
    monkeypatch.chdir(tmp_path)

    namespace: dict = {"__name__": "example"}
    exec(compile(example_code(ROOT / "README.md"), "README.md example", "exec"), namespace)

    runs = namespace["runs"]
    assert [(r["routine"], r["status"]) for r in runs] == [("nmr.deconvolve", "succeeded")], \
        celery_worker_process.tail()
    new_fit = namespace["new_fit"]
    assert len(new_fit) > 0 and set(new_fit["routine"]) == {"nmr.deconvolve"}
    assert not new_fit["of_record"].any() and set(new_fit["review_state"]) == {"pending"}
    assert "n_components" in set(new_fit["name"])
    sizes = namespace["sizes"]
    assert list(sizes["value"]) == [8.3] and list(sizes["technique"]) == ["saxs"]
