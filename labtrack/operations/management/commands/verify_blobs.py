"""`python manage.py verify_blobs`: re-hash every stored raw-file blob against its name.

Blobs are content-addressed (MEDIA_ROOT/blobs/ab/cd/<sha256>), so a blob is intact exactly
when its bytes hash to its name. Each blob is read in 1 MiB chunks, so memory stays flat
whatever the file size; each distinct checksum is hashed once however many RawFile rows
share it. Missing and corrupt blobs are listed with the raw files that need them, and the
command exits non-zero, so cron / a systemd timer / restore.sh can alert on it. Files under
blobs/ that no row references are reported but are no failure (an upload interrupted
between storing the blob and committing its row leaves one).
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labtrack.measurements.blobs import blob_path
from labtrack.measurements.models import RawFile

CHUNK_BYTES = 1024 * 1024


def sha256_of_file(path: Path) -> str:
    """The file's SHA-256, read in bounded chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = ("Re-hash every raw-file blob under MEDIA_ROOT/blobs and report missing or corrupt "
            "ones; exit status 1 if there are any.")

    def add_arguments(self, parser):
        parser.add_argument("--media-root", default=None,
                            help="check blobs under this folder instead of MEDIA_ROOT (e.g. a backup)")

    def handle(self, *args, **options):
        media_root = Path(options["media_root"] or settings.MEDIA_ROOT)
        # sha256 -> a few raw-file ids and names, for a message that says what is affected.
        users: dict[str, list[str]] = defaultdict(list)
        for pk, sha, name in RawFile.objects.order_by("sha256", "pk").values_list("pk", "sha256", "original_name").iterator():
            if len(users[sha]) < 3:
                users[sha].append(f"#{pk} {name}")
        missing, corrupt = [], []
        for sha, raw_files in users.items():
            path = media_root / blob_path(sha)
            affected = ", ".join(raw_files)
            try:
                actual = sha256_of_file(path)
            except FileNotFoundError:
                missing.append(sha)
                self.stderr.write(f"MISSING {path} (raw file {affected})")
                continue
            if actual != sha:
                corrupt.append(sha)
                self.stderr.write(f"CORRUPT {path}: its bytes now hash to {actual} (raw file {affected})")
        unreferenced = self._unreferenced(media_root / "blobs", set(users))
        for path in unreferenced:
            self.stdout.write(f"unreferenced (not a failure) {path}")
        self.stdout.write(f"{len(users)} blobs checked under {media_root}: {len(missing)} missing, "
                          f"{len(corrupt)} corrupt, {len(unreferenced)} unreferenced")
        if missing or corrupt:
            raise CommandError(f"{len(missing)} missing and {len(corrupt)} corrupt blobs; restore them "
                               "from the backup (deploy/restore.sh repairs by checksum)")

    @staticmethod
    def _unreferenced(blobs: Path, known: set[str]) -> list[Path]:
        found = []
        if not blobs.is_dir():
            return found
        for dirpath, _dirnames, filenames in os.walk(blobs):
            found.extend(Path(dirpath) / f for f in filenames if f not in known)
        return sorted(found)
