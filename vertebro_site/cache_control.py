"""No copy of health data is kept by a browser or a cache between us and the user.

Staff pages, API answers, the patient's page and calendar file and the CSV reports all name
patients, and a shared computer or a caching proxy must not keep them. Rather than trusting each
view to remember, every answer gets `Cache-Control: no-store, private` unless its view set a
policy of its own (such as never_cache, which says as much). Static files never reach here: in
production WhiteNoise answers them before this middleware, and runserver serves them outside
the middleware altogether.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
