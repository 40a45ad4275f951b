"""The watcher (watchdog observer on a tmp dir, native and polling), the management
command and the beat task. Settle times are fractions of a second: fast tests."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labtrack.dropfolders.models import DropFolder, DropItem, ItemState
from labtrack.dropfolders.watcher import watch
from labtrack.measurements.models import Measurement
from tests.labtrack.dropfolders.conftest import STRYCHNINE, copy_experiment

pytestmark = pytest.mark.django_db


def _watch_until_ingested(folder, *, polling: bool, timeout_s: float = 20.0):
    """Run the watcher in this thread while another copies an experiment in file by file;
    returns the scan reports."""
    stop, reports = threading.Event(), []
    dest = os.path.join(folder.path, "NC12.8-P", "10")

    def copy_slowly():
        for _ in copy_experiment(STRYCHNINE, Path(dest)):
            time.sleep(0.15)

    def on_scan(report):
        reports.append(report)
        if report.get("ingested") or time.monotonic() > deadline:
            stop.set()

    deadline = time.monotonic() + timeout_s
    copier = threading.Thread(target=copy_slowly)
    copier.start()
    try:
        watch(folder.pk, stop=stop, polling=polling, poll_interval_s=0.1, settle_s=0.3, rescan_s=0.2, on_scan=on_scan)
    finally:
        copier.join()
    return reports


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_watcher_ingests_a_slowly_copied_experiment_once(nmr_folder, samples, polling):
    reports = _watch_until_ingested(nmr_folder, polling=polling)
    assert sum(r.get("ingested", 0) for r in reports) == 1, reports
    assert any(r.get("growing") or r.get("incomplete") for r in reports)  # it did wait while files arrived
    measurement = Measurement.objects.get()
    assert measurement.sample == samples["NC12.8-P"]
    assert measurement.raw_files.get().detected_format == "bruker-topspin"
    assert DropItem.objects.get().state == ItemState.INGESTED


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_events_wake_the_watcher_in_the_folder_and_inside_an_experiment(nmr_folder, samples, tmp_path, polling):
    """With timed rescans every 30 s, only events can make these scans happen in seconds."""
    staged = tmp_path / "staging" / "NC12.8-P"
    shutil.copytree(STRYCHNINE, staged / "10")
    stop, reports, started = threading.Event(), [], time.monotonic()

    def on_scan(report):
        reports.append(report)
        if len(reports) == 1:  # the first scan, at start: an empty folder
            os.rename(staged, os.path.join(nmr_folder.path, "NC12.8-P"))  # as copy tools finish a transfer
        elif report.get("new"):
            # Ignored by the scan (hidden), but an event inside the experiment folder.
            open(os.path.join(nmr_folder.path, "NC12.8-P", "10", ".touched"), "w").close()
        if report.get("ingested") or time.monotonic() - started > 10:
            stop.set()

    watch(nmr_folder.pk, stop=stop, polling=polling, poll_interval_s=0.1, settle_s=0, rescan_s=30, on_scan=on_scan)
    assert reports[-1] == {"ingested": 1}, reports
    assert time.monotonic() - started < 10
    assert Measurement.objects.count() == 1


def test_watcher_survives_its_folder_going_away(nmr_folder):
    stop, reports = threading.Event(), []

    def on_scan(report):
        reports.append(report)
        if len(reports) == 1:
            shutil.rmtree(nmr_folder.path)  # an unmounted share
        if len(reports) >= 3:
            stop.set()

    watch(nmr_folder.pk, stop=stop, polling=True, poll_interval_s=0.1, settle_s=0, rescan_s=0.05, on_scan=on_scan)
    nmr_folder.refresh_from_db()
    assert len(reports) == 3 and "cannot be read" in nmr_folder.last_scan_error


def test_command_creates_a_folder_and_scans_once(drop_root, members, project, samples, capsys):
    path = drop_root / "saxs"
    path.mkdir()
    with pytest.raises(CommandError, match="No drop folder"):
        call_command("watch_dropfolder", str(path), "--once")
    with pytest.raises(CommandError, match="--create needs --technique"):
        call_command("watch_dropfolder", str(path), "--create", "--project", project.name, "--upload-as", "chemist")
    from analysis.synthetic.saxs import write_saxs_curve

    write_saxs_curve(path / "NC12.8-P-AGED_saxs.dat", "NC12.8")
    call_command("watch_dropfolder", str(path), "--create", "--project", project.name, "--technique", "saxs",
                 "--upload-as", "chemist", "--settle", "0", "--once")
    folder = DropFolder.objects.get()
    assert folder.upload_as == members["chemist"] and folder.technique == "saxs"
    call_command("watch_dropfolder", str(folder.pk), "--once", "--settle", "0")
    assert "1 ingested" in capsys.readouterr().out
    assert Measurement.objects.get().sample == samples["NC12.8-P-AGED"]
    assert (path / "processed" / "NC12.8-P-AGED_saxs.dat").exists()


def test_beat_task_scans_every_enabled_folder(nmr_folder, samples, drop_root, members, project, settings):
    from labtrack.celery import app
    from labtrack.dropfolders import tasks
    from labtrack.dropfolders.services import dropfolder_create

    assert settings.CELERY_BEAT_SCHEDULE["dropfolder-scan"]["task"] == "labtrack.dropfolders.tasks.scan_dropfolders"
    off = drop_root / "off"
    off.mkdir()
    disabled = dropfolder_create(user=members["manager"], path=str(off), name="off", project=project,
                                 technique="nmr", settle_s=0, enabled=False, upload_as=members["chemist"])
    shutil.copytree(STRYCHNINE, os.path.join(nmr_folder.path, "NC12.8-P", "10"))
    shutil.copytree(STRYCHNINE, off / "NC12.8-P" / "10")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the per-folder tasks run here, not on a worker
    try:
        assert tasks.scan_dropfolders.apply().get() == 1
        assert tasks.scan_dropfolders.apply().get() == 1
        tasks.scan_dropfolders.apply()  # idempotent: scanning again ingests nothing more
    finally:
        app.conf.task_always_eager = eager
    assert Measurement.objects.count() == 1
    assert not DropItem.objects.filter(folder=disabled).exists()
