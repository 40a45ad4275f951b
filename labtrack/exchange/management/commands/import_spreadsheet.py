"""manage.py import_spreadsheet PATH --project NAME --user NAME [--commit]: check (and
with --commit, import) a sheet of syntheses and samples, as the /import/ page does."""
from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from labtrack.exchange.spreadsheet import spreadsheet_import
from labtrack.samples.models import Project


class Command(BaseCommand):
    help = "Dry-run (or with --commit, import all or nothing) a CSV/XLSX of syntheses and samples."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--project", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--commit", action="store_true")

    def handle(self, path, project, user, commit=False, **options):
        actor = get_user_model().objects.filter(username=user).first()
        target = Project.objects.filter(name__iexact=project).first()
        if actor is None or target is None:
            raise CommandError(f"No user {user!r}." if actor is None else f"No project {project!r}.")
        with open(path, "rb") as fh:
            content = fh.read(settings.LABTRACK_IMPORT_MAX_BYTES + 1)
        try:
            report = spreadsheet_import(user=actor, project=target, name=os.path.basename(path), content=content,
                                        commit=commit)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        for column in report.columns:
            self.stdout.write(f"  {column.header!r:32} → {column.target_key or '(not imported)'} {column.unit_note}")
        for error in report.errors:
            where = f"row {error.row}" if error.row else "sheet"
            self.stdout.write(f"{where}, {error.column or '—'}: {error.message}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} problems; nothing was imported.")
        verb = "Imported" if report.committed else "Would import"
        self.stdout.write(f"{verb} {len(report.batches)} batches and {len(report.samples)} samples.")
