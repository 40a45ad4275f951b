"""The periodic raw-file re-verification (issue 14, item 6): the beat task re-hashes every
blob, records the pass, shows it in the admin and e-mails each new mismatch once."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from labtrack.measurements import integrity
from labtrack.measurements.models import BlobCheck, BlobMismatch, Measurement, RawFile, blob_path
from labtrack.operations.demo import _manager_permissions
from labtrack.operations.tasks import verify_raw_files
from labtrack.samples.models import Membership
from tests.labtrack.factories import make_batch, make_sample

PL = b"wavelength_nm,intensity\n500,1\n501,3\n502,1\n"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ADMINS = [("Ops", "ops@lab.example")]
    return tmp_path / "media"


@pytest.fixture
def manager(members):
    user = members["manager"]
    user.email = "manager@lab.example"
    user.save()
    return user


@pytest.fixture
def store(media, members, project, manager):
    """store(data, name, batch_code) -> the blob's path; a raw file of a PL measurement."""
    chemist = members["chemist"]
    batches = {}

    def add(data: bytes, name: str = "NC8.3-PL.csv", batch_code: str = "NC8.3", in_project=None) -> Path:
        key = (batch_code, (in_project or project).pk)
        if key not in batches:
            batches[key] = make_sample(chemist, make_batch(chemist, in_project or project, code=batch_code))
        sha = hashlib.sha256(data).hexdigest()
        path = media / blob_path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        measurement = Measurement.objects.create(sample=batches[key], technique="pl")
        RawFile.objects.create(measurement=measurement, sha256=sha, original_name=name, size_bytes=len(data),
                               detected_format="pl-csv", data_kind="pl-spectrum", uploaded_by=chemist)
        return path

    return add


def _flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[5] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_bit_flipped_blob_is_flagged_by_the_task_and_e_mailed_naming_file_and_batch(store):
    store(PL + b"503,0\n", name="NC7.1-PL.csv", batch_code="NC7.1")
    victim = store(PL, name="NC8.3-PL.csv", batch_code="NC8.3")
    size = victim.stat().st_size
    _flip_one_bit(victim)
    assert victim.stat().st_size == size

    check = BlobCheck.objects.get(pk=verify_raw_files.apply().get())

    assert (check.status, check.blobs_checked, check.corrupt_count, check.missing_count) == ("done", 2, 1, 0)
    mismatch = check.mismatches.get()
    assert mismatch.kind == "corrupt" and mismatch.batch_codes == "NC8.3"
    assert mismatch.actual_sha256 == hashlib.sha256(victim.read_bytes()).hexdigest()
    assert [f["name"] for f in mismatch.affected] == ["NC8.3-PL.csv"]
    assert mismatch.notified_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@lab.example", "ops@lab.example"]
    for message in mail.outbox:
        assert "1 corrupt" in message.subject
        assert "NC8.3-PL.csv" in message.body and "batch NC8.3" in message.body and str(victim) in message.body
        assert "NC7.1" not in message.body


def test_a_clean_pass_is_recorded_and_sends_nothing(store):
    store(PL)
    check = integrity.blob_check_run()
    assert check.ok and check.blobs_checked == 1 and not check.mismatches.exists()
    assert mail.outbox == []


def test_the_same_mismatch_is_e_mailed_once_and_again_when_it_comes_back_after_a_repair(store):
    victim = store(PL)
    good = victim.read_bytes()
    _flip_one_bit(victim)
    first = integrity.blob_check_run()
    assert first.new_mismatch_count == 1 and len(mail.outbox) == 2

    second = integrity.blob_check_run()
    assert second.corrupt_count == 1 and second.new_mismatch_count == 0
    again = second.mismatches.get()
    assert again.first_found_at == first.started_at and again.notified_at == first.mismatches.get().notified_at
    assert len(mail.outbox) == 2  # nothing new

    victim.write_bytes(good)  # restored from the backup
    assert integrity.blob_check_run().ok
    _flip_one_bit(victim)
    assert integrity.blob_check_run().new_mismatch_count == 1
    assert len(mail.outbox) == 4


def test_a_missing_blob_is_reported_too(store):
    store(PL, name="lost.csv").unlink()
    check = integrity.blob_check_run()
    assert check.missing_count == 1 and check.mismatches.get().kind == "missing"
    assert all("lost.csv" in m.body and "1 missing" in m.subject for m in mail.outbox) and mail.outbox


def test_each_project_s_managers_hear_only_of_their_files_and_the_admins_of_all(store, members, other_project,
                                                                                    make_user):
    other_manager = make_user("other-manager", email="other@lab.example")
    Membership.objects.create(project=other_project, user=other_manager, role="manager")
    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    _flip_one_bit(store(PL, name="ours.csv"))
    _flip_one_bit(store(PL + b"9,9\n", name="theirs.csv", batch_code="OT1", in_project=other_project))
    integrity.blob_check_run()
    to = {m.to[0]: m.body for m in mail.outbox}
    assert set(to) == {"manager@lab.example", "other@lab.example", "ops@lab.example"}
    assert "ours.csv" in to["manager@lab.example"] and "theirs.csv" not in to["manager@lab.example"]
    assert "theirs.csv" in to["other@lab.example"] and "ours.csv" not in to["other@lab.example"]
    assert "ours.csv" in to["ops@lab.example"] and "batch OT1" in to["ops@lab.example"]


def test_an_overlapping_tick_does_nothing_and_a_dead_pass_does_not_block_the_next(store):
    _flip_one_bit(store(PL))
    running = BlobCheck.objects.create()  # another worker's pass, still going
    assert integrity.blob_check_run() is None
    assert BlobCheck.objects.count() == 1 and mail.outbox == []

    BlobCheck.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - timedelta(seconds=integrity.PASS_HARD_TIME_LIMIT_S + 60))
    check = integrity.blob_check_run()
    assert check.corrupt_count == 1
    running.refresh_from_db()
    assert running.status == "abandoned" and "stopped" in running.error


def test_an_smtp_failure_leaves_the_mismatch_for_the_next_pass(store, settings, monkeypatch):
    _flip_one_bit(store(PL))

    def smtp_down(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(integrity, "send_mail", smtp_down)
    first = integrity.blob_check_run()
    assert first.mismatches.get().notified_at is None
    monkeypatch.undo()
    integrity.blob_check_run()
    assert len(mail.outbox) == 2


def test_a_pass_that_fails_says_why(store, monkeypatch):
    store(PL)

    def storage_down(*args, **kwargs):
        raise OSError("bucket unreachable")

    monkeypatch.setattr(integrity.blob_audit, "verify", storage_down)
    with pytest.raises(OSError):
        integrity.blob_check_run()
    check = BlobCheck.objects.get()
    assert check.status == "failed" and "bucket unreachable" in check.error
    monkeypatch.undo()
    assert integrity.blob_check_run().ok  # the failed pass holds no claim


def test_the_admin_page_shows_passes_and_mismatches_to_a_manager(store, manager, client):
    _flip_one_bit(store(PL, name="NC8.3-PL.csv"))
    check = integrity.blob_check_run()
    manager.is_staff = True
    manager.save()
    manager.user_permissions.set(_manager_permissions())
    client.force_login(manager)

    listing = client.get("/admin/measurements/blobcheck/")
    assert listing.status_code == 200
    assert f"/admin/measurements/blobcheck/{check.pk}/change/".encode() in listing.content
    detail = client.get(f"/admin/measurements/blobcheck/{check.pk}/change/")
    assert detail.status_code == 200 and b"NC8.3-PL.csv" in detail.content and b"NC8.3" in detail.content
    assert b'name="_save"' not in detail.content  # read-only
    mismatches = client.get("/admin/measurements/blobmismatch/")
    assert mismatches.status_code == 200 and b"NC8.3" in mismatches.content


def test_a_chemist_cannot_open_the_admin_page(store, members, client):
    client.force_login(members["chemist"])
    assert client.get("/admin/measurements/blobcheck/").status_code == 302


def test_the_task_runs_on_its_own_queue_every_day(settings):
    # Its own queue: a long pass never holds the 30 s sweep (maintenance) or fits back
    # on a worker started with -X integrity; every worker consumes it by default.
    assert settings.CELERY_TASK_ROUTES["labtrack.operations.tasks.verify_raw_files"] == {"queue": "integrity"}
    assert set(settings.CELERY_TASK_QUEUES) == {"celery", "maintenance", "integrity"}
    entry = settings.CELERY_BEAT_SCHEDULE["verify-raw-files"]
    assert entry["task"] == "labtrack.operations.tasks.verify_raw_files" and entry["schedule"] == 86400.0


def test_flagged_then_repaired_by_restore_blobs_then_clean(store, tmp_path):
    from labtrack.measurements import blob_audit

    victim = store(PL)
    blob_audit.backup(str(tmp_path / "backup"))
    _flip_one_bit(victim)
    assert integrity.blob_check_run().corrupt_count == 1
    report = blob_audit.restore(str(tmp_path / "backup"))
    assert report.repaired == 1 and not report.lost
    assert integrity.blob_check_run().ok and len(mail.outbox) == 2
