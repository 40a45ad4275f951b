"""One scan of a drop folder: called by the watcher on every file-system event (and
periodically), and by the beat task. Idempotent: a scan claims its folder, and every
item's step is a conditional update, so two scanners never ingest one file twice.

An item's life: first seen → WAITING (its signature: sizes and modification times);
unchanged for the folder's settle time, and for a TopSpin experiment every expected file
present → checksummed → DUPLICATE (same content seen before), UNMATCHED (the naming rule
finds no sample of the project), or uploaded → INGESTED; any problem → FAILED with the
reason. Every outcome but WAITING moves the bytes aside (processed/, duplicates/,
unmatched/, failed/); nothing is ever deleted."""
from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from labtrack.dropfolders import files
from labtrack.dropfolders.ingest import detect, ingest, move_item, processed_folder, transition
from labtrack.dropfolders.models import CONTENT_HELD_STATES, DropFolder, DropItem, ItemKind, ItemState
from labtrack.dropfolders.naming import sample_code_candidates
from labtrack.measurements.models import RawFile
from labtrack.measurements.uploads import size_text
from labtrack.samples.models import Sample, code_is

log = logging.getLogger(__name__)


def folder_claim(folder_id: int) -> DropFolder | None:
    """Take the folder for one scan (a conditional update with a lease, so a killed
    scanner's claim lapses). None when it is disabled, gone, or being scanned."""
    now = timezone.now()
    claimed = (DropFolder.objects.filter(pk=folder_id, enabled=True)
               .filter(Q(scan_claimed_until__isnull=True) | Q(scan_claimed_until__lt=now))
               .update(scan_claimed_until=now + timedelta(seconds=settings.LABTRACK_DROPFOLDER_CLAIM_S)))
    if not claimed:
        return None
    return DropFolder.objects.select_related("project", "instrument", "upload_as").get(pk=folder_id)


def _keep_claim(folder: DropFolder) -> None:
    DropFolder.objects.filter(pk=folder.pk).update(
        scan_claimed_until=timezone.now() + timedelta(seconds=settings.LABTRACK_DROPFOLDER_CLAIM_S))


def folder_release(folder: DropFolder, error: str = "") -> None:
    DropFolder.objects.filter(pk=folder.pk).update(scan_claimed_until=None, last_scanned_at=timezone.now(),
                                                   last_scan_error=error)


def folder_scan(*, folder_id: int, settle_s: float | None = None) -> dict[str, int]:
    """Scan the folder once; returns counts of what happened ({"skipped": 1} when another
    scanner has it or it is disabled). A folder that cannot be read is recorded on the
    folder (`last_scan_error`), not raised: the watcher keeps watching."""
    folder = folder_claim(folder_id)
    if folder is None:
        return {"skipped": 1}
    counts: Counter = Counter()
    error = ""
    try:
        _scan(folder, folder.settle_s if settle_s is None else settle_s, counts)
    except OSError as exc:
        error = (f"The folder {folder.path} cannot be read ({exc.strerror or exc}); check that it is mounted "
                 "and that LabTrack may read and write it.")
        log.warning("drop folder %s: %s", folder.pk, error)
    finally:
        folder_release(folder, error)
    return dict(counts)


def reserved_names(folder: DropFolder) -> set[str]:
    reserved = {files.UNMATCHED_DIR, files.DUPLICATES_DIR, files.FAILED_DIR}
    processed = os.path.normpath(processed_folder(folder))
    if os.path.dirname(processed) == os.path.normpath(folder.path):
        reserved.add(os.path.basename(processed))
    return reserved


def _scan(folder: DropFolder, settle_s: float, counts: Counter) -> None:
    _fail_interrupted(folder)
    candidates = files.find_candidates(folder.path, reserved_names(folder))
    waiting = {i.found_path: i for i in DropItem.objects.filter(folder=folder, state=ItemState.WAITING)}
    # Items decided but left where they were found (a move that failed): same bytes, same
    # signature → not taken up again.
    left_in_place = set(DropItem.objects.filter(folder=folder, path__in=[c.path for c in candidates])
                        .exclude(state=ItemState.WAITING).values_list("path", "signature"))
    for c in candidates:
        if (c.path, c.signature) in left_in_place:
            continue
        item = waiting.pop(c.path, None)
        if item is None:
            DropItem.objects.create(folder=folder, project=folder.project, kind=c.kind, name=c.name[:255],
                                    match_name=c.match_name[:255], found_path=c.path, path=c.path,
                                    size_bytes=c.size_bytes, file_count=c.file_count, signature=c.signature,
                                    missing=_missing_text(c), technique=folder.technique)
            counts["new"] += 1
            continue
        now = timezone.now()
        if item.signature != c.signature or item.missing != _missing_text(c):
            # Still being written: the settle time starts again.
            DropItem.objects.filter(pk=item.pk).update(kind=c.kind, signature=c.signature, signature_since=now,
                                                       updated_at=now,
                                                       size_bytes=c.size_bytes, file_count=c.file_count,
                                                       missing=_missing_text(c))
            counts["growing"] += 1
            continue
        if c.missing and not c.problem:
            counts["incomplete"] += 1
            continue
        if (now - item.signature_since).total_seconds() < settle_s:
            counts["settling"] += 1
            continue
        try:
            counts[_settle(folder, item, c)] += 1
        except DatabaseError:
            raise
        except Exception as exc:  # a LabTrack bug on one item must not stop the folder
            log.exception("drop item %s", item.pk)
            _record_failure(item, f"LabTrack could not ingest {item.name} ({type(exc).__name__}: {exc}); "
                                  "it is kept. This is a LabTrack bug: tell the administrator.")
            counts["failed"] += 1
        _keep_claim(folder)
    # Waiting items whose path went away (renamed or removed by the copying program)
    # were never ingested: nothing of them is kept but the absence.
    if waiting:
        DropItem.objects.filter(pk__in=[i.pk for i in waiting.values()], state=ItemState.WAITING).delete()


def _missing_text(c: files.Candidate) -> str:
    return ", ".join(c.missing)[:500]


def _fail_interrupted(folder: DropFolder) -> None:
    """An item left INGESTING by a process that died (the upload's transaction rolled back,
    so nothing was saved) becomes FAILED, to be retried or assigned on the page."""
    stale = timezone.now() - timedelta(seconds=settings.LABTRACK_DROPFOLDER_CLAIM_S)
    DropItem.objects.filter(folder=folder, state=ItemState.INGESTING, updated_at__lt=stale).update(
        state=ItemState.FAILED, updated_at=timezone.now(),
        message="The ingestion was interrupted (the process stopped); nothing was saved. Assign it again.")


def _record_failure(item: DropItem, problem: str) -> None:
    if transition(item, (ItemState.WAITING, ItemState.INGESTING), state=ItemState.FAILED, message=problem,
                  detected=item.detected or detect(item)):
        move_item(item, ItemState.FAILED)


def _settle(folder: DropFolder, item: DropItem, c: files.Candidate) -> str:
    """Decide a complete, settled item; returns the counter to bump."""
    if c.problem:
        _record_failure(item, c.problem)
        return "failed"
    limit = settings.LABTRACK_MAX_UPLOAD_BYTES
    if c.size_bytes > limit:
        _record_failure(item, f"{c.name} is {c.size_bytes / 2**20:,.0f} MiB, larger than the {size_text(limit)} "
                              "upload limit; it is kept, not ingested (split the data or ask the administrator).")
        return "failed"
    try:
        sha256 = files.content_sha256(c)
    except OSError as exc:
        _record_failure(item, f"{c.name} cannot be read ({exc.strerror or exc}); LabTrack needs permission to "
                              "read and move it. It is kept where it is.")
        return "failed"
    DropItem.objects.filter(pk=item.pk).update(sha256=sha256)
    item.sha256 = sha256
    if _mark_if_duplicate(item):
        return "duplicate"
    codes = sample_code_candidates(folder.naming_rule, item.match_name, is_file=item.kind == ItemKind.FILE)
    sample = _sample_for(folder, codes)
    code = sample.code if sample else (codes[0] if codes else "")
    if sample is None:
        why = (f"No sample {codes[0]} in {folder.project}." if codes else
               f"The naming rule finds no sample code in {item.match_name!r}.")
        if not transition(item, (ItemState.WAITING,), state=ItemState.UNMATCHED, sample_code=code[:80],
                          message=why + " Assign a sample on the drop folder page.", detected=detect(item)):
            return "duplicate" if _mark_if_duplicate(item) else "skipped"
        move_item(item, ItemState.UNMATCHED)
        return "unmatched"
    if not transition(item, (ItemState.WAITING,), state=ItemState.INGESTING, sample=sample, sample_code=code[:80]):
        return "duplicate" if _mark_if_duplicate(item) else "skipped"
    problem = ingest(item, user=folder.upload_as, sample=sample, technique=folder.technique,
                     instrument=folder.instrument, on_failure_state=ItemState.FAILED)
    if problem:
        move_item(item, ItemState.FAILED)
        return "failed"
    return "ingested"


def _sample_for(folder: DropFolder, codes: list[str]) -> Sample | None:
    """The project's sample with the longest of `codes` (codes are unique in LabTrack)."""
    for code in codes:
        sample = Sample.objects.filter(code_is(code), batch__project=folder.project).first()
        if sample is not None:
            return sample
    return None


def _mark_if_duplicate(item: DropItem) -> bool:
    """Same content already held by another item of the project, or (a single file)
    already stored as a raw file of the project: DUPLICATE, moved to duplicates/."""
    earlier = (DropItem.objects.filter(project=item.project, sha256=item.sha256, state__in=CONTENT_HELD_STATES)
               .exclude(pk=item.pk).select_related("measurement").first())
    if earlier is not None:
        where = f"measurement #{earlier.measurement_id}" if earlier.measurement_id else earlier.get_state_display().lower()
        message = f"Same content as {earlier.name} (found {earlier.first_seen_at:%Y-%m-%d %H:%M}, {where}); skipped."
        fields = {"duplicate_of": earlier, "measurement": earlier.measurement}
    else:
        raw = (RawFile.objects.filter(sha256=item.sha256, measurement__sample__batch__project=item.project)
               .select_related("measurement__sample").first()) if item.kind == ItemKind.FILE else None
        if raw is None:
            return False
        message = (f"The same bytes are already stored as {raw.original_name} of measurement #{raw.measurement_id} "
                   f"({raw.measurement.sample.code}); skipped.")
        fields = {"measurement": raw.measurement}
    if transition(item, (ItemState.WAITING,), state=ItemState.DUPLICATE, message=message, **fields):
        move_item(item, ItemState.DUPLICATE)
    return True
