from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.measurements.models import Instrument, Measurement, RawFile


@admin.register(Instrument)
class InstrumentAdmin(SimpleHistoryAdmin):
    list_display = ("name", "technique", "model", "location")


class RawFileInline(admin.TabularInline):
    model = RawFile
    extra = 0
    can_delete = False
    readonly_fields = ("sha256", "original_name", "size_bytes", "detected_format", "data_kind", "uploaded_by", "uploaded_at")

    def has_add_permission(self, request, obj=None):
        return False  # uploads go through the upload service (checksums, detection)


@admin.register(Measurement)
class MeasurementAdmin(SimpleHistoryAdmin):
    list_display = ("id", "sample", "technique", "label", "measured_at", "operator")
    list_filter = ("technique",)
    inlines = [RawFileInline]


@admin.register(RawFile)
class RawFileAdmin(SimpleHistoryAdmin):
    list_display = ("original_name", "measurement", "detected_format", "size_bytes", "sha256", "uploaded_at")
    readonly_fields = [f.name for f in RawFile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
