"""One log line per request: request id, method, path (no query string), status, duration and the
user's id. Never the user's name, the query string or the body."""

import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from .logging_setup import redact, request_id_var

log = logging.getLogger("vertebro.request")

# An id set by the proxy in front (nginx: proxy_set_header X-Request-ID $request_id) is kept, so
# the proxy's line and ours can be matched; anything else a client sends is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        try:
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
        except Exception:  # noqa: BLE001 - the session store is down: the line still goes out
            user_id = None
        path = redact(request.path)
        # Not ERROR: Django logs the error itself, and an ERROR line would be a second Sentry event.
        level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level, "%s %s %s %sms user=%s", request.method, path, status, duration_ms, user_id,
            extra={"method": request.method, "path": path, "status": status,
                   "duration_ms": duration_ms, "user_id": user_id},
        )
