from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.analyses.models import AnalysisRun, Quantity


class QuantityInline(admin.TabularInline):
    model = Quantity
    extra = 0
    can_delete = False
    readonly_fields = ("name", "value", "value_json", "stderr", "unit", "component_label", "assignment")


@admin.register(AnalysisRun)
class AnalysisRunAdmin(SimpleHistoryAdmin):
    list_display = ("id", "routine", "batch", "status", "stage", "attempts", "review_state", "queued_at")
    list_filter = ("status", "review_state", "routine")
    search_fields = ("batch__code", "routine")
    exclude = ("figure_png",)
    readonly_fields = ("result", "curves", "figure_svg", "result_sha256", "reviewed_result_sha256")
    inlines = [QuantityInline]
