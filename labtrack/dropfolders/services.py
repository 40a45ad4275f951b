"""Writes for drop folders: configuring one, and a person's decisions on the items the
scanner could not place (assign a sample and ingest, or dismiss). Scanning itself is
`scanning.folder_scan`."""
from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from labtrack.core.errors import Conflict
from labtrack.core.roles import Action
from labtrack.dropfolders import files
from labtrack.dropfolders.ingest import ingest, transition
from labtrack.dropfolders.models import DEFAULT_NAMING_RULE, NEEDS_PERSON_STATES, DropFolder, DropItem, ItemState
from labtrack.dropfolders.naming import check_naming_rule
from labtrack.measurements.models import Instrument, Technique
from labtrack.samples.models import Project, Sample, code_is
from labtrack.samples.permissions import can, require

__all__ = ["check_folder_path", "dropfolder_create", "dropfolder_update", "item_assign", "item_dismiss"]


def check_folder_path(path: str) -> str:
    """The folder's real absolute path, if it is an existing folder under one of
    LABTRACK_DROPFOLDER_ROOTS (so a project manager cannot point LabTrack at /etc)."""
    if not path or not os.path.isabs(path):
        raise ValidationError({"path": "Give the folder's absolute path as the server sees it, e.g. /data/nmr400/export."})
    real = os.path.realpath(path)
    roots = [os.path.realpath(r) for r in settings.LABTRACK_DROPFOLDER_ROOTS]
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        allowed = ", ".join(roots) or "(none: set LABTRACK_DROPFOLDER_ROOTS)"
        raise ValidationError({"path": f"{path} is outside the folders LabTrack may watch ({allowed})."})
    if not os.path.isdir(real):
        raise ValidationError({"path": f"{path} does not exist or is not a folder on the server."})
    if not os.access(real, os.R_OK | os.W_OK | os.X_OK):
        raise ValidationError({"path": f"LabTrack may not read and write {path}; it moves processed files aside."})
    return real


def _settings_errors(*, project: Project, technique: str, upload_as, instrument: Instrument | None,
                     naming_rule: str, path: str, processed_path: str, settle_s: float) -> dict[str, Any]:
    """Every problem of a folder's settings at once, by field (the form shows them all)."""
    errors: dict[str, Any] = {}
    if upload_as is None or not can(upload_as, project, Action.EDIT_SAMPLES):
        errors["upload_as"] = f"{upload_as or 'Nobody'} may not upload measurements in {project}; choose a chemist of it."
    try:
        technique = Technique(technique)
    except ValueError:
        errors["technique"] = f"Unknown technique {technique!r}."
    else:
        if instrument is not None and instrument.technique != technique:
            errors["instrument"] = (f"{instrument} is a {instrument.get_technique_display()} instrument, "
                                    f"not {technique.label}.")
    if settle_s is None or settle_s < 0:
        errors["settle_s"] = "The settle time cannot be negative."
    for check in (lambda: check_naming_rule(naming_rule), lambda: check_folder_path(path)):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if processed_path.strip() in ("", ".", files.UNMATCHED_DIR, files.DUPLICATES_DIR, files.FAILED_DIR) \
            or ".." in processed_path.split("/"):
        errors["processed_path"] = "Name a subfolder (e.g. processed) or an absolute path for processed files."
    return errors


def dropfolder_create(*, user, name: str, path: str, project: Project, technique: str, upload_as=None,
                      instrument: Instrument | None = None, naming_rule: str = DEFAULT_NAMING_RULE,
                      processed_path: str = "processed", settle_s: float = 30.0, enabled: bool = True) -> DropFolder:
    """A new drop folder. `user` must manage the project (None: the server's operator,
    from `manage.py watch_dropfolder`); files are uploaded as `upload_as` (default
    `user`), who must be allowed to upload in the project."""
    if user is not None:
        require(user, project, Action.MANAGE)
    upload_as = upload_as or user
    errors = _settings_errors(project=project, technique=technique, upload_as=upload_as, instrument=instrument,
                              naming_rule=naming_rule, path=path, processed_path=processed_path, settle_s=settle_s)
    if errors:
        raise ValidationError(errors)
    real = check_folder_path(path)
    if DropFolder.objects.filter(path=real).exists():
        raise ValidationError({"path": f"{real} is already a drop folder."})
    folder = DropFolder(name=name.strip() or os.path.basename(real), path=real, project=project, technique=technique,
                        instrument=instrument, naming_rule=naming_rule, upload_as=upload_as,
                        processed_path=processed_path.strip(), settle_s=settle_s, enabled=enabled)
    folder.full_clean()
    folder.save()
    return folder


FOLDER_EDITABLE = ("name", "path", "technique", "instrument", "naming_rule", "upload_as", "processed_path",
                   "settle_s", "enabled")


def dropfolder_update(*, user, folder: DropFolder, **fields: Any) -> DropFolder:
    """Change a drop folder's settings (its project stays: its items belong to it). Only
    a manager of the project; the same checks as dropfolder_create, all reported at once.
    Items already found keep the paths they have; the next scan reads the new settings."""
    require(user, folder.project, Action.MANAGE)
    unknown = set(fields) - set(FOLDER_EDITABLE)
    if unknown:
        raise ValueError(f"dropfolder_update cannot change {', '.join(sorted(unknown))}")
    merged = {f: getattr(folder, f) for f in FOLDER_EDITABLE} | fields
    errors = _settings_errors(project=folder.project, technique=merged["technique"], upload_as=merged["upload_as"],
                              instrument=merged["instrument"], naming_rule=merged["naming_rule"], path=merged["path"],
                              processed_path=merged["processed_path"], settle_s=merged["settle_s"])
    if errors:
        raise ValidationError(errors)
    merged["path"] = check_folder_path(merged["path"])
    if DropFolder.objects.filter(path=merged["path"]).exclude(pk=folder.pk).exists():
        raise ValidationError({"path": f"{merged['path']} is already another drop folder."})
    merged["name"] = (merged["name"] or "").strip() or os.path.basename(merged["path"])
    merged["processed_path"] = merged["processed_path"].strip()
    with transaction.atomic():
        locked = DropFolder.objects.select_for_update().get(pk=folder.pk)
        for f, value in merged.items():
            setattr(locked, f, value)
        locked.full_clean()
        locked.save(update_fields=list(FOLDER_EDITABLE))
    return locked


def _claim_for_person(user, item_id: int) -> tuple[DropItem, str]:
    item = DropItem.objects.select_related("folder", "folder__instrument", "project").filter(pk=item_id).first()
    if item is None:
        raise ValidationError({"item": f"No drop item #{item_id}."})
    require(user, item.project, Action.EDIT_SAMPLES)
    if item.state not in NEEDS_PERSON_STATES:
        raise Conflict(f"{item.name} is {item.get_state_display().lower()}; there is nothing to decide.")
    return item, item.state


def item_assign(*, user, item_id: int, sample_code: str, technique: str) -> DropItem:
    """Ingest an unmatched (or failed) item as a measurement of the project's sample
    `sample_code`, uploaded by `user`. The bytes must still be the ones recorded (same
    checksum). On a refusal the item stays as it was, with the reason, and the
    ValidationError is raised for the page."""
    item, previous = _claim_for_person(user, item_id)
    try:
        technique = Technique(technique)
    except ValueError:
        raise ValidationError({"technique": "Choose the measurement's technique."}) from None
    sample = Sample.objects.filter(code_is(sample_code.strip()), batch__project=item.project).first()
    if sample is None:
        raise ValidationError({"sample_code": f"No sample {sample_code.strip() or '(empty)'} in {item.project}."})
    candidate = files.Candidate(item.kind, item.name, item.match_name, item.path)
    try:
        current = files.content_sha256(candidate)
    except OSError as exc:
        raise ValidationError({"item": f"{item.path} cannot be read now ({exc.strerror or exc}); "
                                       "was it moved or renamed by hand?"}) from None
    if item.sha256 and current != item.sha256:
        raise ValidationError({"item": f"{item.name} changed since it was found (its checksum differs); "
                                       "drop the new version in the folder again."})
    if not transition(item, (previous,), state=ItemState.INGESTING, decided_by=user, sha256=current):
        raise Conflict(f"{item.name} was just decided by someone else, or the same content is already in LabTrack.")
    problem = ingest(item, user=user, sample=sample, technique=technique, instrument=item.folder.instrument,
                     on_failure_state=previous)
    if problem:
        raise ValidationError({"item": problem})
    return item


def item_dismiss(*, user, item_id: int, reason: str = "") -> DropItem:
    """Nothing will be ingested from this item; its bytes stay where they are
    (unmatched/ or failed/) and the row says who decided and why."""
    item, previous = _claim_for_person(user, item_id)
    text = f"Dismissed by {user}" + (f": {reason.strip()}" if reason.strip() else ".")
    if not transition(item, (previous,), state=ItemState.DISMISSED, decided_by=user,
                      message=f"{item.message}\n{text}".strip()):
        raise Conflict(f"{item.name} was just decided by someone else.")
    return item


def upload_user(username: str):
    """The user named `username` (for the command), or a ValidationError."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"upload_as": f"No user {username!r}."})
    return user


def require_edit(user, folder: DropFolder) -> None:
    if not can(user, folder.project, Action.EDIT_SAMPLES):
        raise PermissionDenied("Viewers cannot assign drop-folder files; ask a project manager for the chemist role.")
