"""Reads for drop folders and their items, limited to the user's projects."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from labtrack.core.errors import NotFoundForUser
from labtrack.dropfolders.models import NEEDS_PERSON_STATES, DropFolder, DropItem, ItemState
from labtrack.measurements.models import Instrument, Technique
from labtrack.samples.models import Sample
from labtrack.samples.permissions import visible_projects

# The page lists every item a person must decide, and this many of the others.
RECENT_ITEMS = 100


def folders_for(*, user) -> list[DropFolder]:
    """The drop folders of the user's projects, each with `n_<state>` counts (one query)."""
    counts = {f"n_{state}": Count("items", filter=Q(items__state=state)) for state in ItemState.values}
    return list(DropFolder.objects.filter(project__in=visible_projects(user))
                .select_related("project", "instrument", "upload_as").annotate(**counts).order_by("name"))


def folder_get(*, user, pk: int) -> DropFolder:
    folder = (DropFolder.objects.filter(pk=pk, project__in=visible_projects(user))
              .select_related("project", "instrument", "upload_as").first())
    if folder is None:
        raise NotFoundForUser(f"No drop folder #{pk} in your projects.")
    return folder


def item_get(*, user, pk: int) -> DropItem:
    item = _items().filter(pk=pk, project__in=visible_projects(user)).first()
    if item is None:
        raise NotFoundForUser(f"No drop item #{pk} in your projects.")
    return item


def _items() -> QuerySet:
    return DropItem.objects.select_related("folder", "sample", "measurement", "measurement__sample__batch",
                                           "duplicate_of", "decided_by")


def items_needing_person(*, user, folder: DropFolder | None = None) -> list[DropItem]:
    """Unmatched and failed items (oldest first) of one folder or all the user's folders."""
    qs = _items().filter(project__in=visible_projects(user), state__in=NEEDS_PERSON_STATES)
    if folder is not None:
        qs = qs.filter(folder=folder)
    return list(qs.order_by("first_seen_at", "id"))


def folder_items(*, folder: DropFolder) -> dict[str, list[DropItem]]:
    """{"waiting": ..., "recent": ...}: items still being written, and the latest decided
    ones (ingested, duplicates, dismissed), newest first."""
    waiting = list(_items().filter(folder=folder, state__in=(ItemState.WAITING, ItemState.INGESTING))
                   .order_by("first_seen_at", "id"))
    recent = list(_items().filter(folder=folder).exclude(state__in=(ItemState.WAITING, ItemState.INGESTING,
                                                                    *NEEDS_PERSON_STATES))
                  .order_by("-updated_at", "-id")[:RECENT_ITEMS])
    return {"waiting": waiting, "recent": recent}


def sample_codes(*, folder: DropFolder, limit: int = 500) -> list[str]:
    """Sample codes of the folder's project (newest first), to suggest when assigning."""
    return list(Sample.objects.filter(batch__project=folder.project).order_by("-prepared_at", "-id")
                .values_list("code", flat=True)[:limit])


def enabled_folder_ids() -> list[int]:
    return list(DropFolder.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))


def folder_for_command(path_or_id: str) -> DropFolder | None:
    """The drop folder with this id or (real) path, for the management command."""
    if path_or_id.isdigit():
        return DropFolder.objects.filter(pk=int(path_or_id)).first()
    return DropFolder.objects.filter(path=os.path.realpath(path_or_id)).first()


def folder_summary(folder: DropFolder) -> dict[str, Any]:
    """Counts by state for a folder fetched without the annotation."""
    rows = DropItem.objects.filter(folder=folder).values("state").annotate(n=Count("id"))
    return {r["state"]: r["n"] for r in rows}


@dataclass
class SettingsChange:
    """One saved edit of a folder's settings: when, by whom, and each setting's old and
    new value as shown on the page."""

    at: datetime
    by: str
    changes: list[tuple[str, str, str]]  # (setting, before, after)


_SHOWN_SETTINGS = ("name", "path", "technique", "instrument", "naming_rule", "upload_as", "processed_path",
                   "settle_s", "enabled")


def folder_settings_changes(*, folder: DropFolder, limit: int = 10) -> list[SettingsChange]:
    """The folder's last `limit` settings edits, newest first, from its audit history
    (three queries: the records, and the users and instruments they name)."""
    records = list(folder.history.select_related("history_user").order_by("-history_date", "-history_id")[:limit + 1])
    user_ids = {r.upload_as_id for r in records} - {None}
    instrument_ids = {r.instrument_id for r in records} - {None}
    users = {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=user_ids)}
    instruments = {i.pk: str(i) for i in Instrument.objects.filter(pk__in=instrument_ids)}
    labels = {name: str(DropFolder._meta.get_field(name).verbose_name) for name in _SHOWN_SETTINGS}

    def shown(name: str, value) -> str:
        if name == "upload_as":
            return users.get(value, "—")
        if name == "instrument":
            return instruments.get(value, "—")
        if name == "enabled":
            return "yes" if value else "no"
        if name == "technique":
            return Technique(value).label if value in Technique.values else str(value)
        return "—" if value in (None, "") else str(value)

    out = []
    for newer, older in zip(records, records[1:]):
        delta = newer.diff_against(older, included_fields=list(_SHOWN_SETTINGS))
        changes = [(labels[c.field], shown(c.field, c.old), shown(c.field, c.new)) for c in delta.changes]
        if changes:
            who = newer.history_user.get_username() if newer.history_user else "the server"
            out.append(SettingsChange(newer.history_date, who, changes))
    return out[:limit]
