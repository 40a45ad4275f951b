"""What the exchange app remembers: the lab's column names per project, spreadsheets
between their preview and their commit, and files from another ELN's .eln waiting for a
person to say which technique they belong to."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from labtrack.measurements.models import Measurement
from labtrack.samples.models import Batch, Project


class ColumnMapping(models.Model):
    """One remembered column: in `project`, a spreadsheet column called `column` (its
    name without a unit, lower-cased) fills the LabTrack field `field` ("" = ignored)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="column_mappings")
    column = models.CharField(max_length=200)
    field = models.CharField(max_length=80, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "column"]
        constraints = [models.UniqueConstraint(fields=["project", "column"], name="one_mapping_per_project_column")]

    def __str__(self) -> str:
        return f"{self.column} → {self.field or '(ignored)'}"


class SpreadsheetUpload(models.Model):
    """An uploaded sheet kept between its dry-run preview and its commit (bounded by
    LABTRACK_IMPORT_MAX_BYTES, so the bytes live in the row)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="spreadsheet_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    size_bytes = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_batches = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.file_name


class ElnAttachment(models.Model):
    """A file of a foreign .eln (eLabFTW, datalab, …) attached to the batch its
    experiment became. Its bytes are a stored blob; once a person assigns a technique and
    a sample it becomes a measurement (`measurement` set)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="eln_attachments")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    encoding_format = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=255, help_text="the .eln file and the entity it came from")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)
    measurement = models.ForeignKey(Measurement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["batch", "name", "id"]

    def __str__(self) -> str:
        return self.name
