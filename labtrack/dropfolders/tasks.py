"""Beat task: scan every enabled drop folder (for folders no watcher process watches, e.g.
on a network share). Each folder is its own task; a scan claims its folder, so a watcher
and the beat never scan one folder at the same time, and scanning again is harmless."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from labtrack.dropfolders.scanning import folder_scan
from labtrack.dropfolders.selectors import enabled_folder_ids


@shared_task(acks_late=True, soft_time_limit=settings.LABTRACK_DROPFOLDER_CLAIM_S - 60,
             time_limit=settings.LABTRACK_DROPFOLDER_CLAIM_S - 30)
def scan_dropfolder(folder_id: int) -> dict:
    return folder_scan(folder_id=folder_id)


@shared_task(acks_late=True)
def scan_dropfolders() -> int:
    """Queue one scan per enabled folder; returns how many."""
    ids = enabled_folder_ids()
    for folder_id in ids:
        scan_dropfolder.apply_async((folder_id,), expires=settings.LABTRACK_DROPFOLDER_SCAN_INTERVAL_S)
    return len(ids)
