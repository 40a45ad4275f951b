"""Issue 16's Done-when: with the S3 backend and two real Celery workers that share nothing
but PostgreSQL, Redis and the S3 server (a real moto server started here), uploads are
analysed by either worker, downloads return the exact bytes, and verify_raw_files works on
S3 (and catches a corrupt and a missing object).

Each worker has its own MEDIA_ROOT, TMPDIR (the engine's run folders) and LABTRACK_VAR_DIR,
all under this test's tmp_path, none shared with the other or with the test process; no
blob is ever written under any of them.
"""
from __future__ import annotations

import hashlib
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labtrack.analyses.models import AnalysisRun, RunStatus
from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.measurements.blobs import blob_path
from labtrack.measurements.models import RawFile
from tests.conftest import WorkerProcess, purge_broker, wait_for
from tests.labtrack.factories import make_batch, make_sample
from tests.s3_server import s3_server, s3_storage  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _raw_files(tmp: Path) -> dict[str, Path]:
    """Synthetic instrument files of several techniques (one TEM image slow enough that
    the other worker must take the files queued behind it)."""
    from analysis.synthetic import nmr, pl, saxs, tem, topspin, xps, xrd

    one_pulse = topspin.write_topspin_1d(tmp / "cs133", nmr.cs133_spectrum("NC8.3", seed=1))
    return {
        "tem": tem.write_tem_tiff(tmp / "NC8.3.tif", "NC8.3", size_px=1536, seed=2),
        "saxs": saxs.write_saxs_curve(tmp / "NC8.3.dat", "NC8.3", q_unit="1/A"),
        "pl": pl.write_pl_spectrum(tmp / "NC8.3_pl.csv", "NC8.3"),
        "xrd": Path(xrd.write_xy(str(tmp / "NC8.3.xy"), xrd.powder_pattern("NC8.3", size_nm=8.3))),
        "xps": xps.write_vamas(tmp / "NC8.3.vms", "NC8.3"),
        "nmr": topspin.zip_folder(one_pulse, tmp / "NC8.3_cs133.zip"),
    }


def _tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def two_workers(real_services, s3_storage, tmp_path):
    """Two worker processes on the shared bucket, each with its own folders."""
    purge_broker()
    workers = {}
    for name in ("a", "b"):
        home = tmp_path / f"worker-{name}"
        folders = {key: home / key for key in ("media", "tmp", "var")}
        for folder in folders.values():
            folder.mkdir(parents=True)
        env = {**s3_storage.env, "MEDIA_ROOT": str(folders["media"]), "TMPDIR": str(folders["tmp"]),
               "LABTRACK_VAR_DIR": str(folders["var"])}
        workers[name] = (WorkerProcess(extra_env=env).start(), folders)
    try:
        for name, (worker, _) in workers.items():
            wait_for(lambda w=worker: "ready." in w.log_path.read_text(errors="replace"), timeout=90,
                     message=f"worker {name} to start\n{worker.tail()}")
        yield workers
    finally:
        for worker, _ in workers.values():
            worker.stop()


def _worker_of(run: AnalysisRun, workers) -> str:
    for name, (worker, _) in workers.items():
        if re.search(rf"execute_run\[{re.escape(run.task_id)}\] succeeded", worker.log_path.read_text(errors="replace")):
            return name
    raise AssertionError(f"no worker log says it ran run #{run.pk} (task {run.task_id})")


def test_two_workers_share_only_postgres_redis_and_s3(two_workers, s3_storage, members, project, tmp_path,
                                                      client):
    chemist = members["chemist"]
    sample = make_sample(chemist, make_batch(chemist, project, code="NC8.3"))
    inputs = tmp_path / "instrument-files"
    inputs.mkdir()
    measurements = {}
    for technique, path in _raw_files(inputs).items():
        with open(path, "rb") as fh:
            measurements[technique] = measurement_upload(user=chemist, sample=sample, technique=technique,
                                                         uploads=[Upload(path.name, fh)])
    run_ids = list(AnalysisRun.objects.filter(measurement__in=measurements.values()).values_list("pk", flat=True))
    assert len(run_ids) == len(measurements)

    def finished():
        runs = list(AnalysisRun.objects.filter(pk__in=run_ids))
        return runs if all(r.is_finished for r in runs) else None

    runs = wait_for(finished, timeout=300, message="the runs to finish")
    logs = "\n".join(w.tail(60) for w, _ in two_workers.values())
    assert {r.routine: r.error for r in runs if r.status != RunStatus.SUCCEEDED} == {}, logs
    for run in runs:
        assert run.quantities.exists() and "<svg" in run.figure_svg, run.routine
        assert run.result["inputs"][0]["sha256"] == run.input_files[0]["sha256"]

    # Either worker analysed uploads: each did some of them.
    by_worker = {name: [r.routine for r in runs if _worker_of(r, two_workers) == name] for name in two_workers}
    assert by_worker["a"] and by_worker["b"], by_worker

    # The raw files are in the bucket only: no blob in any worker's or the test's folders,
    # and the run folders (TMPDIR/labtrack-run-*) were removed after each run.
    raw_files = list(RawFile.objects.filter(measurement__in=measurements.values()))
    assert sorted(s3_storage.keys()) == sorted({blob_path(r.sha256) for r in raw_files})
    for name, (_, folders) in two_workers.items():
        assert _tree_files(folders["media"]) == [], name
        assert [p for p in folders["tmp"].iterdir() if p.name.startswith("labtrack-run-")] == [], name

    # Downloads stream the exact bytes from the bucket.
    client.force_login(members["viewer"])
    for raw in raw_files:
        response = client.get(f"/files/{raw.pk}/download/")
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert len(body) == raw.size_bytes and hashlib.sha256(body).hexdigest() == raw.sha256, raw.original_name
        assert body == (inputs / raw.original_name).read_bytes()

    # verify_raw_files on S3: clean now; a flipped bit and a deleted object are both caught.
    out, err = StringIO(), StringIO()
    call_command("verify_raw_files", stdout=out, stderr=err)
    assert f"{len(raw_files)} blobs checked in the S3 bucket {s3_storage.bucket}: 0 missing, 0 corrupt" in out.getvalue()
    pl_raw = next(r for r in raw_files if r.original_name.endswith("_pl.csv"))
    xps_raw = next(r for r in raw_files if r.original_name.endswith(".vms"))
    data = bytearray(s3_storage.get(pl_raw.sha256))
    data[len(data) // 2] ^= 0x01
    s3_storage.put(pl_raw.sha256, bytes(data))
    s3_storage.delete(xps_raw.sha256)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 missing and 1 corrupt"):
        call_command("verify_raw_files", stdout=out, stderr=err)
    assert f"CORRUPT s3://{s3_storage.bucket}/{blob_path(pl_raw.sha256)}" in err.getvalue()
    assert f"MISSING s3://{s3_storage.bucket}/{blob_path(xps_raw.sha256)}" in err.getvalue()
    assert "NC8.3_pl.csv" in err.getvalue() and "NC8.3.vms" in err.getvalue()
