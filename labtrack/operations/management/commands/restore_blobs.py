"""`python manage.py restore_blobs FOLDER`: repair the storage's blobs (MEDIA_ROOT or the
S3 bucket) from a backup folder laid out as blobs/ab/cd/<sha256>, by checksum.

Per blob: a live copy that hashes to its name is kept, else the backup's copy is taken if
*it* does, else the blob is reported lost. Then every raw file in the database is verified
(as `verify_blobs`; skip with --skip-verify). deploy/restore.sh calls this when
LABTRACK_STORAGE=s3. Exit status 1 when a blob could not be repaired or verification fails."""
from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from labtrack.measurements import blob_audit


class Command(BaseCommand):
    help = "Repair stored raw-file blobs from a backup folder by checksum, then verify them."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="backup folder, e.g. $BACKUP_DIR/media")
        parser.add_argument("--skip-verify", action="store_true", help="do not run verify_blobs afterwards")

    def handle(self, *args, folder: str, skip_verify: bool = False, **options):
        report = blob_audit.restore(folder, say=self.stdout.write)
        self.stdout.write(f"{report.checked} blobs checked: {report.copied} copied from the backup, "
                          f"{report.repaired} corrupt ones repaired, {len(report.lost)} lost")
        if not skip_verify:
            call_command("verify_blobs", stdout=self.stdout, stderr=self.stderr)
        if report.lost:
            raise CommandError(f"{len(report.lost)} blobs are lost: neither the storage nor the backup holds "
                               "their bytes")
