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


def actor_from_request(sender, instance, **kwargs) -> None:
    """pre_save of auditlog's LogEntry: the user of the request being served, once known.

    DRF sets the token's user on the Django request too, so request.user is right by the time a
    view writes."""
    request = current_request()
    if request is None or instance.actor_id is not None:
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        instance.actor = user
        instance.actor_email = user.email or None
