"""Handing a settled drop item to the upload pipeline (the same `measurement_upload` the
upload page and the API call), recording what became of it, and moving it aside. Used by
the scanner (matched items) and by a person assigning an item on the page."""
from __future__ import annotations

import logging
import os
import tempfile
from contextlib import ExitStack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from labtrack.analyses.pipeline import Upload, measurement_upload
from labtrack.dropfolders import files
from labtrack.dropfolders.models import DropFolder, DropItem, ItemKind, ItemState
from labtrack.measurements.models import Instrument, Technique
from labtrack.measurements.services import detect_uploads
from labtrack.samples.models import Sample

log = logging.getLogger(__name__)


def processed_folder(folder: DropFolder) -> str:
    return folder.processed_path if os.path.isabs(folder.processed_path) else os.path.join(folder.path, folder.processed_path)


def aside_folder(folder: DropFolder, state: str) -> str:
    """Where an item in `state` is moved: processed/, unmatched/, duplicates/ or failed/."""
    if state == ItemState.INGESTED:
        return processed_folder(folder)
    return os.path.join(folder.path, {ItemState.UNMATCHED: files.UNMATCHED_DIR, ItemState.DUPLICATE: files.DUPLICATES_DIR,
                                      ItemState.FAILED: files.FAILED_DIR}[state])


def transition(item: DropItem, from_states: tuple[str, ...], **fields) -> bool:
    """Conditional update (the item's claim): True when the item was in one of
    `from_states` and now has `fields`. False when another process moved it first, or
    when its content is already held by another item (the unique checksum index)."""
    fields.setdefault("updated_at", timezone.now())
    try:
        with transaction.atomic():
            changed = DropItem.objects.filter(pk=item.pk, state__in=from_states).update(**fields)
    except IntegrityError:
        return False
    if changed:
        for name, value in fields.items():
            setattr(item, name, value)
    return bool(changed)


def move_item(item: DropItem, state: str) -> None:
    """Move the item's bytes to the subfolder for `state`, recording the new path. A
    move that fails (permissions, a full disk) leaves the bytes where they are and says
    so; its signature keeps the scanner from taking it up again."""
    try:
        new_path = files.move_aside(item.path, aside_folder(item.folder, state), item.name)
    except OSError as exc:
        note = (f" It could not be moved to {aside_folder(item.folder, state)} ({exc.strerror or exc}) and stays at "
                f"{item.path}; LabTrack will not take it up again unless it changes.")
        DropItem.objects.filter(pk=item.pk).update(message=(item.message + note).strip(), updated_at=timezone.now())
        item.message = (item.message + note).strip()
        return
    DropItem.objects.filter(pk=item.pk).update(path=new_path, updated_at=timezone.now())
    item.path = new_path


def _uploads(item: DropItem, stack: ExitStack) -> list[Upload]:
    """The item as the upload service takes it: the file itself, or the TopSpin
    experiment zipped (one top-level folder) in a temp folder removed afterwards."""
    if item.kind == ItemKind.FILE:
        return [Upload(item.name, stack.enter_context(open(item.path, "rb")))]
    temp = stack.enter_context(tempfile.TemporaryDirectory(prefix="labtrack-dropfolder-"))
    zip_path = files.zip_experiment(item.path, item.name, temp)
    return [Upload(os.path.basename(zip_path), stack.enter_context(open(zip_path, "rb")))]


def problem_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, OSError):
        return f"The file cannot be read ({exc.strerror or exc}); LabTrack needs permission to read and move it."
    return str(exc) or type(exc).__name__


def detect(item: DropItem) -> str:
    """What the item's data are, e.g. "Solid-state NMR (bruker-topspin, nmr-1d)", using
    the upload preview's detection; the problem when it cannot be read."""
    try:
        with ExitStack() as stack:
            described = detect_uploads(uploads=_uploads(item, stack))
    except (ValidationError, OSError) as exc:
        return f"unreadable: {problem_text(exc)}"[:200]
    d = described[0]
    return f"{d['technique_label']} ({d['format']}, {d['kind']})"[:200]


def detected_technique(item: DropItem) -> str:
    """The technique code of `item.detected`, or ""."""
    label = item.detected.split(" (")[0]
    return next((t.value for t in Technique if t.label == label), "")


def ingest(item: DropItem, *, user, sample: Sample, technique: str, instrument: Instrument | None,
           on_failure_state: str) -> str:
    """Upload a claimed (INGESTING) item as a measurement of `sample`. Returns "" on success
    (the item is INGESTED and moved to processed/), else the problem, recorded on the item,
    which goes to `on_failure_state`. Nothing is saved when the upload is refused."""
    if instrument is not None and instrument.technique != technique:
        instrument = None
    try:
        with ExitStack() as stack, transaction.atomic():
            measurement = measurement_upload(user=user, sample=sample, technique=technique,
                                             uploads=_uploads(item, stack), instrument=instrument,
                                             notes=f"From drop folder {item.folder.name}: {item.found_path}")
            # In the upload's transaction: a measurement exists exactly when its item says so.
            DropItem.objects.filter(pk=item.pk).update(state=ItemState.INGESTED, measurement=measurement, sample=sample,
                                                       technique=technique, message="", updated_at=timezone.now())
    except (ValidationError, PermissionDenied, OSError) as exc:
        problem = problem_text(exc)
        fields = {"state": on_failure_state, "message": problem, "sample": sample, "technique": technique}
        if not item.detected:
            fields["detected"] = detect(item)
        if not transition(item, (ItemState.INGESTING,), **fields):
            log.warning("drop item %s left INGESTING by another process", item.pk)
        return problem
    item.state, item.measurement, item.sample, item.technique, item.message = (
        ItemState.INGESTED, measurement, sample, technique, "")
    move_item(item, ItemState.INGESTED)
    return ""
