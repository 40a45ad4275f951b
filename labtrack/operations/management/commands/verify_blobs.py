"""`python manage.py verify_blobs` (alias `verify_raw_files`): re-hash every stored
raw-file blob against its name, on the configured storage (files under MEDIA_ROOT or an
S3-protocol bucket) or, with --media-root, a folder such as a backup.

Blobs are content-addressed (blobs/ab/cd/<sha256>), so a blob is intact exactly when its
bytes hash to its name. Each blob is streamed in 1 MiB chunks, so memory stays flat
whatever the file size; each distinct checksum is hashed once however many RawFile rows
share it. Missing and corrupt blobs are listed with the raw files that need them, and the
command exits non-zero, so cron / a systemd timer / restore.sh can alert on it. Blobs no
row references are reported but are no failure (an upload interrupted between storing the
blob and committing its row leaves one). The work is `measurements.blob_audit.verify`.
"""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labtrack.measurements import blob_audit


class Command(BaseCommand):
    help = ("Re-hash every raw-file blob in the storage (MEDIA_ROOT/blobs or the S3 bucket) and report "
            "missing or corrupt ones; exit status 1 if there are any.")

    def add_arguments(self, parser):
        parser.add_argument("--media-root", default=None,
                            help="check blobs under this folder instead of the configured storage (e.g. a backup)")

    def handle(self, *args, **options):
        folder = options["media_root"]
        storage = blob_audit.folder_storage(folder) if folder else None
        where = folder or (f"the S3 bucket {settings.STORAGES['default']['OPTIONS']['bucket_name']}"
                           if settings.LABTRACK_STORAGE == "s3" else str(settings.MEDIA_ROOT))
        report = blob_audit.verify(storage, problem=self.stderr.write, note=self.stdout.write)
        self.stdout.write(f"{report.checked} blobs checked in {where}: {len(report.missing)} missing, "
                          f"{len(report.corrupt)} corrupt, {len(report.unreferenced)} unreferenced")
        if not report.ok:
            raise CommandError(f"{len(report.missing)} missing and {len(report.corrupt)} corrupt blobs; restore "
                               "them from the backup (deploy/restore.sh, or manage.py restore_blobs, repairs by "
                               "checksum)")
