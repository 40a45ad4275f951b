from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from labtrack.core.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline
from labtrack.measurements.models import BlobCheck, BlobMismatch, Instrument, Measurement, RawFile


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


class BlobMismatchInline(ReadOnlyInline):
    model = BlobMismatch
    fields = ("kind", "location", "batch_codes", "raw_file_count", "affected", "actual_sha256", "first_found_at",
              "notified_at")


@admin.register(BlobCheck)
class BlobCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The periodic raw-file check's passes (written by the beat task, never by hand)."""

    list_display = ("id", "started_at", "status", "blobs_checked", "missing_count", "corrupt_count",
                    "new_mismatch_count", "finished_at")
    list_filter = ("status",)
    inlines = [BlobMismatchInline]


@admin.register(BlobMismatch)
class BlobMismatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("sha256", "kind", "batch_codes", "raw_file_count", "check_pass", "first_found_at", "notified_at")
    list_filter = ("kind",)
    search_fields = ("sha256", "batch_codes")
    list_select_related = ("check_pass",)
