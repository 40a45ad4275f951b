"""`python manage.py pack_run_curves`: store the compact curve arrays of runs analysed
before they were kept (the compare view reads those arrays)."""
from django.core.management.base import BaseCommand

from labtrack.analyses.curve_store import runs_pack_curves


class Command(BaseCommand):
    help = "Pack the stored JSON curves of older runs into the arrays the compare view reads."

    def handle(self, *args, **options):
        self.stdout.write(f"{runs_pack_curves()} runs packed.")
