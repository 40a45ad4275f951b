"""Analysis runs (one execution of a routine, versioned) and the quantities they report."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.core.records import (RunStatus, ReviewState, candidate_q, current_q, is_candidate, is_of_record,
                                   of_record_q)
from labtrack.measurements.models import Measurement
from labtrack.samples.models import Batch, Project, sample_age_expression
from labtrack.samples.permissions import visible_projects

__all__ = ["AnalysisRun", "Quantity", "QuantityKind", "ReviewState", "RunStatus", "Stage"]

# Columns a list never needs (figures, fitted curves, the full result JSON).
HEAVY_FIELDS = ("figure_svg", "figure_png", "curves", "curve_arrays", "result")


class Stage(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    READING = "reading", "Reading files"
    FITTING = "fitting", "Fitting"
    PLOTTING = "plotting", "Plotting"
    SAVING = "saving", "Saving"
    DONE = "done", "Done"


STAGE_PROGRESS = {Stage.WAITING: 0, Stage.READING: 15, Stage.FITTING: 40, Stage.PLOTTING: 75,
                  Stage.SAVING: 90, Stage.DONE: 100}


class RunQuerySet(models.QuerySet):
    """Restricting queries for runs (NetBox style): chain `.visible_to(user)` with the
    record rule from labtrack.core.records."""

    def visible_to(self, user) -> "RunQuerySet":
        return self.filter(project__in=visible_projects(user))

    def light(self) -> "RunQuerySet":
        return self.defer(*HEAVY_FIELDS)

    def current(self) -> "RunQuerySet":
        return self.filter(current_q())

    def of_record(self) -> "RunQuerySet":
        return self.filter(of_record_q())

    def candidates(self) -> "RunQuerySet":
        return self.filter(candidate_q())

    def awaiting_review(self) -> "RunQuerySet":
        """Current succeeded runs nobody has reviewed, without a newer version on the
        way (a run with a queued, running or succeeded unrejected re-fit is reviewed
        through that re-fit)."""
        newer = AnalysisRun.objects.filter(supersedes=models.OuterRef("pk"), is_current=True).exclude(
            status__in=[RunStatus.FAILED, RunStatus.CANCELLED]).exclude(review_state=ReviewState.REJECTED)
        return self.filter(current_q(), status=RunStatus.SUCCEEDED, review_state=ReviewState.PENDING).exclude(
            models.Exists(newer))


class QuantityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "QuantityQuerySet":
        return self.filter(run__project__in=visible_projects(user))

    def of_record(self) -> "QuantityQuerySet":
        return self.filter(of_record_q("run__"))

    def candidates(self) -> "QuantityQuerySet":
        return self.filter(candidate_q("run__"))

    def sample_age_between(self, min_days: float | None = None, max_days: float | None = None) -> "QuantityQuerySet":
        """Quantities whose sample was `min_days` … `max_days` old (inclusive) when measured
        (Measurement.sample_age_days, in SQL); a bound left None is open."""
        if min_days is None and max_days is None:
            return self
        qs = self.annotate(_sample_age=sample_age_expression("run__measurement__sample", "run__measurement__measured_at"))
        if min_days is not None:
            qs = qs.filter(_sample_age__gte=timedelta(days=min_days))
        if max_days is not None:
            qs = qs.filter(_sample_age__lte=timedelta(days=max_days))
        return qs

    def with_provenance(self) -> "QuantityQuerySet":
        """Each quantity with its run, batch, measurement (technique, date) and sample
        joined: where a number came from, in the same query."""
        return self.select_related("run__batch", "run__measurement__sample").defer(
            *(f"run__{f}" for f in HEAVY_FIELDS), "run__parameters", "run__input_files")


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
    # When its task message was last handed to the broker (None: never, or the send
    # failed) and how often: the sweep re-sends lost messages, not merely slow ones.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatches = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    result = models.JSONField(null=True, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    curves = models.JSONField(null=True, blank=True, help_text="fitted arrays for re-plotting")
    # The same curves as one compact .npz (engine.pack_curves), written at analysis time:
    # the compare view reads these, never the raw files nor the JSON above.
    curve_arrays = models.BinaryField(null=True, blank=True)
    figure_svg = models.TextField(blank=True)
    figure_png = models.BinaryField(null=True, blank=True)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_runs")
    is_automatic = models.BooleanField(default=False)
    derived_from = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="derivatives",
                                          help_text="runs whose results are this run's inputs")
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by")
    # False once an accepted newer version replaced this run (labtrack.core.records).
    is_current = models.BooleanField(default=True)
    # Derived runs only: SHA-256 of routine, inputs and parameters, unique, so concurrent
    # triggers (two accepts at once) create one run.
    inputs_key = models.CharField(max_length=64, blank=True, default="")

    review_state = models.CharField(max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reviewed_runs")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)
    review_meaning = models.CharField(max_length=200, blank=True)
    reviewed_result_sha256 = models.CharField(max_length=64, blank=True)

    history = audited(excluded_fields=["figure_svg", "figure_png", "curves", "curve_arrays", "result", "dispatched_at", "dispatches"])

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["batch", "routine", "-queued_at"]),
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["review_state", "status", "queued_at"]),
            models.Index(fields=["-queued_at", "-id"], name="run_default_order"),
            # The review queue and the batch list's pending counts: only the runs that
            # await review (a few percent of all runs once a lab reviews), in queue order.
            models.Index(fields=["project", "queued_at", "id"], name="run_awaiting_review",
                         condition=Q(is_current=True, status=RunStatus.SUCCEEDED, review_state=ReviewState.PENDING)),
            # "Has a run awaiting review / of record" per batch (the batch list's review
            # filter, probed once per batch): index-only, a few percent of the runs each.
            models.Index(fields=["batch", "id"], name="run_awaiting_review_batch",
                         condition=Q(is_current=True, status=RunStatus.SUCCEEDED, review_state=ReviewState.PENDING)),
            # The queue's counts and requester list read every waiting run in id order
            # (merged against re-fits): index-only instead of the whole runs table.
            models.Index(fields=["id"], include=["project", "requested_by", "batch"], name="run_awaiting_review_ids",
                         condition=Q(is_current=True, status=RunStatus.SUCCEEDED, review_state=ReviewState.PENDING)),
            models.Index(fields=["batch", "id"], include=["project"], name="run_of_record_batch",
                         condition=Q(is_current=True, status=RunStatus.SUCCEEDED, review_state=ReviewState.ACCEPTED)),
        ]
        constraints = [
            # The result of record: at most one accepted current run per measurement and routine.
            models.UniqueConstraint(fields=["measurement", "routine"],
                                    condition=Q(review_state=ReviewState.ACCEPTED, is_current=True),
                                    name="one_record_per_measurement_routine"),
            models.UniqueConstraint(fields=["routine", "inputs_key"], condition=~Q(inputs_key=""),
                                    name="derived_run_inputs_unique"),
            # Only a finished fit can carry a decision; a decision names its reviewer; a
            # rejection says why.
            models.CheckConstraint(condition=Q(review_state=ReviewState.PENDING) | Q(status=RunStatus.SUCCEEDED),
                                   name="reviewed_runs_succeeded"),
            models.CheckConstraint(condition=Q(review_state=ReviewState.PENDING) | Q(reviewer__isnull=False),
                                   name="reviewed_runs_have_reviewer"),
            models.CheckConstraint(condition=~Q(review_state=ReviewState.REJECTED) | ~Q(review_reason=""),
                                   name="rejections_have_reason"),
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

    @property
    def is_of_record(self) -> bool:
        return is_of_record(self)

    @property
    def is_candidate(self) -> bool:
        return is_candidate(self)


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

    objects = QuantityQuerySet.as_manager()

    class Meta:
        ordering = ["run", "component_label", "name"]
        indexes = [
            # Trends and the API pick one kind of number across the lab: the columns they
            # read ride in the index (PostgreSQL), so 20,000 points need no heap visits.
            models.Index(fields=["name", "assignment"], include=["run", "value", "stderr", "unit"],
                         name="quantity_kind_values"),
            models.Index(fields=["run", "name"]),
        ]

    def __str__(self) -> str:
        comp = f"[{self.component_label}] " if self.component_label else ""
        return f"{comp}{self.name} = {self.value} {self.unit}"


class QuantityKind(models.Model):
    """Which (routine, quantity, assignment) a project has numbers for: one row per kind,
    kept by analyses.services when a run's quantities are stored (issue 16).

    The trends picker reads these few dozen rows instead of a DISTINCT over every
    quantity of the lab (~650,000 rows and a sort spilling to disk at 10,000 batches,
    on every view). Rows are never removed: a kind whose only fits were rejected stays
    listed and plots "no values", which is true.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quantity_kinds")
    technique = models.CharField(max_length=8, blank=True)
    routine = models.CharField(max_length=64)
    name = models.CharField(max_length=80)
    assignment = models.CharField(max_length=80, blank=True)
    unit = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["technique", "routine", "name", "assignment"]
        constraints = [models.UniqueConstraint(fields=["project", "routine", "name", "assignment"],
                                               name="one_quantity_kind_per_project")]

    def __str__(self) -> str:
        return f"{self.routine}: {self.name}" + (f" [{self.assignment}]" if self.assignment else "")
