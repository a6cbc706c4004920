"""A request body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 before anything reads it: under
/api/ as `body_too_large` in the API's error format, elsewhere as a short page.

Django itself refuses such a body only once a view reads it (RequestDataTooBig): an HTML 400 page
even to an API client (the debug page with DEBUG on), and an ERROR line with a traceback. The size
checked is the Content-Length header, as Django checks it: without one, Django reads no body at
all. No page or operation takes a file, so no body needs more."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from api.errors import error_body

from .logging_setup import redact

log = logging.getLogger("vertebro.request")


class BodySizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = _content_length(request)
        if limit is None or size <= limit:
            return self.get_response(request)
        # A client's mistake, not ours: WARNING, with the sizes and the path only.
        log.warning(
            "Request body too large: %s bytes, over the limit of %s: %s %s",
            size, limit, request.method, redact(request.path),
            extra={"body_bytes": size, "limit_bytes": limit},
        )
        megabytes = f"{limit / 1024 / 1024:.1f}".removesuffix(".0")
        if request.path.startswith("/api/"):
            detail = f"The request body is larger than the server takes ({megabytes} MB)."
            return JsonResponse(error_body("body_too_large", detail), status=413)
        return render(request, "body_too_large.html", {"megabytes": megabytes}, status=413)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
