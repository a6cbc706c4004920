"""Rate limits on the costly and the unauthenticated doors: the day planner, the API token
endpoint, patient links and the family board.

Each limit is one of settings.RATE_LIMITS ("10/min"; empty turns it off), counted in the default
cache, which every web server shares in production (CACHE_URL, Redis). DRF views take a limit as
a throttle class and answer 429 `throttled` in the API's error format with Retry-After; plain
Django views take it through `rate_limited`, which answers a short 429 page with Retry-After.
A limit counts per logged-in user (`per_user`) or per client address, taken behind our proxies
as everywhere else (limits.client.client_ip)."""

import math
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

from .client import client_ip


class RateLimit(SimpleRateThrottle):
    scope: str
    # The page a plain view answers with when the limit is reached.
    page = "throttled.html"
    per_user = False

    def get_rate(self) -> str | None:
        # Read at each request rather than once at import, so the settings decide.
        return settings.RATE_LIMITS.get(self.scope) or None

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        if self.per_user and user is not None and user.is_authenticated:
            who = f"user:{user.pk}"
        else:
            who = f"address:{self.get_ident(request)}"
        return f"vertebro:rate:{self.scope}:{who}"


class PlanRateLimit(RateLimit):
    """The planner runs a solver for up to 20 seconds a request: per manager."""

    scope = "plan"
    per_user = True


class TokenRateLimit(RateLimit):
    scope = "token"


class PatientLinkRateLimit(RateLimit):
    scope = "patient_link"
    # Patients see their own layout, and who to call.
    page = "notifications/patient/throttled.html"


class FamilyBoardRateLimit(RateLimit):
    scope = "family_board"


def rate_limited(limit: type[RateLimit], *, methods: Iterable[str] | None = None) -> Callable:
    """The same limit on a plain Django view (only on `methods` when given)."""
    counted = {method.upper() for method in methods} if methods else None

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if counted is None or request.method in counted:
                throttle = limit()
                if not throttle.allow_request(request, None):
                    return throttled_page(request, throttle.wait(), template=limit.page)
            return view(request, *args, **kwargs)

        return limited

    return decorator


def throttled_page(
    request: HttpRequest, wait: float | None, *, template: str = RateLimit.page
) -> HttpResponse:
    seconds = max(1, math.ceil(wait or 1))
    response = render(request, template, {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
