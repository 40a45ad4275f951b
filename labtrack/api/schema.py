"""OpenAPI generation (drf-spectacular): every operation documents the error bodies it
can answer, in the one shape of labtrack.api.errors, so a client (and Schemathesis) can
rely on them."""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from labtrack.api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field or query parameter with its messages.",
    "401": "Not logged in, or the API token is unknown, revoked or expired.",
    "403": "Your role in the project does not allow this, or the token is read-only.",
    "404": "No such object in your projects (objects of other projects are never revealed).",
    "409": "The object changed meanwhile (e.g. the run was already reviewed or superseded).",
    "413": "The upload is larger than LABTRACK_MAX_UPLOAD_BYTES.",
    "429": "Too many requests: wait the seconds given in Retry-After.",
}
READ_ERRORS = ("400", "401", "403", "404", "429")
WRITE_ERRORS = READ_ERRORS + ("409",)


class LabTrackAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = READ_ERRORS if self.method in ("GET", "HEAD", "OPTIONS") else WRITE_ERRORS
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code, direction=direction)
        return responses


def error_response(code: int) -> OpenApiResponse:
    """For extend_schema(responses={413: error_response(413)}) on operations with extra errors."""
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[str(code)])
