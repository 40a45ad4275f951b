"""Reads for the exchange pages: the import template, remembered mappings, uploads and
foreign-ELN attachments in the user's projects."""
from __future__ import annotations

import csv
import io

import openpyxl
from openpyxl.styles import Font

from labtrack.core.errors import NotFoundForUser
from labtrack.exchange.columns import EXTRA, TARGETS, TEMPLATE_TARGETS
from labtrack.exchange.models import ColumnMapping, ElnAttachment, SpreadsheetUpload
from labtrack.samples.permissions import visible_projects

TEMPLATE_NOTE = ("One row per sample; a batch without samples is one row with the sample columns empty. "
                 "Rows of one batch repeat its code (its other columns may be left empty). Units are those in "
                 "the column titles; another unit in brackets (e.g. “OPA concentration (mM)”) is converted.")


def template_csv() -> str:
    """The import template as CSV: LabTrack's column titles and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t.header for t in TEMPLATE_TARGETS])
    writer.writerow([t.example for t in TEMPLATE_TARGETS])
    return out.getvalue()


def template_xlsx() -> bytes:
    """The import template as a workbook: the sheet to fill first (the importer reads
    the first sheet), then a help sheet describing every column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Syntheses"
    sheet.append([t.header for t in TEMPLATE_TARGETS])
    sheet.append([t.example for t in TEMPLATE_TARGETS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    help_sheet = workbook.create_sheet("Help")
    help_sheet.append(["column", "LabTrack field", "unit", "accepted values"])
    for t in TARGETS:
        values = ", ".join(str(label) for _, label in t.choices.choices) if t.choices else ""
        if t.key == EXTRA:
            values = "any other column mapped to it becomes a protocol extra parameter of that name"
        help_sheet.append([t.header if t.key != EXTRA else "(your own)", t.key, t.unit, values])
    help_sheet.append([])
    help_sheet.append([TEMPLATE_NOTE])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def mappings_for(*, project) -> list[ColumnMapping]:
    return list(ColumnMapping.objects.filter(project=project).order_by("column"))


def upload_get(*, user, pk: int) -> SpreadsheetUpload:
    """A kept spreadsheet upload of the user in one of their projects."""
    upload = (SpreadsheetUpload.objects.filter(pk=pk, project__in=visible_projects(user), uploaded_by=user)
              .select_related("project").first())
    if upload is None:
        raise NotFoundForUser(f"No spreadsheet upload #{pk} of yours.")
    return upload


def batch_attachments(*, batch) -> list[ElnAttachment]:
    """Files imported from another ELN with this batch, those not yet measurements first."""
    return list(ElnAttachment.objects.filter(batch=batch).select_related("measurement")
                .order_by("measurement_id", "name", "id"))


def unassigned_attachment_count(*, batch) -> int:
    """Files from another ELN's experiment still waiting to become measurements."""
    return ElnAttachment.objects.filter(batch=batch, measurement__isnull=True).count()


def attachment_get(*, user, pk: int) -> ElnAttachment:
    attachment = (ElnAttachment.objects.filter(pk=pk, batch__project__in=visible_projects(user))
                  .select_related("batch", "batch__project").first())
    if attachment is None:
        raise NotFoundForUser(f"No imported file #{pk} in your projects.")
    return attachment
