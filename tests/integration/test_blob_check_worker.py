"""The daily raw-file check, sent by name as beat sends it, is run by a worker started as
deployed (it travels on its own integrity queue) and records what it found."""
from __future__ import annotations

import hashlib

import pytest

from labtrack.celery import app
from labtrack.measurements.models import BlobCheck, Measurement, RawFile, blob_path
from labtrack.operations.worker_process import WorkerProcess, purge_broker
from tests.conftest import wait_for
from tests.labtrack.factories import make_batch, make_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_beat_task_runs_on_a_worker_and_flags_a_bit_flip(real_services, members, project, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    chemist = members["chemist"]
    measurement = Measurement.objects.create(
        sample=make_sample(chemist, make_batch(chemist, project, code="NC9.9")), technique="pl")
    data = b"wavelength_nm,intensity\n500,1\n501,2\n"
    sha = hashlib.sha256(data).hexdigest()
    blob = tmp_path / "media" / blob_path(sha)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data[:-2] + b"3\n")  # same size, other bytes
    RawFile.objects.create(measurement=measurement, sha256=sha, original_name="NC9.9-PL.csv", size_bytes=len(data),
                           detected_format="pl-csv", data_kind="pl-spectrum", uploaded_by=chemist)
    assert app.amqp.router.route({}, "labtrack.operations.tasks.verify_raw_files")["queue"].name == "integrity"
    purge_broker()
    worker = WorkerProcess().start()  # after MEDIA_ROOT is set: the worker checks this folder
    try:
        app.send_task("labtrack.operations.tasks.verify_raw_files")
        wait_for(lambda: BlobCheck.objects.filter(status="done").exists(), timeout=120,
                 message="the worker to run the raw-file check from the integrity queue")
        # The pass is recorded as done, then its mismatches are e-mailed and marked: wait
        # for that second step too (reading at once raced it).
        wait_for(lambda: BlobCheck.objects.get().mismatches.filter(notified_at__isnull=False).exists(), timeout=30,
                 message="the worker to mark the mismatch as notified")
    finally:
        worker.stop()
    check = BlobCheck.objects.get()
    assert (check.blobs_checked, check.corrupt_count) == (1, 1)
    mismatch = check.mismatches.get()
    # nobody to e-mail here (no ADMINS, no manager address): marked, not retried every night
    assert mismatch.batch_codes == "NC9.9" and mismatch.notified_at is not None
