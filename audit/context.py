"""The request being served, for audit rows written deep inside a service (who, from where)."""

from contextvars import ContextVar

from django.http import HttpRequest

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _request.get()


def request_set(request: HttpRequest | None):
    """Make `request` the current one; give the returned token to request_reset afterwards."""
    return _request.set(request)


def request_reset(token) -> None:
    _request.reset(token)
