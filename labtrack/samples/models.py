"""Projects (teams), synthesis protocols, batches (one synthesis each) and samples."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from labtrack.core.history import audited
from labtrack.core.naturalsort import NaturalSortKeyField
from labtrack.core.roles import Role


def code_is(code: str) -> Exact:
    """Case-insensitive code match written as lower(code) = lower(%s), the expression the
    unique indexes are built on (`code__iexact` compiles to UPPER() and misses them)."""
    return Exact(Lower("code"), Lower(Value(code)))


class Project(models.Model):
    """A team and the batches it owns; membership decides who sees and does what."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    history = audited()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class SynthesisProtocol(models.Model):
    """A written procedure. `parameter_schema` is a JSON Schema for a batch's extra
    parameters (e.g. {"type": "object", "properties": {"stir_rpm": {"type": "number"}}})."""

    name = models.CharField(max_length=200)
    version = models.CharField(max_length=32, default="1")
    description = models.TextField(blank=True)
    parameter_schema = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited()

    class Meta:
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="protocol_name_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class BatchStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    ARCHIVED = "archived", "Archived"


class Batch(models.Model):
    """One synthesis. Units are in the field names; amounts are as dispensed."""

    code = models.CharField(max_length=64, help_text="Unique human code, e.g. NC8.3")
    # The code in natural order (NC6.4 before NC10.4), what lists sort by; set on save.
    code_sort_key = NaturalSortKeyField(source="code")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="batches")
    protocol = models.ForeignKey(SynthesisProtocol, on_delete=models.PROTECT, null=True, blank=True, related_name="batches")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    synthesised_at = models.DateTimeField(default=timezone.now)
    opa_concentration_molar = models.FloatField(null=True, blank=True, verbose_name="OPA concentration (M)")
    reaction_duration_s = models.FloatField(null=True, blank=True, verbose_name="reaction duration (s)")
    temperature_c = models.FloatField(null=True, blank=True, verbose_name="temperature (°C)")
    cs_octanoate_volume_ul = models.FloatField(null=True, blank=True, verbose_name="Cs-octanoate volume (µL)")
    pbbr2_solution_volume_ml = models.FloatField(null=True, blank=True, verbose_name="PbBr2 solution volume (mL)")
    ddab_solution_volume_ul = models.FloatField(null=True, blank=True, verbose_name="DDAB solution volume (µL)")
    quench_time_s = models.FloatField(null=True, blank=True, verbose_name="DDAB quench time (s)")
    washing_steps = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Number of wash/redisperse cycles")
    washing_notes = models.TextField(blank=True)
    drying = models.CharField(max_length=200, blank=True, help_text="e.g. air, 15 min")
    notes = models.TextField(blank=True)
    extra_parameters = models.JSONField(default=dict, blank=True)
    # A batch is recorded while (or before) it is made; "complete" is said, not assumed.
    status = models.CharField(max_length=16, choices=BatchStatus.choices, default=BatchStatus.IN_PROGRESS)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # How many measurements the batch's samples have, kept by the measurement services in
    # the transaction that adds or moves one (the batch list sorts 10,000 batches by it
    # without counting 50,000 measurements). Derived, so not in the audit history;
    # measurements.services.batch_measurement_counts_refresh recounts.
    measurement_count = models.PositiveIntegerField(default=0, editable=False)
    history = audited(excluded_fields=["measurement_count", "code_sort_key"])

    class Meta:
        ordering = ["-synthesised_at", "code_sort_key", "code"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(Lower("code"), name="batch_code_unique_ci"),
            *[
                models.CheckConstraint(condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": 0}), name=f"batch_{f}_non_negative")
                for f in ("opa_concentration_molar", "reaction_duration_s", "cs_octanoate_volume_ul",
                          "pbbr2_solution_volume_ml", "ddab_solution_volume_ul", "quench_time_s")
            ],
        ]
        indexes = [models.Index(fields=["project", "-synthesised_at"]),
                   models.Index(fields=["code_sort_key", "code"], name="batch_code_natural_order")]

    def __str__(self) -> str:
        return self.code


class SampleForm(models.TextChoices):
    COLLOID_INK = "colloid_ink", "Colloid ink"
    POWDER = "powder", "Powder"
    FILM = "film", "Film"
    BULK_REFERENCE = "bulk_reference", "Bulk reference"


class Atmosphere(models.TextChoices):
    AIR = "air", "Ambient air"
    NITROGEN = "n2", "Nitrogen"
    ARGON = "ar", "Argon"
    VACUUM = "vacuum", "Vacuum"


class Light(models.TextChoices):
    DARK = "dark", "Dark"
    AMBIENT = "ambient", "Ambient light"
    ILLUMINATED = "illuminated", "Continuous illumination"


class Sample(models.Model):
    """A physical aliquot of a batch. `parent` records lineage (a powder dried from an
    ink, an aged aliquot split from a powder); `ageing_started_at` starts its age clock."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="samples")
    code = models.CharField(max_length=80)
    code_sort_key = NaturalSortKeyField(source="code")  # natural order (NC8.3-P before NC10.4-P)
    form = models.CharField(max_length=16, choices=SampleForm.choices)
    prepared_at = models.DateTimeField(default=timezone.now)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    ageing_started_at = models.DateTimeField(null=True, blank=True)
    storage_location = models.CharField(max_length=200, blank=True)
    atmosphere = models.CharField(max_length=8, choices=Atmosphere.choices, default=Atmosphere.AIR)
    storage_temperature_c = models.FloatField(null=True, blank=True, verbose_name="storage temperature (°C)")
    light = models.CharField(max_length=16, choices=Light.choices, default=Light.DARK)
    mass_mg = models.FloatField(null=True, blank=True, verbose_name="mass (mg)")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited(excluded_fields=["code_sort_key"])

    class Meta:
        ordering = ["batch", "prepared_at", "code_sort_key"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="sample_code_unique_ci"),
            models.CheckConstraint(condition=Q(mass_mg__isnull=True) | Q(mass_mg__gte=0), name="sample_mass_non_negative"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="sample_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def age_started_at(self):
        """When this sample's age clock started: ageing start, else preparation."""
        return self.ageing_started_at or self.prepared_at

    def age_days(self, at=None) -> float:
        at = at or timezone.now()
        return (at - self.age_started_at).total_seconds() / 86400.0


def sample_age_expression(sample: str, at: str) -> ExpressionWrapper:
    """The same age as `Sample.age_days(at)`, as a database expression (a duration), for
    filtering by age in SQL: field `at` minus the sample's ageing start, else its
    preparation. `sample` is the lookup path to the sample, e.g. "run__measurement__sample"."""
    return ExpressionWrapper(F(at) - Coalesce(F(f"{sample}__ageing_started_at"), F(f"{sample}__prepared_at")),
                             output_field=models.DurationField())
