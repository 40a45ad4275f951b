"""Drop folders are edited here (enable/disable, naming rule, settle time), checked as
`services.dropfolder_create` checks them; drop items are evidence and read-only."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from labtrack.core.admin_readonly import ReadOnlyAdminMixin
from labtrack.dropfolders.models import DropFolder, DropItem
from labtrack.dropfolders.naming import check_naming_rule
from labtrack.dropfolders.services import check_folder_path


class DropFolderForm(forms.ModelForm):
    class Meta:
        model = DropFolder
        exclude = ("scan_claimed_until", "last_scanned_at", "last_scan_error")

    def _checked(self, check, field: str):
        try:
            return check(self.cleaned_data[field])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[field]) from None

    def clean_naming_rule(self):
        self._checked(check_naming_rule, "naming_rule")
        return self.cleaned_data["naming_rule"]

    def clean_path(self):
        return self._checked(check_folder_path, "path")


@admin.register(DropFolder)
class DropFolderAdmin(SimpleHistoryAdmin):
    form = DropFolderForm
    list_display = ("name", "path", "project", "technique", "enabled", "last_scanned_at")
    list_filter = ("enabled", "technique", "project")
    readonly_fields = ("last_scanned_at", "last_scan_error")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its items refer to it; disable it instead


@admin.register(DropItem)
class DropItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "folder", "state", "sample_code", "size_bytes", "first_seen_at")
    list_filter = ("state", "folder")
    search_fields = ("name", "sha256", "sample_code")
