"""Dates and times the API accepts: ISO 8601 within the years a lab record can have, and
stored in UTC. Python parses offsets up to ±24 h and years 1 … 9999, but PostgreSQL
refuses offsets beyond ±15:59 and a year-1 date moved to UTC can fall out of range:
such input would have been a 500, and is a 400 naming the field instead."""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.filters import IsoDateTimeFilter
from rest_framework import serializers

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
OUT_OF_RANGE = f"Give a date and time between {EARLIEST_YEAR} and {LATEST_YEAR}, e.g. 2026-05-04T10:00Z."
BAD_OFFSET = "Give a time zone offset between -14:00 and +14:00 (or Z for UTC)."


def lab_datetime(value: datetime) -> str | datetime:
    """`value` in UTC, or the message saying why it cannot be a lab date."""
    offset = value.utcoffset()
    if offset is not None and abs(offset.total_seconds()) > 14 * 3600:
        return BAD_OFFSET
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return OUT_OF_RANGE
    return value.astimezone(dt_timezone.utc) if offset is not None else value


class LabDateTimeField(serializers.DateTimeField):
    # DRF moves an aware value into the server's zone before we see it; a year-1 date
    # overflows there and gets DRF's "overflow" message, which should read as ours.
    default_error_messages = {**serializers.DateTimeField.default_error_messages, "overflow": OUT_OF_RANGE}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        checked = lab_datetime(parsed)
        if isinstance(checked, str):
            raise serializers.ValidationError(checked)
        return checked


class _LabIsoDateTimeFormField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        checked = lab_datetime(parsed)
        if isinstance(checked, str):
            raise forms.ValidationError(checked)
        return checked


class LabDateTimeFilter(IsoDateTimeFilter):
    field_class = _LabIsoDateTimeFormField
