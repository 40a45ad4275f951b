"""Drop folders (an instrument's export folder that LabTrack ingests) and the items found
in them: one row per file or TopSpin experiment seen, whatever became of it."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.measurements.models import Instrument, Measurement, Technique
from labtrack.samples.models import Project, Sample

# A sample code at the start of the name: NC12.8-P, NC12.8-P-AGED, NC8.3-INK, BULK1-P.
# The matcher tries the longest code first and drops trailing "-part"s until a sample of
# the project has that code, so "NC12.8-P-cs133.dat" still finds NC12.8-P.
DEFAULT_NAMING_RULE = r"^(?P<sample>[A-Za-z]{1,12}\d+(?:\.\d+)?(?:-[A-Za-z0-9]+)*)"


class DropFolder(models.Model):
    name = models.CharField(max_length=200, help_text="e.g. 400 MHz NMR export")
    path = models.CharField(max_length=1024, unique=True,
                            help_text="Absolute path of the folder the instrument writes to, as the server sees it "
                                      "(under one of LABTRACK_DROPFOLDER_ROOTS).")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="drop_folders")
    technique = models.CharField(max_length=8, choices=Technique.choices)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    naming_rule = models.CharField(
        max_length=500, default=DEFAULT_NAMING_RULE,
        help_text="A regular expression with a group named 'sample' that finds the sample code in a file "
                  "name (for TopSpin, the data set folder's name).")
    upload_as = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  help_text="Files found here are uploaded as this chemist of the project.")
    processed_path = models.CharField(
        max_length=1024, default="processed",
        help_text="Where ingested files are moved: a subfolder name, or an absolute path.")
    settle_s = models.FloatField(
        default=30.0, help_text="A file counts as complete once its size and time stayed the same this long.")
    enabled = models.BooleanField(default=True)
    # Claim of the folder by one scanner (the watcher or a beat task) until this time.
    scan_claimed_until = models.DateTimeField(null=True, blank=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    last_scan_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Who changed which setting when: a new naming rule or upload user decides where the
    # next files go. The scanner's own bookkeeping is not a change of settings.
    history = audited(excluded_fields=["scan_claimed_until", "last_scanned_at", "last_scan_error"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    FILE = "file", "File"
    TOPSPIN = "topspin", "TopSpin experiment"


class ItemState(models.TextChoices):
    WAITING = "waiting", "Waiting until complete"
    INGESTING = "ingesting", "Being ingested"
    INGESTED = "ingested", "Ingested"
    UNMATCHED = "unmatched", "No matching sample"
    DUPLICATE = "duplicate", "Duplicate (skipped)"
    FAILED = "failed", "Could not be ingested"
    DISMISSED = "dismissed", "Dismissed"


# States whose content counts as taken: another item with the same checksum is a duplicate.
CONTENT_HELD_STATES = (ItemState.INGESTING.value, ItemState.INGESTED.value, ItemState.UNMATCHED.value)
# States a person resolves on the page.
NEEDS_PERSON_STATES = (ItemState.UNMATCHED.value, ItemState.FAILED.value)


class DropItem(models.Model):
    """A file or TopSpin experiment found in a drop folder. Never deleted: the row says
    where the bytes are now (`path`) and what became of them."""

    folder = models.ForeignKey(DropFolder, on_delete=models.PROTECT, related_name="items")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=ItemKind.choices)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.WAITING)
    name = models.CharField(max_length=255, help_text="as found, e.g. NC8.3-P.dat or NC8.3-P/10")
    match_name = models.CharField(max_length=255, help_text="the name the naming rule is applied to")
    found_path = models.CharField(max_length=1024, help_text="where it was found")
    path = models.CharField(max_length=1024, help_text="where it is now")
    size_bytes = models.BigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=1)
    # Size and modification times of everything in the item; unchanged for settle_s = complete.
    signature = models.CharField(max_length=64, blank=True)
    signature_since = models.DateTimeField(default=timezone.now)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True,
                              help_text="of the file, or of a TopSpin folder's sorted (path, file SHA-256) list")
    missing = models.CharField(max_length=500, blank=True, help_text="files a partial TopSpin experiment still lacks")
    sample_code = models.CharField(max_length=80, blank=True, help_text="what the naming rule found")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    technique = models.CharField(max_length=8, choices=Technique.choices, blank=True)
    detected = models.CharField(max_length=200, blank=True, help_text="what LabTrack recognised the data as")
    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", help_text="who assigned or dismissed it")
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # One content, one home per project: two scanners cannot both ingest a file.
            models.UniqueConstraint(fields=["project", "sha256"], condition=Q(state__in=CONTENT_HELD_STATES),
                                    name="dropitem_content_once_per_project"),
            models.UniqueConstraint(fields=["folder", "found_path"], condition=Q(state=ItemState.WAITING.value),
                                    name="dropitem_one_waiting_per_path"),
        ]
        indexes = [models.Index(fields=["folder", "state"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"
