from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.analyses.models import AnalysisRun, Quantity
from labtrack.core.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline


class QuantityInline(ReadOnlyInline):
    model = Quantity
    fields = ("component_label", "assignment", "name", "value", "value_json", "stderr", "unit")


@admin.register(AnalysisRun)
class AnalysisRunAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Read-only: reviews happen only through labtrack.analyses.review."""

    list_display = ("id", "routine", "batch", "status", "review_state", "is_current", "queued_at")
    list_filter = ("status", "review_state", "is_current", "routine")
    search_fields = ("batch__code", "routine")
    exclude = ("figure_png", "figure_svg", "curves")
    inlines = [QuantityInline]


@admin.register(Quantity)
class QuantityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run", "component_label", "assignment", "name", "value", "stderr", "unit")
    list_filter = ("name",)
    list_select_related = ("run",)
