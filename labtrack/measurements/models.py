"""Instruments, measurements and the raw files they produced."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.measurements.blobs import blob_path
from labtrack.samples.models import Sample


class Technique(models.TextChoices):
    SAXS = "saxs", "SAXS"
    TEM = "tem", "TEM"
    XRD = "xrd", "Powder XRD"
    NMR = "nmr", "Solid-state NMR"
    XPS = "xps", "XPS"
    PL = "pl", "Photoluminescence"
    UVVIS = "uvvis", "UV-Vis"


class Instrument(models.Model):
    """An instrument and its calibration, e.g. {"caglioti": {"U":..,"V":..,"W":..}} for XRD,
    {"rsf": {...}} for XPS, {"probe": "1.9 mm HXY"} for NMR."""

    name = models.CharField(max_length=200, unique=True)
    technique = models.CharField(max_length=8, choices=Technique.choices)
    model = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    calibration = models.JSONField(default=dict, blank=True)
    history = audited()

    class Meta:
        ordering = ["technique", "name"]

    def __str__(self) -> str:
        return self.name


class Measurement(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="measurements")
    technique = models.CharField(max_length=8, choices=Technique.choices)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="measurements")
    measured_at = models.DateTimeField(default=timezone.now)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    label = models.CharField(max_length=200, blank=True, help_text="e.g. 133Cs one-pulse, 24 kHz MAS")
    metadata = models.JSONField(default=dict, blank=True, help_text="Acquisition metadata parsed from the files")
    notes = models.TextField(blank=True)
    # An external intensity reference measured alongside (e.g. NH4H2PO4 for 31P
    # quantification); its sample's mass and this sample's mass make the result absolute.
    reference_measurement = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                              related_name="referenced_by")
    created_at = models.DateTimeField(default=timezone.now)
    history = audited()

    class Meta:
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["sample", "technique"])]

    def __str__(self) -> str:
        return f"{self.get_technique_display()} of {self.sample} ({self.measured_at:%Y-%m-%d})"

    @property
    def sample_age_days(self) -> float:
        """The sample's age when measured, derived from its ageing/preparation date."""
        return self.sample.age_days(self.measured_at)


class RawFile(models.Model):
    """An uploaded instrument file, stored once by SHA-256 and never modified.

    Several RawFile rows may share one blob (the same file attached twice). A zipped
    TopSpin folder is stored as the zip exactly as uploaded.
    """

    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, related_name="raw_files")
    sha256 = models.CharField(max_length=64, db_index=True)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    detected_format = models.CharField(max_length=64)
    data_kind = models.CharField(max_length=32, help_text="what the file holds, e.g. nmr-1d, saxs-curve")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    history = audited()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def storage_name(self) -> str:
        return blob_path(self.sha256)

    def save(self, *args, **kwargs):
        # Raw data is evidence: once written, a row is never changed (a guard, not a rule:
        # services never try).
        if self.pk is not None:
            raise ValueError("Raw files are immutable; upload a new file instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Raw files are immutable and are never deleted.")


class BlobCheckStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    ABANDONED = "abandoned", "Abandoned (its worker died)"


class BlobCheck(models.Model):
    """One pass of the periodic re-verification: every stored raw-file blob re-hashed
    against its SHA-256. At most one pass runs at a time (the constraint is the claim that
    keeps two overlapping beat ticks from both running)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=BlobCheckStatus.choices, default=BlobCheckStatus.RUNNING)
    storage_location = models.CharField(max_length=500, blank=True, help_text="MEDIA_ROOT or the S3 bucket checked")
    blobs_checked = models.PositiveIntegerField(default=0)
    missing_count = models.PositiveIntegerField(default=0)
    corrupt_count = models.PositiveIntegerField(default=0)
    new_mismatch_count = models.PositiveIntegerField(default=0, help_text="mismatches the previous pass did not report")
    unreferenced_count = models.PositiveIntegerField(default=0, help_text="blobs no raw file needs (not a failure)")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"),
                                               name="one_running_blob_check")]

    def __str__(self) -> str:
        return f"Blob check #{self.pk} of {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def ok(self) -> bool:
        return self.status == BlobCheckStatus.DONE and not self.missing_count and not self.corrupt_count


class BlobMismatchKind(models.TextChoices):
    MISSING = "missing", "Missing"
    CORRUPT = "corrupt", "Corrupt (bytes no longer hash to the name)"


class BlobMismatch(models.Model):
    """A missing or corrupt blob found by one pass, with what it affects. The same
    mismatch found again the next night is a new row (each pass is complete on its own)
    carrying the first e-mail's time, so it is not e-mailed again."""

    check_pass = models.ForeignKey(BlobCheck, on_delete=models.CASCADE, related_name="mismatches")
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=BlobMismatchKind.choices)
    actual_sha256 = models.CharField(max_length=64, blank=True, help_text="what a corrupt blob's bytes hash to now")
    location = models.CharField(max_length=1000)
    raw_file_count = models.PositiveIntegerField(default=0)
    affected = models.JSONField(default=list, blank=True,
                                help_text="up to 50 raw files: id, name, measurement, sample, batch, project")
    batch_codes = models.TextField(blank=True)
    first_found_at = models.DateTimeField(help_text="when a pass first reported this mismatch (unbroken since)")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="when the managers were e-mailed about it")

    class Meta:
        ordering = ["check_pass", "kind", "sha256"]
        constraints = [models.UniqueConstraint(fields=["check_pass", "sha256"], name="one_mismatch_per_blob_per_check")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} blob {self.sha256[:12]}… ({self.batch_codes or 'no batch'})"
