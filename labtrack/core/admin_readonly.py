"""The admin shows evidence; it never changes it. Runs, quantities, raw files, batches,
samples, measurements and every history record are read-only there for every account,
superusers included: changes go through the services, which enforce the review rules,
reasons and audit trail."""
from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdminMixin:
    """No add, change or delete, whoever asks; the change form renders every field
    read-only (Django's view permission)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}  # no "delete selected"


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
