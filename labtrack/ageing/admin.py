from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from labtrack.ageing.models import PullPoint, ReminderSent, Study, StudyQuantity, StudyTemplate
from labtrack.ageing.services import clean_pull_points, clean_quantities
from labtrack.core.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline


class StudyTemplateForm(forms.ModelForm):
    """Templates are edited here (managers): the JSON is checked as study_create checks it."""

    class Meta:
        model = StudyTemplate
        fields = "__all__"

    def clean_pull_points(self):
        try:
            return clean_pull_points(self.cleaned_data["pull_points"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["pull_points"]) from None

    def clean_quantities(self):
        try:
            clean_quantities(self.cleaned_data["quantities"] or [])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["quantities"]) from None
        return self.cleaned_data["quantities"]


@admin.register(StudyTemplate)
class StudyTemplateAdmin(SimpleHistoryAdmin):
    form = StudyTemplateForm
    list_display = ("name", "atmosphere", "temperature_c", "relative_humidity_percent", "light")


class PullPointInline(ReadOnlyInline):
    model = PullPoint


class StudyQuantityInline(ReadOnlyInline):
    model = StudyQuantity


@admin.register(Study)
class StudyAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Read-only: studies are created on the studies page (services check the project)."""

    list_display = ("name", "project", "atmosphere", "created_at")
    inlines = [PullPointInline, StudyQuantityInline]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pull_point", "sent_at", "recipients")
