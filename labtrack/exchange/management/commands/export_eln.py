"""manage.py export_eln BATCH_CODE PATH [--user NAME]: write a batch as an .eln file."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from labtrack.core.errors import NotFoundForUser
from labtrack.exchange.eln_export import batch_export_eln
from labtrack.samples.selectors import batch_get


class Command(BaseCommand):
    help = "Export a batch (samples, measurements, raw files, runs, results of record) as an .eln (RO-Crate 1.1) file."

    def add_arguments(self, parser):
        parser.add_argument("batch_code")
        parser.add_argument("path", help="where to write the .eln file")
        parser.add_argument("--user", help="export as this user (default: the first superuser)")

    def handle(self, batch_code, path, user=None, **options):
        users = get_user_model().objects
        actor = users.filter(username=user).first() if user else users.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError(f"No user {user!r}." if user else "No superuser; name one with --user.")
        try:
            batch = batch_get(user=actor, code=batch_code)
        except NotFoundForUser as exc:
            raise CommandError(str(exc)) from None
        with open(path, "wb") as out:
            batch_export_eln(user=actor, batch=batch, out=out)
        self.stdout.write(f"Wrote batch {batch.code} to {path}")
