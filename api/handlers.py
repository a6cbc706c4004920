"""The answers in the API's error format (api/errors.py): DRF's exception handler
(settings.REST_FRAMEWORK), and the site's 404 and 400 under /api/ (vertebro_site/urls.py)."""

from django.http import Http404, JsonResponse
from django.views.defaults import bad_request as page_bad_request
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ERROR_CODES, ApiError, error_body

# DRF's own exceptions, by the code they carry, mapped to ours.
DRF_CODES = {
    "parse_error": "malformed_json",
    "invalid_json": "invalid_json",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "not_authenticated",
    "permission_denied": "permission_denied",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "throttled",
    "not_acceptable": "invalid",
}


def flatten(detail, prefix: str = "") -> dict[str, list]:
    """{"patient": {"phone": ["..."]}} -> {"patient.phone": ["..."]}; lists of messages kept."""
    if isinstance(detail, dict):
        flat: dict[str, list] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" and not prefix else f"{prefix}{key}"
            for inner_key, messages in flatten(value, f"{name}." if name else "").items():
                flat.setdefault(inner_key, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            for key, messages in flatten(item, f"{prefix}{index}.").items():
                flat.setdefault(key, []).extend(messages)
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix.rstrip(".") or "non_field_errors": messages}


def _validation_code(errors: dict[str, list]) -> str:
    codes = {getattr(message, "code", None) for messages in errors.values() for message in messages}
    if len(codes) == 1:
        (code,) = codes
        if code in ERROR_CODES and ERROR_CODES[code][0] == 400:
            return code
    if codes == {"authorization"}:
        return "invalid_credentials"
    return "invalid"


def exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.detail, exc.errors), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        code = _validation_code(errors)
        detail = ERROR_CODES[code][1]
        if code != "invalid" and len(errors) == 1:
            detail = str(next(iter(errors.values()))[0])
        fields = {k: [str(m) for m in v] for k, v in errors.items()}
        response.data = error_body(code, detail, fields)
        return response
    code = DRF_CODES.get(getattr(exc, "default_code", ""), "invalid")
    response.data = error_body(code, str(exc.detail) if hasattr(exc, "detail") else str(exc))
    return response


def not_found(request, exception=None):
    """The site's 404 (handler404). Under /api/ an address that names no operation, such as a
    case id that is not a number, answers in the API's error format rather than with a page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", ERROR_CODES["not_found"][1]), status=404)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """The site's 400 (handler400), for a request Django cannot read at all, such as one with
    more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: under /api/ in the error format."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("invalid", "The request could not be read (too many parameters, for one)."),
            status=400,
        )
    return page_bad_request(request, exception)

