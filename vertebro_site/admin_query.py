"""The admin's lists hand the filters and search of their query string to PostgreSQL as they are,
and PostgreSQL refuses text holding a NUL byte: a filter such as `?status__exact=%00`, or a
search in the admin's autocomplete, was a 500. Nobody types a NUL byte, so an admin address
holding one answers 400 before the admin reads it."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.defaults import bad_request


class AdminQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(reverse("admin:index")) and _holds_nul(request):
            return bad_request(request, None)
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )
