"""Spreadsheet import of syntheses (batches) and their samples: the lab's columns are
mapped to LabTrack's fields once per project (ColumnMapping), every row is checked in a
dry run, and the commit writes all of it in one transaction or nothing.

The dry run *is* the commit rolled back: each batch and sample goes through
`samples.services.batch_create` / `sample_create` (codes, amounts, protocol schema,
lineage, permissions are checked there, once), inside a transaction that is always
rolled back for a preview and whenever any row has an error."""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from labtrack.core.roles import Action
from labtrack.exchange.columns import (ALIASES, EXTRA, TARGETS_BY_KEY, Target, converter, normalise_name,
                                       split_header)
from labtrack.exchange.models import ColumnMapping, SpreadsheetUpload
from labtrack.exchange.sheets import Sheet, read_sheet
from labtrack.samples import services as sample_services
from labtrack.samples.models import Project, Sample, SynthesisProtocol, code_is
from labtrack.samples.permissions import require

PREVIEW_ROWS = 200


@dataclass
class ColumnPlan:
    """What one column of the sheet fills: its target, its unit and how it converts."""

    index: int
    header: str
    name: str  # normalised name without unit: what a mapping remembers
    unit: str
    target: Target | None
    source: str  # "saved", "recognised" or "" (not imported)
    convert: Callable[[float], float] | None = None
    problem: str = ""

    @property
    def target_key(self) -> str:
        return self.target.key if self.target else ""

    @property
    def unit_note(self) -> str:
        if self.target is None or self.target.kind != "number" or self.problem:
            return ""
        if not self.unit:
            return f"no unit in the header: read as {self.target.unit}"
        if self.unit.replace("u", "µ", 1) == self.target.unit or self.unit == self.target.unit:
            return f"in {self.target.unit}"
        return f"{self.unit} converted to {self.target.unit}"


@dataclass
class CellError:
    row: int  # 0: the whole sheet or a whole column
    column: str
    message: str


@dataclass
class ImportReport:
    file_name: str
    columns: list[ColumnPlan] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the preview table
    n_rows: int = 0
    batches: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_at(self, row: int, column: str) -> str:
        return " ".join(e.message for e in self.errors if e.row == row and e.column == column)


class _RowFailed(Exception):
    """Rolls back one row's savepoint after its errors were recorded."""


# --- mapping ---------------------------------------------------------------------------

def saved_mappings(project: Project) -> dict[str, str]:
    return dict(ColumnMapping.objects.filter(project=project).values_list("column", "field"))


def mapping_save(*, user, project: Project, assignments: dict[str, str]) -> None:
    """Remember, for `project`, which field each column name fills ("" = ignore it).
    Chemists of the project may change it; unknown fields are refused."""
    require(user, project, Action.EDIT_SAMPLES)
    for column, key in assignments.items():
        if key and key not in TARGETS_BY_KEY:
            raise ValidationError({column: f"LabTrack has no field {key!r}."})
    with transaction.atomic():
        for column, key in assignments.items():
            ColumnMapping.objects.update_or_create(
                project=project, column=normalise_name(column),
                defaults={"field": key, "updated_by": user, "updated_at": timezone.now()})


def plan_columns(project: Project, headers: list[str]) -> list[ColumnPlan]:
    """Each header's target: the project's saved mapping, else LabTrack's own names and
    usual aliases; its unit, checked against the field's."""
    saved = saved_mappings(project)
    plans = []
    for index, text in enumerate(headers):
        header = split_header(text)
        full = normalise_name(header.text)
        key, source = "", ""
        for candidate in (full, header.name):
            if candidate in saved:
                key, source = saved[candidate], "saved"
                break
        else:
            for candidate in (full, header.name):
                if candidate in ALIASES:
                    key, source = ALIASES[candidate], "recognised"
                    break
        target = TARGETS_BY_KEY.get(key) if key else None
        plan = ColumnPlan(index, header.text, header.name, header.unit, target, source if target else "")
        if target is not None and target.kind == "number":
            plan.convert, plan.problem = converter(target, header.unit)
        else:
            plan.unit = ""  # brackets in a text, date or code column's title are words, not a unit
        plans.append(plan)
    return plans


# --- cells -----------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any, target: Target) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value} is not a number ({target.label}).")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if not _NUMBER.match(text):
            hint = ""
            if re.match(r"^[+-]?[\d.,]+\s*\S+$", text):
                hint = f" Put the unit in the column title, e.g. “{target.label} (unit)”, and only numbers below."
            raise ValueError(f"“{text[:40]}” is text in a number column ({target.label}).{hint}")
        number = float(text.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(f"{value} is not a finite number ({target.label}).")
    return number


def _datetime(value: Any, target: Target) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(0, 0))
    else:
        text = str(value).strip()
        parsed = parse_datetime(text.replace("/", "-"))
        if parsed is None:
            day = parse_date(text.replace("/", "-"))
            if day is None:
                for fmt in ("%d.%m.%Y %H:%M", "%d.%m.%Y"):
                    try:
                        parsed = dt.datetime.strptime(text, fmt)
                        break
                    except ValueError:
                        continue
            else:
                parsed = dt.datetime.combine(day, dt.time(0, 0))
        if parsed is None:
            raise ValueError(f"“{text[:40]}” is not a date ({target.label}); write e.g. 2024-03-05 or 2024-03-05 14:30.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _choice(value: Any, target: Target) -> str | None:
    text = _text(value)
    if not text:
        return None
    folded = normalise_name(text).replace(" ", "_")
    for choice_value, label in target.choices.choices:
        if folded in (choice_value, normalise_name(label).replace(" ", "_")):
            return choice_value
    allowed = ", ".join(str(label) for _, label in target.choices.choices)
    raise ValueError(f"“{text[:40]}” is not a {target.label.lower()} LabTrack knows ({allowed}).")


class _Protocols:
    """Protocols by name ("hot injection") or name and version ("hot injection v2")."""

    def __init__(self) -> None:
        self.all = list(SynthesisProtocol.objects.all())

    def find(self, text: str) -> SynthesisProtocol:
        wanted = normalise_name(text)
        exact = [p for p in self.all if normalise_name(f"{p.name} v{p.version}") == wanted
                 or normalise_name(f"{p.name} {p.version}") == wanted]
        if exact:
            return exact[0]
        named = [p for p in self.all if normalise_name(p.name) == wanted]
        if len(named) == 1:
            return named[0]
        if named:
            versions = ", ".join(f"v{p.version}" for p in named)
            raise ValueError(f"Protocol “{text}” has several versions ({versions}); write e.g. “{named[0].name} v{named[-1].version}”.")
        known = ", ".join(str(p) for p in self.all[:8]) or "none yet"
        raise ValueError(f"Unknown protocol “{text[:60]}” (LabTrack has: {known}).")


def _parse_row(cells: list[Any], plans: list[ColumnPlan], protocols: _Protocols) -> tuple[dict, dict, dict]:
    """(batch values, sample values, errors by header) of one row."""
    batch: dict[str, Any] = {}
    sample: dict[str, Any] = {}
    errors: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for plan in plans:
        target = plan.target
        if target is None or plan.problem:
            continue
        value = cells[plan.index]
        try:
            if target.kind == "extra":
                if _text(value):
                    try:
                        extra[plan.header] = _number(value, target)
                    except ValueError:
                        extra[plan.header] = _text(value)
                continue
            if target.kind in ("number", "integer"):
                parsed = _number(value, target)
                if parsed is not None and plan.convert is not None:
                    parsed = plan.convert(parsed)
                if target.kind == "integer" and parsed is not None:
                    if not float(parsed).is_integer():
                        raise ValueError(f"{_text(value)} is not a whole number ({target.label}).")
                    parsed = int(parsed)
            elif target.kind == "datetime":
                parsed = _datetime(value, target)
            elif target.kind == "choice":
                parsed = _choice(value, target)
            elif target.kind == "protocol":
                parsed = protocols.find(_text(value)) if _text(value) else None
            else:
                parsed = _text(value) or None
        except ValueError as exc:
            errors[plan.header] = str(exc)
            continue
        if parsed is not None:
            (batch if target.owner == "batch" else sample)[target.field_name] = parsed
    if extra:
        batch["extra_parameters"] = extra
    return batch, sample, errors


# --- the run ---------------------------------------------------------------------------

def _column_for(plans: list[ColumnPlan], owner: str, field_name: str) -> str:
    if field_name == "extra_parameters":
        keys = (EXTRA,)
    elif field_name in ("code", "__all__"):
        keys = (f"{owner}.code",)
    else:
        keys = (f"{owner}.{field_name}",)
    for plan in plans:
        if plan.target_key in keys:
            return plan.header
    return ""


def _service_errors(exc: ValidationError, plans: list[ColumnPlan], owner: str, row: int) -> list[CellError]:
    if not hasattr(exc, "error_dict"):
        return [CellError(row, _column_for(plans, owner, "code"), " ".join(exc.messages))]
    return [CellError(row, _column_for(plans, owner, name), message)
            for name, messages in exc.message_dict.items() for message in messages]


def _check_columns(plans: list[ColumnPlan], report: ImportReport) -> None:
    for plan in plans:
        if plan.problem:
            report.errors.append(CellError(0, plan.header, plan.problem))
    used: dict[str, str] = {}
    for plan in plans:
        if plan.target and plan.target.key != EXTRA:
            if plan.target.key in used:
                report.errors.append(CellError(0, plan.header, f"Both “{used[plan.target.key]}” and “{plan.header}” "
                                                               f"fill {plan.target.label}; map one of them to nothing."))
            used[plan.target.key] = plan.header
    if "batch.code" not in used:
        report.errors.append(CellError(0, "", "No column gives the batch code; map one (e.g. “Batch”) to Batch code."))
    if "sample.code" in used and "sample.form" not in used:
        report.errors.append(CellError(0, "", "Samples need a form (powder, colloid ink, film, bulk reference): "
                                              "map a column to Sample form."))


def _import(*, user, project: Project, file_name: str, sheet: Sheet, commit: bool) -> ImportReport:
    require(user, project, Action.EDIT_SAMPLES)
    plans = plan_columns(project, sheet.headers)
    report = ImportReport(file_name=file_name, columns=plans, n_rows=len(sheet.rows))
    _check_columns(plans, report)
    protocols = _Protocols()
    batch_col = _column_for(plans, "batch", "code")
    sample_col = _column_for(plans, "sample", "code")
    parsed_rows = []
    for number, cells in sheet.rows:
        batch, sample, errors = _parse_row(cells, plans, protocols)
        report.errors += [CellError(number, header, message) for header, message in errors.items()]
        parsed_rows.append((number, cells, batch, sample))
        if len(report.rows) < PREVIEW_ROWS:
            report.rows.append({"number": number, "cells": cells})

    # Duplicates within the file; codes already in the database are the services' check.
    batch_rows: dict[str, tuple[int, dict]] = {}
    sample_rows: dict[str, int] = {}
    groups: list[tuple[int, dict, list[tuple[int, dict]]]] = []
    by_code: dict[str, tuple[int, dict, list]] = {}
    for number, _cells, batch, sample in parsed_rows:
        code = batch.get("code", "")
        if not code:
            if any(batch.get(k) is not None for k in batch) or sample:
                report.errors.append(CellError(number, batch_col, "The batch code is empty."))
            continue
        key = code.casefold()
        sample_code = sample.get("code", "")
        if key in batch_rows:
            first, first_values = batch_rows[key]
            if not sample_code:
                report.errors.append(CellError(number, batch_col, f"Duplicate batch code {code} in the file (also row {first})."))
                continue
            for name, value in batch.items():
                if name != "code" and first_values.get(name) not in (None, value):
                    report.errors.append(CellError(
                        number, _column_for(plans, "batch", name),
                        f"Batch {code} is on row {first} with {first_values[name]}: rows of one batch must agree "
                        f"(or leave the batch columns empty on its sample rows)."))
        else:
            batch_rows[key] = (number, batch)
            by_code[key] = (number, batch, [])
            groups.append(by_code[key])
        if sample_code:
            skey = sample_code.casefold()
            if skey in sample_rows:
                report.errors.append(CellError(number, sample_col,
                                               f"Duplicate sample code {sample_code} in the file (also row {sample_rows[skey]})."))
                continue
            sample_rows[skey] = number
            by_code[key][2].append((number, sample))
        elif sample:
            report.errors.append(CellError(number, sample_col, "Sample columns are filled but the sample code is empty."))

    if any(e.row == 0 for e in report.errors):
        return report  # the columns themselves are wrong: rows would only repeat it
    try:
        with transaction.atomic():
            _write(user, project, plans, groups, report)
            if report.errors or not commit:
                transaction.set_rollback(True)
    except PermissionDenied as exc:
        report.errors.append(CellError(0, "", str(exc)))
    report.committed = commit and not report.errors
    report.errors.sort(key=lambda e: (e.row, e.column))
    return report


def _write(user, project: Project, plans, groups, report: ImportReport) -> None:
    created: dict[str, Sample] = {}
    for number, batch_values, samples in groups:
        values = {k: v for k, v in batch_values.items() if k != "code"}
        try:
            with transaction.atomic():
                batch = sample_services.batch_create(user=user, project=project, code=batch_values["code"], **values)
        except ValidationError as exc:
            report.errors += _service_errors(exc, plans, "batch", number)
            continue
        report.batches.append(batch.code)
        for sample_number, sample_values in samples:
            values = {k: v for k, v in sample_values.items() if k not in ("code", "form")}
            parent_code = values.pop("parent", None)
            try:
                with transaction.atomic():
                    if parent_code:
                        parent = created.get(parent_code.casefold()) or Sample.objects.filter(
                            code_is(parent_code), batch__project=project).first()
                        if parent is None:
                            raise ValidationError({"parent": f"No sample {parent_code} in this project or above "
                                                             "in the file."})
                        values["parent"] = parent
                    if not sample_values.get("form"):
                        raise ValidationError({"form": "Say the sample's form (powder, colloid ink, film, bulk reference)."})
                    sample = sample_services.sample_create(user=user, batch=batch, code=sample_values["code"],
                                                           form=sample_values["form"], **values)
            except ValidationError as exc:
                report.errors += _service_errors(exc, plans, "sample", sample_number)
                continue
            created[sample.code.casefold()] = sample
            report.samples.append(sample.code)


# --- services the pages call ------------------------------------------------------------

def upload_store(*, user, project: Project, name: str, content: bytes) -> SpreadsheetUpload:
    """Keep an uploaded sheet for its preview and commit, once it reads as a sheet."""
    require(user, project, Action.EDIT_SAMPLES)
    read_sheet(name, content)  # refuse what cannot be read before keeping it
    return SpreadsheetUpload.objects.create(project=project, uploaded_by=user, file_name=name[:255],
                                            content=content, size_bytes=len(content))


def spreadsheet_preview(*, user, upload: SpreadsheetUpload) -> ImportReport:
    """Every row checked as the commit would, nothing written."""
    sheet = read_sheet(upload.file_name, bytes(upload.content))
    return _import(user=user, project=upload.project, file_name=upload.file_name, sheet=sheet, commit=False)


def spreadsheet_commit(*, user, upload: SpreadsheetUpload) -> ImportReport:
    """All rows in one transaction, or nothing on any error (the report says which)."""
    if upload.committed_at is not None:
        raise ValidationError(f"{upload.file_name} was already imported on {upload.committed_at:%Y-%m-%d %H:%M}.")
    sheet = read_sheet(upload.file_name, bytes(upload.content))
    with transaction.atomic():
        locked = SpreadsheetUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.committed_at is not None:
            raise ValidationError(f"{upload.file_name} was already imported.")
        report = _import(user=user, project=upload.project, file_name=upload.file_name, sheet=sheet, commit=True)
        if report.committed:
            SpreadsheetUpload.objects.filter(pk=upload.pk).update(committed_at=timezone.now(),
                                                                  committed_batches=report.batches)
    return report


def spreadsheet_import(*, user, project: Project, name: str, content: bytes, commit: bool) -> ImportReport:
    """Preview or commit a sheet in one call (commands, tests)."""
    sheet = read_sheet(name, content)
    return _import(user=user, project=project, file_name=name, sheet=sheet, commit=commit)
