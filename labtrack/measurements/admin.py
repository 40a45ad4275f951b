from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.core.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline
from labtrack.measurements.models import Instrument, Measurement, RawFile


@admin.register(Instrument)
class InstrumentAdmin(SimpleHistoryAdmin):
    list_display = ("name", "technique", "model", "location")


class RawFileInline(ReadOnlyInline):
    model = RawFile  # uploads go through the upload service (checksums, detection)


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "sample", "technique", "label", "measured_at", "operator")
    list_filter = ("technique",)
    inlines = [RawFileInline]


@admin.register(RawFile)
class RawFileAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("original_name", "measurement", "detected_format", "size_bytes", "sha256", "uploaded_at")
