"""Ageing (stability) studies: storage conditions, pull points per sample, the
stability-indicating quantities with their thresholds, and the reminders sent.

Fulfilment of a pull point is not stored: it is derived from the sample's measurements
each time (selectors.pull_point_status), so it can never disagree with them."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.measurements.models import Technique
from labtrack.samples.models import Atmosphere, Light, Project, Sample


class ThresholdKind(models.TextChoices):
    """Mirrors analysis.stability.ThresholdKind (the engine converts)."""

    INCREASE = "increase", "Increase by (absolute)"
    CHANGE = "change", "Change by (either way)"
    RELATIVE_INCREASE = "relative_increase", "Increase by (%)"
    RELATIVE_CHANGE = "relative_change", "Change by (%, either way)"
    APPEARS = "appears", "Appears (above t0)"


class StorageConditions(models.Model):
    atmosphere = models.CharField(max_length=8, choices=Atmosphere.choices, default=Atmosphere.AIR)
    temperature_c = models.FloatField(null=True, blank=True, verbose_name="temperature (°C)")
    relative_humidity_percent = models.FloatField(null=True, blank=True, verbose_name="relative humidity (%)")
    light = models.CharField(max_length=16, choices=Light.choices, default=Light.DARK)

    class Meta:
        abstract = True

    @property
    def conditions_text(self) -> str:
        parts = [self.get_atmosphere_display()]
        if self.temperature_c is not None:
            parts.append(f"{self.temperature_c:g} °C")
        if self.relative_humidity_percent is not None:
            parts.append(f"{self.relative_humidity_percent:g} % RH")
        parts.append(self.get_light_display().lower())
        return ", ".join(parts)


class StudyTemplate(StorageConditions):
    """An editable recipe: conditions, pull points and quantities a new study copies.
    `pull_points`: [{"label": "1 month", "offset_days": 30, "tolerance_days": 3,
    "techniques": ["nmr", "pl"]}, ...]; `quantities`: keys of ageing.defaults.QUANTITIES
    (with optional {"key":..., "threshold_amount": ...} overrides)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    pull_points = models.JSONField(default=list)
    quantities = models.JSONField(default=list)
    history = audited()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Study(StorageConditions):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="ageing_studies")
    name = models.CharField(max_length=200)
    template = models.ForeignKey(StudyTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    samples = models.ManyToManyField(Sample, related_name="ageing_studies")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = audited()

    class Meta:
        ordering = ["-created_at", "name"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="study_name_unique_in_project"),
            models.CheckConstraint(condition=Q(relative_humidity_percent__isnull=True)
                                   | Q(relative_humidity_percent__gte=0, relative_humidity_percent__lte=100),
                                   name="study_rh_in_range"),
        ]

    def __str__(self) -> str:
        return self.name


class PullPoint(models.Model):
    """One planned re-measurement of one sample. `due_at` is the sample's age-clock start
    (Sample.age_started_at) plus `offset_days`; the window is due ± tolerance. `missed_at`
    is when the point counts as missed (the next point's window opens, or a grace after
    the last one); a measurement after the window and before then is "late"."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="pull_points")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="pull_points")
    label = models.CharField(max_length=60)
    offset_days = models.FloatField()
    tolerance_days = models.FloatField(default=3.0)
    techniques = models.JSONField(default=list)
    due_at = models.DateTimeField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    missed_at = models.DateTimeField()
    history = audited()   # a re-dated or rescheduled point keeps its old dates and the reason

    class Meta:
        ordering = ["due_at", "sample_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "sample", "offset_days"], name="one_pull_point_per_offset"),
            models.CheckConstraint(condition=Q(offset_days__gte=0), name="pull_point_offset_non_negative"),
            models.CheckConstraint(condition=Q(tolerance_days__gte=0), name="pull_point_tolerance_non_negative"),
        ]
        indexes = [models.Index(fields=["opens_at", "missed_at"])]

    def __str__(self) -> str:
        return f"{self.study}: {self.sample} at {self.label}"

    @property
    def technique_labels(self) -> list[str]:
        return [Technique(t).label for t in self.techniques]


class StudyQuantity(models.Model):
    """A stability-indicating quantity of a study: which numbers of record to read
    (routine, quantity name, component assignment) and when a change is significant."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="quantities")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=120)
    routine = models.CharField(max_length=80)
    name = models.CharField(max_length=80)
    assignment = models.CharField(max_length=80, blank=True, help_text="component assignment; blank = top level")
    unit = models.CharField(max_length=20, blank=True)
    threshold_kind = models.CharField(max_length=20, choices=ThresholdKind.choices)
    threshold_amount = models.FloatField()
    history = audited()

    class Meta:
        ordering = ["study", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="study_quantity_key_unique")]

    def __str__(self) -> str:
        return f"{self.label} ({self.threshold_text})"

    @property
    def change_unit(self) -> str:
        """Unit of a change from t0: a change of a percentage is in percentage points."""
        return "percentage points" if self.unit == "%" else self.unit

    @property
    def threshold_text(self) -> str:
        a, unit = f"{self.threshold_amount:g}", self.change_unit
        return {
            ThresholdKind.INCREASE: f"+{a} {unit}".strip(),
            ThresholdKind.CHANGE: f"±{a} {unit}".strip(),
            ThresholdKind.RELATIVE_INCREASE: f"+{a} %",
            ThresholdKind.RELATIVE_CHANGE: f"±{a} %",
            ThresholdKind.APPEARS: "appears" if self.threshold_amount == 0 else f"appears above {a} {unit}".strip(),
        }[ThresholdKind(self.threshold_kind)]


class ReminderSent(models.Model):
    """The e-mail reminder of a pull point. The unique pull point is what makes the beat
    task send exactly once, whatever restarts or overlaps."""

    pull_point = models.OneToOneField(PullPoint, on_delete=models.CASCADE, related_name="reminder")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.TextField(blank=True)


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarToken(models.Model):
    """The secret in a user's iCalendar feed URL (calendar apps cannot log in)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ageing_calendar")
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(default=timezone.now)
