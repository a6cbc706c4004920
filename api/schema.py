"""The API's errors in the OpenAPI schema: the Error component, the answers operations share,
and the post-processing hook that documents the answers every operation of a kind can give."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable error code; see docs/api-errors.md.")
    detail = serializers.CharField(help_text="A message for the person using the client.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field, nested fields joined with dots (patient.phone).",
    )


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; see `code`."),
    401: OpenApiResponse(ErrorSerializer, description="Not logged in."),
    403: OpenApiResponse(ErrorSerializer, description="Role not allowed."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such case.")}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="Conflict; see `code`.")}
THROTTLED = {
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many requests (`throttled`); see the Retry-After header.",
    )
}


def _error_response(description: str) -> dict:
    return {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": description,
    }


def schema_document_shared_errors(result, generator, request, public):
    """drf-spectacular post-processing: the answers every operation of a kind can give whatever
    its view documents. With a path parameter, 404 when the address does not fit it (a case id
    that is not a number, api.handlers.not_found); with a body, 415 when it is not JSON and 413 when
    it is over the size limit (vertebro_site/body_size.py)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation["responses"]
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                responses.setdefault("404", _error_response("No such object (`not_found`)."))
            if "requestBody" in operation:
                responses.setdefault(
                    "415", _error_response("The body is not JSON (`unsupported_media_type`).")
                )
                responses.setdefault(
                    "413", _error_response("The body is over the size limit (`body_too_large`).")
                )
    return result
