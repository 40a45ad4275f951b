"""`python manage.py verify_raw_files`: recompute every stored blob's SHA-256."""
from django.core.management.base import BaseCommand, CommandError

from labtrack.measurements.models import RawFile
from labtrack.measurements.services import raw_file_verify


class Command(BaseCommand):
    help = "Check that every raw file's stored bytes still match its SHA-256; exit 1 if any do not."

    def handle(self, *args, **options):
        bad = []
        checked = set()
        for raw in RawFile.objects.order_by("sha256").iterator():
            if raw.sha256 in checked:
                continue
            checked.add(raw.sha256)
            try:
                ok = raw_file_verify(raw)
            except FileNotFoundError:
                ok = False
            if not ok:
                bad.append(raw)
                self.stderr.write(f"MISMATCH or missing: {raw.original_name} (raw file {raw.pk}, sha256 {raw.sha256})")
        self.stdout.write(f"{len(checked)} blobs checked, {len(bad)} bad")
        if bad:
            raise CommandError(f"{len(bad)} raw files do not match their checksums")
