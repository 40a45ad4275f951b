"""The shared shape of an edit: lock the row, apply fields, validate, record why, save."""
from __future__ import annotations

from typing import Any

from django.db import models, transaction


def locked_update(model: type[models.Model], pk: int, fields: dict[str, Any], reason: str = "") -> models.Model:
    """Apply `fields` to the row under a lock (no lost updates from concurrent edits) and
    save it with `reason` as the audit history's change reason."""
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(validate_constraints=False)
        locked._change_reason = reason.strip()
        locked.save()
    return locked
