"""The scanner: completeness, settling, matching, duplicates, bad input; nothing lost."""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from labtrack.analyses.models import AnalysisRun
from labtrack.dropfolders.models import DropItem, ItemState
from labtrack.dropfolders.scanning import folder_scan
from labtrack.measurements.models import Measurement, RawFile
from labtrack.samples.models import Batch
from tests.labtrack.dropfolders.conftest import ASPIRIN, STRYCHNINE, copy_experiment
from tests.labtrack.factories import measurement_counts_wrong

pytestmark = pytest.mark.django_db

# A copy tool's order in which the experiment is incomplete until the very last file.
SLOW_ORDER = ["pdata/1/title", "pdata/1/procs", "pulseprogram", "acqus", "fid", "pdata/1/1r"]


def scan(folder, **kwargs):
    return folder_scan(folder_id=folder.pk, **kwargs)


def tree_sha(path):
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def test_topspin_folder_copied_slowly_is_ingested_once_after_it_is_complete(nmr_folder, samples):
    drop = os.path.join(nmr_folder.path, "NC12.8-P", "10")
    for rel in copy_experiment(STRYCHNINE, Path(drop), SLOW_ORDER):
        if rel == "fid":
            # A half-written fid: the file grows between two scans, so it is not settled.
            with open(STRYCHNINE / "fid", "rb") as src, open(os.path.join(drop, "fid"), "wb") as out:
                out.write(src.read(100_000))
            scan(nmr_folder)
            shutil.copyfile(STRYCHNINE / "fid", os.path.join(drop, "fid"))
        if rel != SLOW_ORDER[-1]:
            for _ in range(2):  # a partial folder waits however often it is looked at
                scan(nmr_folder)
            item = DropItem.objects.get()
            assert item.state == ItemState.WAITING and "1r" in item.missing
        assert not Measurement.objects.exists(), f"ingested before complete (after {rel})"
    # Complete now, but just changed: the next scan sees it grow, the one after settled.
    assert scan(nmr_folder) == {"growing": 1} and not Measurement.objects.exists()
    report = scan(nmr_folder)
    assert report == {"ingested": 1}
    measurement = Measurement.objects.get()
    assert measurement.sample == samples["NC12.8-P"] and measurement.technique == "nmr"
    raw = measurement.raw_files.get()
    assert raw.original_name == "NC12.8-P_10.zip" and raw.detected_format == "bruker-topspin"
    assert AnalysisRun.objects.filter(measurement=measurement).exists()  # its default analysis was requested
    item = DropItem.objects.get()
    assert item.state == ItemState.INGESTED and item.measurement == measurement
    moved = os.path.join(nmr_folder.path, "processed", "NC12.8-P", "10")
    assert item.path == moved and tree_sha(Path(moved)) == tree_sha(STRYCHNINE)
    assert not os.path.exists(os.path.join(nmr_folder.path, "NC12.8-P"))  # the emptied data set folder
    for _ in range(3):
        scan(nmr_folder)
    assert Measurement.objects.count() == 1 and DropItem.objects.count() == 1
    # The batch list's kept count went up with the ingestion, once.
    assert Batch.objects.get(pk=samples["NC12.8-P"].batch_id).measurement_count == 1
    assert measurement_counts_wrong() == {}


def test_complete_item_waits_for_the_settle_time(nmr_folder, samples):
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC12.8-P-AGED", "1"))
    assert scan(nmr_folder, settle_s=0.4) == {"new": 1}
    assert scan(nmr_folder, settle_s=0.4) == {"settling": 1}
    time.sleep(0.45)
    assert scan(nmr_folder, settle_s=0.4) == {"ingested": 1}
    assert Measurement.objects.get().sample == samples["NC12.8-P-AGED"]  # the longest matching code


def test_second_copy_of_the_same_content_is_skipped_and_moved_aside(nmr_folder, samples):
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC12.8-P", "1"))
    scan(nmr_folder), scan(nmr_folder)
    # The same experiment again, under another data set and experiment number.
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC12.8-P-copy", "7"))
    scan(nmr_folder)
    assert scan(nmr_folder) == {"duplicate": 1}
    assert Measurement.objects.count() == 1 and measurement_counts_wrong() == {}
    first, second = DropItem.objects.order_by("pk")
    assert second.state == ItemState.DUPLICATE and second.duplicate_of == first and second.sha256 == first.sha256
    assert second.measurement == first.measurement and "Same content as NC12.8-P/1" in second.message
    assert second.path == os.path.join(nmr_folder.path, "duplicates", "NC12.8-P-copy", "7")
    assert tree_sha(Path(second.path)) == tree_sha(ASPIRIN)


def test_file_already_uploaded_on_the_web_is_a_duplicate(nmr_folder, samples, members, tmp_path):
    from labtrack.analyses.pipeline import Upload, measurement_upload

    zipped = shutil.make_archive(str(tmp_path / "aspirin"), "zip", ASPIRIN.parent, "1")
    with open(zipped, "rb") as fh:
        measurement_upload(user=members["chemist"], sample=samples["NC12.8-P"], technique="nmr",
                           uploads=[Upload("aspirin.zip", fh)], request_analyses=False)
    shutil.copyfile(zipped, os.path.join(nmr_folder.path, "NC12.8-P_again.zip"))
    scan(nmr_folder)
    assert scan(nmr_folder) == {"duplicate": 1}
    item = DropItem.objects.get()
    assert "already stored as aspirin.zip" in item.message and Measurement.objects.count() == 1


def test_unmatched_file_is_recorded_and_kept(nmr_folder, samples):
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC99.9-X", "1"))
    scan(nmr_folder)
    assert scan(nmr_folder) == {"unmatched": 1}
    item = DropItem.objects.get()
    assert item.state == ItemState.UNMATCHED and item.sample_code == "NC99.9-X"
    assert "No sample NC99.9-X" in item.message and item.detected.startswith("Solid-state NMR")
    assert item.sha256 and item.size_bytes == sum(p.stat().st_size for p in ASPIRIN.rglob("*") if p.is_file())
    assert item.path == os.path.join(nmr_folder.path, "unmatched", "NC99.9-X", "1")
    assert tree_sha(Path(item.path)) == tree_sha(ASPIRIN)
    assert not Measurement.objects.exists()
    assert scan(nmr_folder) == {}  # the unmatched/ subfolder is not scanned again


def test_file_of_another_technique_fails_with_the_reason_and_is_kept(nmr_folder, samples, tmp_path):
    from analysis.synthetic.saxs import write_saxs_curve

    data = write_saxs_curve(tmp_path / "x.dat", "NC12.8").read_bytes()
    (Path(nmr_folder.path) / "NC12.8-P_saxs.dat").write_bytes(data)
    scan(nmr_folder)
    assert scan(nmr_folder) == {"failed": 1}
    item = DropItem.objects.get()
    assert item.state == ItemState.FAILED and "not Solid-state NMR" in item.message
    assert item.detected.startswith("SAXS")
    assert not Batch.objects.filter(measurement_count__gt=0).exists()  # nothing saved, nothing counted
    assert open(item.path, "rb").read() == data and item.path.endswith(os.path.join("failed", "NC12.8-P_saxs.dat"))
    assert not Measurement.objects.exists() and not RawFile.objects.exists()


def test_unreadable_file_is_recorded_not_raised_and_left_in_place(nmr_folder, samples, monkeypatch):
    from labtrack.dropfolders import files

    def denied(path):
        raise PermissionError(13, "Permission denied", path)

    # The tests run as root, who reads any file: the instrument PC's share refusing is simulated.
    monkeypatch.setattr(files, "file_sha256", denied)
    monkeypatch.setattr(files, "move_aside", lambda *a: denied(a[0]))
    path = os.path.join(nmr_folder.path, "NC12.8-P.zip")
    open(path, "wb").write(b"PK\x03\x04 not really")
    scan(nmr_folder)
    assert scan(nmr_folder) == {"failed": 1}
    item = DropItem.objects.get()
    assert "cannot be read (Permission denied)" in item.message and "stays at" in item.message
    assert item.path == path and os.path.exists(path)
    assert scan(nmr_folder) == {}  # left in place, unchanged: not taken up again


def test_oversized_file_is_refused_with_the_limit_and_kept(nmr_folder, samples, settings):
    settings.LABTRACK_MAX_UPLOAD_BYTES = 1000
    path = os.path.join(nmr_folder.path, "NC12.8-P.zip")
    open(path, "wb").write(b"x" * 5000)
    scan(nmr_folder)
    assert scan(nmr_folder) == {"failed": 1}
    item = DropItem.objects.get()
    assert "larger than the 1 KiB upload limit" in item.message and os.path.getsize(item.path) == 5000


def test_measurement_before_the_sample_fails_with_the_chemists_reason(nmr_folder, samples):
    from datetime import datetime, timezone as dt_timezone

    from labtrack.samples.models import Sample

    Sample.objects.filter(code="NC12.8-P").update(prepared_at=datetime(2024, 1, 1, tzinfo=dt_timezone.utc))
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC12.8-P", "1"))
    scan(nmr_folder)
    assert scan(nmr_folder) == {"failed": 1}
    item = DropItem.objects.get()
    assert "before sample NC12.8-P was prepared" in item.message
    assert item.path == os.path.join(nmr_folder.path, "failed", "NC12.8-P", "1")


def test_unreadable_folder_is_recorded_on_the_folder(nmr_folder):
    shutil.rmtree(nmr_folder.path)
    assert scan(nmr_folder) == {}
    nmr_folder.refresh_from_db()
    assert "cannot be read" in nmr_folder.last_scan_error and nmr_folder.scan_claimed_until is None


def test_a_claimed_folder_is_not_scanned_twice_at_once(nmr_folder):
    from labtrack.dropfolders.scanning import folder_claim

    assert folder_claim(nmr_folder.pk) is not None
    assert scan(nmr_folder) == {"skipped": 1}


def test_file_that_vanishes_before_settling_leaves_no_item(nmr_folder):
    path = os.path.join(nmr_folder.path, "NC12.8-P.dat")
    open(path, "w").write("1 2\n")
    scan(nmr_folder)
    os.remove(path)
    scan(nmr_folder)
    assert not DropItem.objects.exists()


def test_temporary_and_hidden_files_are_ignored(nmr_folder):
    for name in ("NC12.8-P.zip.part", ".DS_Store", "~$notes.xlsx"):
        open(os.path.join(nmr_folder.path, name), "w").write("x")
    scan(nmr_folder), scan(nmr_folder)
    assert not DropItem.objects.exists()


def test_folder_that_is_no_topspin_experiment_fails_once_settled(nmr_folder, samples):
    folder = Path(nmr_folder.path) / "NC12.8-P exports"
    folder.mkdir()
    (folder / "notes.txt").write_text("peak at 4.2 ppm")
    scan(nmr_folder)
    assert scan(nmr_folder) == {"failed": 1}
    item = DropItem.objects.get()
    assert "not a TopSpin experiment" in item.message
    assert (Path(item.path) / "notes.txt").read_text() == "peak at 4.2 ppm"


def test_numbered_folder_still_being_created_waits(nmr_folder, samples):
    (Path(nmr_folder.path) / "NC12.8-P" / "10").mkdir(parents=True)
    (Path(nmr_folder.path) / "NC12.8-P" / "10" / "pulseprogram").write_text("zg30")
    for _ in range(3):
        scan(nmr_folder)
    item = DropItem.objects.get()
    assert item.state == ItemState.WAITING and item.missing == "acqus, fid or ser"


def test_the_database_holds_one_content_once_per_project_even_across_folders(nmr_folder, samples, drop_root,
                                                                             members, project):
    from labtrack.dropfolders.ingest import transition
    from labtrack.dropfolders.services import dropfolder_create

    other = drop_root / "nmr600"
    other.mkdir()
    second = dropfolder_create(user=members["manager"], name="NMR 600", path=str(other), project=project,
                               technique="nmr", upload_as=members["chemist"], settle_s=0)
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "NC99-X", "1"))
    shutil.copytree(ASPIRIN, other / "NC12.8-P" / "1")
    scan(nmr_folder), scan(nmr_folder)
    held = DropItem.objects.get(state=ItemState.UNMATCHED)
    scan(second)
    racer = DropItem.objects.get(folder=second)
    # As if a scanner of the other folder had passed the duplicate check a moment earlier:
    # the unique index refuses the second claim of the same content.
    assert not transition(racer, (ItemState.WAITING,), state=ItemState.INGESTING, sha256=held.sha256)
    racer.refresh_from_db()
    assert racer.state == ItemState.WAITING
    assert scan(second) == {"duplicate": 1} and not Measurement.objects.exists()
