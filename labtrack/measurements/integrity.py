"""The periodic re-verification of raw files (issue 14, item 6): one pass re-hashes every
stored blob with `blob_audit.verify` (filesystem or S3 alike), records what it found as a
BlobCheck with one BlobMismatch per missing or corrupt blob, and e-mails the managers of
the projects affected (and settings.ADMINS) about each mismatch once: a mismatch already
reported by the previous pass is not e-mailed again, a repaired one that comes back is.

Only one pass runs at a time: a pass claims a `running` BlobCheck row, which a partial
unique constraint allows once; an overlapping beat tick finds it taken and does nothing.
A running row older than the task's hard time limit belongs to a killed worker and is
marked abandoned, so a dead pass never blocks the next night's.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.core.files.storage import Storage
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from labtrack.core.roles import Role
from labtrack.measurements import blob_audit
from labtrack.measurements.blobs import blob_location, blob_storage
from labtrack.measurements.models import BlobCheck, BlobCheckStatus, BlobMismatch, BlobMismatchKind, RawFile
from labtrack.samples.models import Membership

log = logging.getLogger(__name__)

# The task's limits (labtrack.operations.tasks): hashing is disk- or network-bound, about
# 100-200 MiB/s, so six hours covers a few TB. A running row older than the hard limit
# cannot belong to a live pass.
PASS_SOFT_TIME_LIMIT_S = 6 * 3600
PASS_HARD_TIME_LIMIT_S = PASS_SOFT_TIME_LIMIT_S + 600
AFFECTED_LISTED = 50  # raw files listed per blob (a blob shared by more is counted)
_IN_CHUNK = 500       # checksums per IN (...) query


@dataclass(frozen=True)
class _Found:
    sha256: str
    kind: str
    actual_sha256: str = ""


def _storage_description(storage: Storage) -> str:
    if settings.LABTRACK_STORAGE == "s3" and storage is blob_storage():
        return f"S3 bucket {settings.STORAGES['default']['OPTIONS']['bucket_name']}"
    return str(getattr(storage, "location", "") or settings.MEDIA_ROOT)


def _claim(now: datetime, storage: Storage) -> BlobCheck | None:
    """A new running pass, or None when another pass holds the claim."""
    stale_before = now - timedelta(seconds=PASS_HARD_TIME_LIMIT_S)
    BlobCheck.objects.filter(status=BlobCheckStatus.RUNNING, started_at__lt=stale_before).update(
        status=BlobCheckStatus.ABANDONED, finished_at=now,
        error="its worker stopped before the pass finished (killed, or past the hard time limit)")
    try:
        with transaction.atomic():
            return BlobCheck.objects.create(started_at=now, storage_location=_storage_description(storage))
    except IntegrityError:
        return None


def _affected(shas: Iterable[str]) -> dict[str, list[dict]]:
    """sha256 -> the raw files that need the blob, with their measurement, sample, batch."""
    shas = sorted(set(shas))
    out: dict[str, list[dict]] = defaultdict(list)
    for start in range(0, len(shas), _IN_CHUNK):
        rows = (RawFile.objects.filter(sha256__in=shas[start:start + _IN_CHUNK])
                .order_by("sha256", "pk")
                .values_list("pk", "sha256", "original_name", "measurement_id", "measurement__technique",
                             "measurement__sample__code", "measurement__sample__batch_id",
                             "measurement__sample__batch__code", "measurement__sample__batch__project_id"))
        for pk, sha, name, measurement_id, technique, sample, batch_id, batch, project_id in rows.iterator():
            out[sha].append({"raw_file": pk, "name": name, "measurement": measurement_id, "technique": technique,
                             "sample": sample, "batch_id": batch_id, "batch": batch, "project": project_id})
    return out


def _previous_notices(before: BlobCheck) -> dict[_Found, tuple[datetime, datetime | None]]:
    """The previous finished pass's mismatches: (first found, e-mailed) per mismatch."""
    previous = (BlobCheck.objects.filter(status=BlobCheckStatus.DONE, started_at__lte=before.started_at)
                .exclude(pk=before.pk).order_by("-started_at", "-pk").first())
    if previous is None:
        return {}
    return {_Found(m.sha256, m.kind, m.actual_sha256): (m.first_found_at, m.notified_at)
            for m in previous.mismatches.all()}


def blob_check_run(*, storage: Storage | None = None, now: datetime | None = None) -> BlobCheck | None:
    """Run one verification pass and e-mail its new mismatches. Returns the pass, or None
    when another pass is running (an overlapping beat tick). Idempotent: running it twice
    records two passes and e-mails each mismatch once."""
    storage = storage or blob_storage()
    now = now or timezone.now()
    check = _claim(now, storage)
    if check is None:
        log.info("blob check skipped: another pass is running")
        return None
    try:
        report = blob_audit.verify(storage)
        # A corrupt blob's current hash is part of the mismatch: corrupted differently
        # since the last pass, it is news.
        found = ([_Found(sha, BlobMismatchKind.MISSING) for sha in report.missing]
                 + [_Found(sha, BlobMismatchKind.CORRUPT, report.corrupt_actual[sha]) for sha in report.corrupt])
        _record(check, report, found, storage)
    except BaseException as exc:  # soft time limit, storage down, ...: the pass says why
        BlobCheck.objects.filter(pk=check.pk).update(status=BlobCheckStatus.FAILED, finished_at=timezone.now(),
                                                     error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    notify_new_mismatches(check)
    check.refresh_from_db()
    return check


def _record(check: BlobCheck, report: blob_audit.VerifyReport, found: list[_Found], storage: Storage) -> None:
    previous = _previous_notices(check)
    affected = _affected(f.sha256 for f in found)
    rows = []
    for item in found:
        first_found_at, notified_at = previous.get(item, (check.started_at, None))
        files = affected.get(item.sha256, [])
        rows.append(BlobMismatch(
            check_pass=check, sha256=item.sha256, kind=item.kind, actual_sha256=item.actual_sha256,
            location=blob_location(item.sha256, storage)[:1000], raw_file_count=len(files),
            affected=files[:AFFECTED_LISTED],
            batch_codes=", ".join(sorted({f["batch"] for f in files if f["batch"]}))[:5000],
            first_found_at=first_found_at, notified_at=notified_at))
    with transaction.atomic():
        BlobMismatch.objects.bulk_create(rows, batch_size=500)
        check.blobs_checked = report.checked
        check.missing_count = len(report.missing)
        check.corrupt_count = len(report.corrupt)
        check.unreferenced_count = len(report.unreferenced)
        check.new_mismatch_count = sum(1 for r in rows if r.first_found_at == check.started_at)
        check.status = BlobCheckStatus.DONE
        check.finished_at = timezone.now()
        check.save()


def _recipients_by_project(project_ids: set[int]) -> dict[int, list[str]]:
    rows = (Membership.objects.filter(project_id__in=project_ids, role=Role.MANAGER)
            .exclude(user__email="").values_list("project_id", "user__email"))
    out: dict[int, set[str]] = defaultdict(set)
    for project_id, email in rows:
        out[project_id].add(email)
    return {pid: sorted(emails) for pid, emails in out.items()}


def _message(check: BlobCheck, mismatches: list[BlobMismatch], project_id: int | None) -> str:
    url = settings.LABTRACK_BASE_URL.rstrip("/") + reverse("admin:measurements_blobcheck_change", args=[check.pk])
    lines = [f"The raw-file check of {check.started_at:%Y-%m-%d %H:%M} UTC ({check.storage_location}) re-hashed "
             f"{check.blobs_checked} blobs and found {len(mismatches)} new problem(s):", ""]
    for m in mismatches:
        lines.append(f"- {m.get_kind_display()}: {m.location}")
        files = [f for f in m.affected if project_id is None or f["project"] == project_id]
        for f in files:
            lines.append(f"    raw file #{f['raw_file']} {f['name']} - {f['technique']} measurement "
                         f"#{f['measurement']} of sample {f['sample']}, batch {f['batch']}")
        if project_id is None and m.raw_file_count > len(m.affected):
            lines.append(f"    ... and {m.raw_file_count - len(m.affected)} more raw files")
    lines += ["", "Restore these blobs from the backup (deploy/restore.sh, or manage.py restore_blobs, "
              "repairs by checksum); analyses of these files fail until then.", url, ""]
    return "\n".join(lines)


def notify_new_mismatches(check: BlobCheck) -> int:
    """E-mail the pass's mismatches nobody was told about yet: to each affected project's
    managers the files of their project, to settings.ADMINS all of them. The mismatches
    are marked in the same transaction as the sending, so an SMTP failure leaves them to
    the next pass. Returns how many e-mails were sent."""
    with transaction.atomic():
        pending = list(BlobMismatch.objects.select_for_update(skip_locked=True)
                       .filter(check_pass=check, notified_at__isnull=True))
        if not pending:
            return 0
        projects = {f["project"] for m in pending for f in m.affected}
        mails: list[tuple[list[str], list[BlobMismatch], int | None]] = []
        for project_id, emails in sorted(_recipients_by_project(projects).items()):
            mine = [m for m in pending if any(f["project"] == project_id for f in m.affected)]
            mails.append((emails, mine, project_id))
        admins = sorted({email for _name, email in settings.ADMINS})
        if admins:
            mails.append((admins, pending, None))
        subject = (f"[LabTrack] raw-file check: {sum(m.kind == 'corrupt' for m in pending)} corrupt, "
                   f"{sum(m.kind == 'missing' for m in pending)} missing blob(s)")
        try:
            for recipients, mismatches, project_id in mails:
                send_mail(subject=subject, message=_message(check, mismatches, project_id), from_email=None,
                          recipient_list=recipients)
        except OSError as exc:  # SMTP down: nothing marked, so the next pass tries again
            log.warning("blob check %s: e-mail not sent: %s", check.pk, exc)
            transaction.set_rollback(True)
            return 0
        if not mails:
            log.warning("blob check %s found %d mismatches and nobody to e-mail (no ADMINS, no managers "
                        "with an address); see the admin page", check.pk, len(pending))
        BlobMismatch.objects.filter(pk__in=[m.pk for m in pending]).update(notified_at=timezone.now())
    return len(mails)
