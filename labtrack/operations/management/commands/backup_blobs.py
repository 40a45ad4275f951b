"""`python manage.py backup_blobs FOLDER`: copy every stored blob (from MEDIA_ROOT or the
S3 bucket) into FOLDER/blobs/ab/cd/<sha256>, re-hashing as it streams.

deploy/backup.sh calls it with BACKUP_DIR/media when LABTRACK_STORAGE=s3, so a backup has
the same layout on both backends and restore_blobs / restore.sh read either. Blobs never
change, so a blob already in FOLDER (and intact) is skipped: running it nightly copies only
new uploads. A live blob that no longer hashes to its name is reported, never copied over
the backup's good copy, and makes the command exit 1."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from labtrack.measurements import blob_audit


class Command(BaseCommand):
    help = "Copy every stored raw-file blob into FOLDER (blobs/ab/cd/<sha256>), checked by checksum."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="backup folder, e.g. $BACKUP_DIR/media")

    def handle(self, *args, folder: str, **options):
        report = blob_audit.backup(folder, say=self.stderr.write)
        self.stdout.write(f"{report.checked} blobs in the storage: {report.copied} copied to {folder}, "
                          f"{len(report.corrupt)} corrupt (not copied)")
        if report.corrupt:
            raise CommandError(f"{len(report.corrupt)} stored blobs are corrupt; restore them from an older "
                               "backup (manage.py restore_blobs)")
