"""Refusals as FHIR OperationOutcomes, each carrying the project's stable error code (api/errors.py)
in issue.details.coding, and DRF's exception handler for the interface's views."""

import re

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.errors import ERROR_CODES, ApiError
from api.handlers import DRF_CODES

from . import conf

# The HTTP status of a refusal as an OperationOutcome's issue.code (http://hl7.org/fhir/issue-type).
ISSUE_TYPES = {
    400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
    406: "not-supported", 409: "conflict", 412: "conflict", 413: "too-costly",
    415: "not-supported", 429: "throttled",
}
NOT_SUPPORTED = {"fhir_unknown_resource_type", "fhir_unknown_parameter"}
# A path in a resource sent (`ServiceRequest.subject`), as a service's refusal names it when the
# interface tells it where a value came from.
ELEMENT_PATH = re.compile(r"[A-Z][A-Za-z]{0,63}(\.[A-Za-z][A-Za-z0-9]{0,63})*")


def operation_outcome(code: str, detail: str, expression: list[str] | None = None) -> dict:
    status, meaning = ERROR_CODES[code]
    issue_type = "not-supported" if code in NOT_SUPPORTED else ISSUE_TYPES.get(status, "processing")
    issue = {
        "severity": "error",
        "code": issue_type,
        "details": {
            "coding": [{"system": conf.error_system(), "code": code, "display": meaning}],
            "text": meaning,
        },
        "diagnostics": detail,
    }
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def exception_handler(exc, context):
    """DRF's handler, answering in an OperationOutcome with the API's code for the refusal."""
    if isinstance(exc, ApiError):
        # The interface's own refusals name a FHIRPath; a service's refusal does when the
        # interface named the element for it (`ServiceRequest.subject`).
        expression = list(exc.errors) if exc.code.startswith("fhir_") else [
            field for field in exc.errors if ELEMENT_PATH.fullmatch(field)
        ]
        return Response(operation_outcome(exc.code, exc.detail, expression), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = DRF_CODES.get(getattr(exc, "default_code", ""), "invalid")
    if ERROR_CODES[code][0] != response.status_code:
        code = "invalid"
    response.data = operation_outcome(code, str(getattr(exc, "detail", ERROR_CODES[code][1])))
    return response
