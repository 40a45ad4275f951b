"""`python manage.py seed_demo`: the paper's batches, samples and synthetic raw files."""
from django.core.management.base import BaseCommand

from labtrack.operations.demo import DEMO_PASSWORDS, seed_demo


class Command(BaseCommand):
    help = "Create the demo lab (idempotent): users per role, the paper's batches, samples, raw files."

    def add_arguments(self, parser):
        parser.add_argument("--no-analyses", action="store_true", help="upload files without requesting analyses")

    def handle(self, *args, **options):
        created = seed_demo(request_analyses=not options["no_analyses"], log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: {created['batches']} batches and {created['measurements']} measurements created this time."))
        logins = ", ".join(f"{user} / {password}" for user, password in DEMO_PASSWORDS.items())
        self.stdout.write(f"Demo logins: {logins}")
