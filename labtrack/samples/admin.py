from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.core.admin_readonly import ReadOnlyAdminMixin
from labtrack.samples.models import Batch, Membership, Project, Sample, SynthesisProtocol


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    list_display = ("name", "created_at")
    inlines = [MembershipInline]


@admin.register(SynthesisProtocol)
class SynthesisProtocolAdmin(SimpleHistoryAdmin):
    list_display = ("name", "version", "created_at")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Read-only: edits after review need a reason, which only the pages ask for."""

    list_display = ("code", "project", "synthesised_at", "opa_concentration_molar", "reaction_duration_s", "status")
    list_filter = ("project", "status", "protocol")
    search_fields = ("code", "notes")


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "batch", "form", "prepared_at", "ageing_started_at", "parent")
    list_filter = ("form", "atmosphere")
    search_fields = ("code", "batch__code")
