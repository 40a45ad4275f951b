"""manage.py watch_dropfolder PATH|ID: ingest what an instrument writes into a folder.

    python manage.py watch_dropfolder /data/nmr400/export            # a configured folder
    python manage.py watch_dropfolder 3 --polling                     # by id, on a network share
    python manage.py watch_dropfolder /data/nmr400/export --create \\
        --project "Perovskite NCs" --technique nmr --upload-as chemist  # configure and watch
    python manage.py watch_dropfolder 3 --once                        # one scan, then exit
"""
from __future__ import annotations

import signal
import threading

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from labtrack.dropfolders import services
from labtrack.dropfolders.models import DEFAULT_NAMING_RULE
from labtrack.dropfolders.scanning import folder_scan
from labtrack.dropfolders.selectors import folder_for_command
from labtrack.dropfolders.watcher import watch
from labtrack.measurements.models import Instrument
from labtrack.samples.models import Project

QUIET = {"settling", "incomplete", "skipped"}


class Command(BaseCommand):
    help = "Watch a drop folder (by path or id) and ingest complete files and TopSpin experiments."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the drop folder's path or id")
        parser.add_argument("--polling", action="store_true",
                            help="compare listings instead of file-system events (network shares: NFS, SMB)")
        parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds between listings (--polling)")
        parser.add_argument("--settle", type=float, default=None,
                            help="seconds a file must stay unchanged (default: the folder's setting)")
        parser.add_argument("--once", action="store_true", help="scan once and exit (cron, scripts)")
        parser.add_argument("--create", action="store_true", help="configure PATH as a new drop folder first")
        parser.add_argument("--project", help="--create: the project's name")
        parser.add_argument("--technique", help="--create: saxs, tem, xrd, nmr, xps, pl or uvvis")
        parser.add_argument("--upload-as", help="--create: the username files are uploaded as")
        parser.add_argument("--instrument", help="--create: the instrument's name")
        parser.add_argument("--naming-rule", default=DEFAULT_NAMING_RULE, help="--create: regex with a 'sample' group")
        parser.add_argument("--name", default="", help="--create: a label for the folder")

    def handle(self, *args, **options):
        folder = folder_for_command(options["folder"])
        if options["create"]:
            if folder is not None:
                raise CommandError(f"{options['folder']} is already drop folder #{folder.pk}.")
            folder = self._create(options)
        elif folder is None:
            raise CommandError(f"No drop folder {options['folder']!r}; configure it on /dropfolders/ or add --create "
                               "--project NAME --technique T --upload-as USER.")
        if not folder.enabled:
            raise CommandError(f"Drop folder #{folder.pk} ({folder.path}) is disabled.")
        if options["once"]:
            report = folder_scan(folder_id=folder.pk, settle_s=options["settle"])
            self.stdout.write(f"{folder.path}: {_report_text(report)}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"Watching {folder.path} (drop folder #{folder.pk}); Ctrl-C stops.")
        try:
            watch(folder.pk, stop=stop, polling=options["polling"], poll_interval_s=options["poll_interval"],
                  settle_s=options["settle"], on_scan=self._report)
        except KeyboardInterrupt:
            pass
        self.stdout.write("Stopped.")

    def _report(self, report: dict) -> None:
        if report.keys() - QUIET:  # only scans where something happened
            self.stdout.write(_report_text(report))

    def _create(self, options):
        missing = [flag for flag in ("project", "technique", "upload_as") if not options.get(flag)]
        if missing:
            raise CommandError("--create needs " + ", ".join("--" + m.replace("_", "-") for m in missing))
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}.")
        instrument = None
        if options["instrument"]:
            instrument = Instrument.objects.filter(name=options["instrument"]).first()
            if instrument is None:
                raise CommandError(f"No instrument {options['instrument']!r}.")
        try:
            return services.dropfolder_create(
                user=None, name=options["name"], path=options["folder"], project=project,
                technique=options["technique"], upload_as=services.upload_user(options["upload_as"]),
                instrument=instrument, naming_rule=options["naming_rule"],
                settle_s=30.0 if options["settle"] is None else options["settle"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None


def _report_text(report: dict) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(report.items())) or "nothing new"
