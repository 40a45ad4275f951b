"""Reads for batches and samples (the batch list with its review counts is in
labtrack.insights.batch_list). Every query is limited to the user's projects; an
object outside them raises NotFoundForUser (the web shows 404, never 403, so existence
does not leak). Query counts do not grow with the number of rows."""
from __future__ import annotations

from django.db.models import QuerySet

from labtrack.core.errors import NotFoundForUser
from labtrack.samples.permissions import visible_projects
from labtrack.samples.models import Batch, Sample, SynthesisProtocol, code_is


def protocols_visible(*, user) -> QuerySet:
    """Protocols used by the user's batches or by nobody yet (shared reference data)."""
    return SynthesisProtocol.objects.all()


def batch_get(*, user, code: str) -> Batch:
    """The batch with this code (case-insensitive) in one of the user's projects."""
    batch = (Batch.objects.filter(code_is(code), project__in=visible_projects(user))
             .select_related("project", "protocol", "operator").first())
    if batch is None:
        raise NotFoundForUser(f"No batch {code} in your projects.")
    return batch


def batch_samples(*, batch: Batch) -> list[Sample]:
    """The batch's samples in lineage order (each parent before its children), each with
    `depth` (0 for a root) for indentation; parents are joined."""
    samples = list(Sample.objects.filter(batch=batch).select_related("parent").order_by("prepared_at", "code_sort_key"))
    children: dict[int | None, list[Sample]] = {}
    ids = {s.pk for s in samples}
    for s in samples:
        key = s.parent_id if s.parent_id in ids else None
        children.setdefault(key, []).append(s)
    ordered: list[Sample] = []

    def walk(parent_id, depth):
        for s in children.get(parent_id, []):
            if s in ordered:
                continue
            s.depth = depth
            ordered.append(s)
            walk(s.pk, depth + 1)

    walk(None, 0)
    ordered.extend(s for s in samples if s not in ordered)  # defensive: a loop in bad data
    return ordered


def sample_get(*, user, pk: int) -> Sample:
    sample = (Sample.objects.filter(batch__project__in=visible_projects(user), pk=pk)
              .select_related("batch", "batch__project", "parent").first())
    if sample is None:
        raise NotFoundForUser(f"No sample #{pk} in your projects.")
    return sample


def parent_choices(*, project_id: int, exclude_pk: int | None = None) -> QuerySet:
    """Samples that may be a parent: any sample of the same project."""
    qs = Sample.objects.filter(batch__project_id=project_id).select_related("batch").order_by("code_sort_key")
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs
