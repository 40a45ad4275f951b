"""Writes for projects, batches and samples. Every check a user can trip lives here."""
from __future__ import annotations

from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from labtrack.core.edits import locked_update
from labtrack.core.records import of_record_q
from labtrack.samples.permissions import require
from labtrack.core.roles import Action, Role
from labtrack.samples.models import Batch, Membership, Project, Sample, SynthesisProtocol, code_is

BATCH_FIELDS = (
    "protocol", "operator", "synthesised_at", "opa_concentration_molar", "reaction_duration_s",
    "temperature_c", "cs_octanoate_volume_ul", "pbbr2_solution_volume_ml", "ddab_solution_volume_ul",
    "quench_time_s", "washing_steps", "washing_notes", "drying", "notes", "extra_parameters", "status",
)
NON_NEGATIVE = {
    "opa_concentration_molar": "OPA concentration",
    "reaction_duration_s": "Reaction duration",
    "cs_octanoate_volume_ul": "Cs-octanoate volume",
    "pbbr2_solution_volume_ml": "PbBr2 solution volume",
    "ddab_solution_volume_ul": "DDAB solution volume",
    "quench_time_s": "Quench time",
    "mass_mg": "Mass",
}
SAMPLE_FIELDS = (
    "form", "prepared_at", "parent", "ageing_started_at", "storage_location", "atmosphere",
    "storage_temperature_c", "light", "mass_mg", "notes",
)


def project_create(*, name: str, description: str = "", manager=None) -> Project:
    with transaction.atomic():
        project = Project(name=name.strip(), description=description)
        project.full_clean()
        project.save()
        if manager is not None:
            Membership.objects.create(project=project, user=manager, role=Role.MANAGER)
    return project


def membership_set(*, actor, project: Project, user, role: str) -> Membership:
    """Add `user` to `project` or change their role (managers only)."""
    require(actor, project, Action.MANAGE)
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": Role(role)})
    return membership


def _check_non_negative(values: dict[str, Any]) -> None:
    errors = {}
    for field, label in NON_NEGATIVE.items():
        value = values.get(field)
        if value is not None and value < 0:
            errors[field] = f"{label} cannot be negative (got {value})."
    if errors:
        raise ValidationError(errors)


def _check_extra_parameters(protocol: SynthesisProtocol | None, extra: dict) -> None:
    if not extra:
        return
    if protocol is None:
        raise ValidationError({"extra_parameters": "Extra parameters need a protocol that defines them."})
    schema = protocol.parameter_schema or {}
    try:
        jsonschema.validate(extra, schema)
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "extra parameters"
        raise ValidationError({"extra_parameters": f"{where}: {exc.message} (protocol {protocol})"}) from None


def _check_code_free(model, code: str, exclude_pk: int | None = None) -> str:
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": "A code is required."})
    clash = model.objects.filter(code_is(code))
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        kind = model._meta.verbose_name
        raise ValidationError({"code": f"A {kind} with code {clash.first().code} already exists; codes must be unique."})
    return code


def _save_new_with_code(obj: Batch | Sample) -> None:
    """Insert a batch or sample whose code was checked free. Two requests may pass that
    check at once; the case-insensitive unique index lets one insert win and the other
    is told the usual duplicate-code message (never an HTTP 500)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        model = type(obj)
        if model.objects.filter(code_is(obj.code)).exists():
            _check_code_free(model, obj.code)  # raises the duplicate-code ValidationError
        raise


def batch_create(*, user, project: Project, code: str, **fields: Any) -> Batch:
    """Record a synthesis. Raises ValidationError (nothing saved) on a duplicate code,
    a negative amount or extra parameters that do not fit the protocol."""
    require(user, project, Action.EDIT_SAMPLES)
    unknown = set(fields) - set(BATCH_FIELDS)
    if unknown:
        raise TypeError(f"unknown batch fields: {sorted(unknown)}")
    _check_non_negative(fields)
    _check_extra_parameters(fields.get("protocol"), fields.get("extra_parameters") or {})
    code = _check_code_free(Batch, code)
    batch = Batch(project=project, code=code, **fields)
    if batch.operator is None:
        batch.operator = user
    batch.full_clean(validate_constraints=False)
    _save_new_with_code(batch)
    return batch


def batch_has_review(batch: Batch) -> bool:
    """True when the batch has results of record (an analyst signed them off), so edits
    need a reason. Reads the rule through the reverse relation: no analyses import."""
    return batch.runs.filter(of_record_q()).exists()


def require_reason_if_reviewed(batch: Batch, reason: str, what: str) -> None:
    """Edits after an analyst signed off a result of `batch` must say why."""
    if batch_has_review(batch) and not reason.strip():
        raise ValidationError({"reason": f"This batch has reviewed results; say why {what} is being changed."})


def batch_update(*, user, batch: Batch, reason: str = "", **fields: Any) -> Batch:
    """Change a batch. After a result was accepted, a reason is required and recorded."""
    require(user, batch.project, Action.EDIT_SAMPLES)
    if "code" in fields:
        fields["code"] = _check_code_free(Batch, fields["code"], exclude_pk=batch.pk)
    elif set(fields) - set(BATCH_FIELDS):
        raise TypeError(f"unknown batch fields: {sorted(set(fields) - set(BATCH_FIELDS))}")
    require_reason_if_reviewed(batch, reason, "it")
    _check_non_negative(fields)
    protocol = fields.get("protocol", batch.protocol)
    _check_extra_parameters(protocol, fields.get("extra_parameters", batch.extra_parameters) or {})
    return locked_update(Batch, batch.pk, fields, reason)


def _check_lineage(sample: Sample | None, batch: Batch, parent: Sample | None) -> None:
    if parent is None:
        return
    if parent.batch.project_id != batch.project_id:
        raise ValidationError({"parent": f"Parent sample {parent} belongs to another project ({parent.batch.project})."})
    if sample is not None and sample.pk is not None:
        node, seen = parent, set()
        while node is not None:
            if node.pk == sample.pk:
                raise ValidationError({"parent": f"{parent} descends from {sample}; lineage cannot loop."})
            if node.pk in seen:  # defensive: corrupted data must not hang a request
                break
            seen.add(node.pk)
            node = node.parent


def sample_create(*, user, batch: Batch, code: str, form: str, **fields: Any) -> Sample:
    """Record an aliquot of `batch`. The parent must be in the same project."""
    require(user, batch.project, Action.EDIT_SAMPLES)
    unknown = set(fields) - set(SAMPLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown sample fields: {sorted(unknown)}")
    _check_non_negative(fields)
    _check_lineage(None, batch, fields.get("parent"))
    sample = Sample(batch=batch, code=_check_code_free(Sample, code), form=form, **fields)
    sample.full_clean(validate_constraints=False)
    _save_new_with_code(sample)
    return sample


def sample_update(*, user, sample: Sample, reason: str = "", **fields: Any) -> Sample:
    require(user, sample.batch.project, Action.EDIT_SAMPLES)
    if "code" in fields:
        fields["code"] = _check_code_free(Sample, fields["code"], exclude_pk=sample.pk)
    _check_non_negative(fields)
    if "parent" in fields:
        _check_lineage(sample, sample.batch, fields["parent"])
    require_reason_if_reviewed(sample.batch, reason, "the sample")
    return locked_update(Sample, sample.pk, fields, reason)
