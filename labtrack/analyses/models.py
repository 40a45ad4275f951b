"""Analysis runs (one execution of a routine, versioned) and the quantities they report."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.measurements.models import Measurement
from labtrack.samples.models import Batch, Project


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Stage(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    READING = "reading", "Reading files"
    FITTING = "fitting", "Fitting"
    PLOTTING = "plotting", "Plotting"
    SAVING = "saving", "Saving"
    DONE = "done", "Done"


STAGE_PROGRESS = {Stage.WAITING: 0, Stage.READING: 15, Stage.FITTING: 40, Stage.PLOTTING: 75,
                  Stage.SAVING: 90, Stage.DONE: 100}


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class AnalysisRun(models.Model):
    """One execution of an analysis routine on exact inputs with exact parameters.

    Runs are never overwritten: a re-fit is a new run whose `supersedes` points here.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="runs")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="runs")
    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, null=True, blank=True, related_name="runs")
    extra_measurements = models.ManyToManyField(Measurement, blank=True, related_name="derived_runs")
    routine = models.CharField(max_length=64, db_index=True)
    routine_version = models.CharField(max_length=32, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # [{"raw_file_id": .., "sha256": .., "name": .., "format": ..}] in input order.
    input_files = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Id of the Celery message that holds the claim; a redelivery of that same message
    # (worker killed) may re-claim, any other message for a running run does nothing.
    task_id = models.CharField(max_length=64, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    result = models.JSONField(null=True, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    curves = models.JSONField(null=True, blank=True, help_text="fitted arrays for re-plotting")
    figure_svg = models.TextField(blank=True)
    figure_png = models.BinaryField(null=True, blank=True)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_runs")
    is_automatic = models.BooleanField(default=False)
    derived_from = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="derivatives",
                                          help_text="runs whose results are this run's inputs")
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by")

    review_state = models.CharField(max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reviewed_runs")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    review_meaning = models.CharField(max_length=200, blank=True)
    reviewed_result_sha256 = models.CharField(max_length=64, blank=True)

    history = audited(excluded_fields=["figure_svg", "figure_png", "curves", "result"])

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["batch", "routine", "-queued_at"]),
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["review_state", "status", "queued_at"]),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.routine} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
            return 100
        return STAGE_PROGRESS.get(Stage(self.stage), 0)

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Quantity(models.Model):
    """One reported number, queryable across batches (e.g. all accepted mean_diameter_nm)."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="quantities")
    name = models.CharField(max_length=80)
    value = models.FloatField(null=True, blank=True)
    value_json = models.JSONField(null=True, blank=True, help_text="non-numeric values (lists, labels)")
    stderr = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    component_label = models.CharField(max_length=40, blank=True)
    assignment = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["run", "component_label", "name"]
        indexes = [
            models.Index(fields=["name", "assignment"]),
            models.Index(fields=["run", "name"]),
        ]

    def __str__(self) -> str:
        comp = f"[{self.component_label}] " if self.component_label else ""
        return f"{comp}{self.name} = {self.value} {self.unit}"
