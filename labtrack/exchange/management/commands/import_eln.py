"""manage.py import_eln PATH --project NAME --user NAME: import an .eln file."""
from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from labtrack.exchange.eln_import import eln_import
from labtrack.samples.models import Project


class Command(BaseCommand):
    help = "Import an .eln file (from LabTrack, eLabFTW, datalab, …) into a project; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--project", required=True, help="the project's name")
        parser.add_argument("--user", help="import as this user (default: the first superuser)")

    def handle(self, path, project, user=None, **options):
        users = get_user_model().objects
        actor = users.filter(username=user).first() if user else users.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError(f"No user {user!r}." if user else "No superuser; name one with --user.")
        target = Project.objects.filter(name__iexact=project).first()
        if target is None:
            raise CommandError(f"No project {project!r}.")
        if not os.path.isfile(path):
            raise CommandError(f"No file {path}.")
        try:
            report = eln_import(user=actor, project=target, path=path, file_name=os.path.basename(path))
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stdout.write(f"Imported from {report.file_name} ({report.kind}): batches {', '.join(report.batches)}; "
                          f"{len(report.samples)} samples, {report.measurements} measurements, {report.runs} runs, "
                          f"{report.attachments} files to assign.")
        for skipped in report.skipped:
            self.stdout.write(f"  not imported: {skipped}")
