"""Upload to result in one straight line: a measurement and its raw files are saved, its
default analyses (and a 31P quantification against its reference) are requested in the
same transaction, and their tasks are sent once it commits. The web upload form, the API
and the demo seed all call `measurement_upload`."""
from __future__ import annotations

from labtrack.analyses.derived import quantification_request
from labtrack.analyses.services import runs_request_defaults
from labtrack.measurements.ingest import Upload
from labtrack.measurements.models import Measurement, RawFile
from labtrack.measurements.services import measurement_create

__all__ = ["Upload", "measurement_upload"]


def measurement_upload(*, user, request_analyses: bool = True, **fields) -> Measurement:
    """`measurements.services.measurement_create(**fields)` plus the analyses of the new
    files. Nothing is saved if any file is unreadable or of the wrong technique."""

    def request(measurement: Measurement, raw_files: list[RawFile]) -> None:
        runs_request_defaults(measurement=measurement, raw_files=raw_files, user=user)
        if measurement.reference_measurement_id is not None:
            quantification_request(measurement=measurement, user=user)

    return measurement_create(user=user, on_created=request if request_analyses else None, **fields)
