"""The beat's drop-folder scan on a real Celery worker with PostgreSQL and Redis: a
TopSpin experiment dropped in the folder becomes a measurement whose analysis runs."""
from __future__ import annotations

import os
import shutil

import pytest

from labtrack.analyses.models import AnalysisRun
from labtrack.dropfolders.models import DropItem, ItemState
from tests.conftest import wait_for
# The drop-folder fixtures (a folder under tmp_path, samples NC12.8-P...) are shared with the unit tests.
from tests.labtrack.dropfolders.conftest import STRYCHNINE, drop_root, nmr_folder, samples  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_beat_scan_on_a_real_worker_ingests_once_and_the_run_finishes(real_services, nmr_folder, samples,
                                                                       celery_worker_process):
    from labtrack.dropfolders.tasks import scan_dropfolders

    shutil.copytree(STRYCHNINE, os.path.join(nmr_folder.path, "NC12.8-P", "10"))
    scan_dropfolders.delay()
    wait_for(lambda: DropItem.objects.exists(), timeout=60, message="the first scan")
    for _ in range(3):  # the beat keeps ticking: the later scans find nothing new
        scan_dropfolders.delay()
    item = wait_for(lambda: DropItem.objects.filter(state=ItemState.INGESTED).first(), timeout=60,
                    message=f"the item to be ingested\n{celery_worker_process.tail()}")
    run = wait_for(lambda: AnalysisRun.objects.filter(measurement=item.measurement, finished_at__isnull=False).first(),
                   timeout=120, message=f"the run to finish\n{celery_worker_process.tail()}")
    assert run.routine.startswith("nmr.")
    nmr_folder.refresh_from_db()
    scanned_before = nmr_folder.last_scanned_at
    scan_dropfolders.delay()
    wait_for(lambda: type(nmr_folder).objects.get(pk=nmr_folder.pk).last_scanned_at > scanned_before, timeout=60,
             message="a scan after the ingestion")
    assert DropItem.objects.count() == 1 and AnalysisRun.objects.filter(measurement=item.measurement).count() == 1
    assert os.path.isdir(os.path.join(nmr_folder.path, "processed", "NC12.8-P", "10"))
