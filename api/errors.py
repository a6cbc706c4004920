"""Every API error is `{"code", "detail", "errors"}` with a stable code from ERROR_CODES.

The codes of a request's shape (its body, its login, its address) are listed here; each app adds
the codes of its own refusals when it is ready (scheduling/errors.py), so the one table holds
every code an answer may carry, as docs/api-errors.md lists them. The handlers that answer in this
format are in api/handlers.py; this module imports nothing of DRF's, so an app's errors module
can use it while the apps are still loading."""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

ERROR_CODES: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "The request body is not valid JSON."),
    "invalid_json": (400, "The JSON body nests arrays or objects more than 32 levels deep."),
    "invalid": (400, "One or more fields are missing, of the wrong type or out of range."),
    "invalid_credentials": (400, "The username or password is wrong."),
    "not_authenticated": (401, "No valid login or token was sent."),
    "permission_denied": (403, "The user's role does not allow this action."),
    "not_found": (404, "No such object (or not one this user may see)."),
    "method_not_allowed": (405, "The HTTP method is not allowed here."),
    "body_too_large": (
        413, "The request body is larger than the server takes (2.5 MB unless changed)."
    ),
    "unsupported_media_type": (415, "Send JSON with Content-Type: application/json."),
    "throttled": (429, "Too many requests."),
}


def error_codes_add(codes: Mapping[str, tuple[int, str]]) -> None:
    """An app's own codes, added from its AppConfig.ready(). A code is one thing everywhere: the
    same code listed again with another status or meaning is refused."""
    for code, entry in codes.items():
        if ERROR_CODES.get(code, entry) != entry:
            raise ImproperlyConfigured(f"Error code {code!r} is listed twice, differently")
    ERROR_CODES.update(codes)


class ApiError(Exception):
    """A refusal that the person who caused it can act on, with its code from ERROR_CODES; the
    API answers it in the error format, with the code's HTTP status."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"Unlisted error code {code!r}")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = ERROR_CODES[code][0]
        self.errors = errors or ({field: [detail]} if field else {})


def error_body(code: str, detail: str, errors: dict | None = None) -> dict:
    return {"code": code, "detail": detail, "errors": errors or {}}
