"""The answer to a login that django-axes has locked out, on the login page and on the API's token
endpoint alike (settings.AXES_LOCKOUT_CALLABLE), and the receiver that lets the token endpoint
give it."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .errors import error_body


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """Axes' answer to a locked-out login: the API's error format under /api/, a page elsewhere."""
    minutes = int(_cool_off().total_seconds() // 60)
    detail = (
        f"Too many failed logins. Try again in {minutes} minutes, "
        "or ask an administrator to unlock the account."
    )
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("throttled", detail), status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(int(_cool_off().total_seconds()))
    return response


def lockout_flag_to_django_request(sender, request=None, **kwargs) -> None:
    """user_login_failed, after django-axes' own receiver (ApiConfig.ready, "api" after "axes" in
    INSTALLED_APPS).

    Axes marks a locked-out attempt on the request that authenticate() was given. For the API's
    token endpoint that is DRF's Request wrapper, which AxesMiddleware never sees, so the caller
    would get a plain "wrong credentials" 400; copied to the Django request, it gets the 429."""
    inner = getattr(request, "_request", None)
    if isinstance(inner, HttpRequest) and getattr(request, "axes_locked_out", False):
        inner.axes_locked_out = True
        inner.axes_credentials = getattr(request, "axes_credentials", None)


def _cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME
