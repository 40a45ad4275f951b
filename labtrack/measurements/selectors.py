"""Reads for measurements and raw files, limited to the user's projects."""
from __future__ import annotations

from collections import OrderedDict

from django.db.models import Prefetch, QuerySet

from labtrack.core.errors import NotFoundForUser
from labtrack.samples.permissions import visible_projects
from labtrack.measurements.models import Instrument, Measurement, RawFile, Technique


def batch_measurements(*, batch) -> list[Measurement]:
    """The batch's measurements, newest first, with sample, instrument, operator and raw
    files loaded (three queries whatever their number)."""
    return list(
        Measurement.objects.filter(sample__batch=batch)
        .select_related("sample", "instrument", "operator")
        .prefetch_related(Prefetch("raw_files", queryset=RawFile.objects.order_by("uploaded_at", "id")))
        .order_by("technique", "-measured_at", "-id")
    )


def group_by_technique(measurements: list[Measurement]) -> "OrderedDict[str, dict]":
    """{technique code: {"label": display name, "measurements": [...]}} in the order of
    the Technique enum."""
    groups: OrderedDict[str, dict] = OrderedDict()
    for tech in Technique:
        items = [m for m in measurements if m.technique == tech]
        if items:
            groups[tech.value] = {"label": tech.label, "measurements": items}
    return groups


def raw_file_get(*, user, pk: int) -> RawFile:
    """A raw file of a measurement in one of the user's projects."""
    raw = (RawFile.objects.filter(pk=pk, measurement__sample__batch__project__in=visible_projects(user))
           .select_related("measurement").first())
    if raw is None:
        raise NotFoundForUser(f"No raw file #{pk} in your projects.")
    return raw


def measurement_get(*, user, pk: int) -> Measurement:
    """A measurement in one of the user's projects, with its sample and batch."""
    m = (Measurement.objects.filter(pk=pk, sample__batch__project__in=visible_projects(user))
         .select_related("sample", "sample__batch", "sample__batch__project", "instrument").first())
    if m is None:
        raise NotFoundForUser(f"No measurement #{pk} in your projects.")
    return m


def instruments_for(technique: str | None = None) -> QuerySet:
    qs = Instrument.objects.all()
    return qs.filter(technique=technique) if technique else qs
