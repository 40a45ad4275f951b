"""`python manage.py sweep_runs`: re-dispatch stuck runs now (what celery beat does every 30 s)."""
from django.core.management.base import BaseCommand

from labtrack.analyses.services import runs_sweep_stuck


class Command(BaseCommand):
    help = "Re-dispatch analysis runs stuck in queued/running past the deadline; fail exhausted ones."

    def handle(self, *args, **options):
        self.stdout.write(str(runs_sweep_stuck()))
