"""One configured HistoricalRecords for every audited model."""
from __future__ import annotations

from simple_history.models import HistoricalRecords

from labtrack.core.audit import history_user


def audited(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(get_user=history_user, **kwargs)
