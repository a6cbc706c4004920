from django.conf import settings
from django.utils.module_loading import import_string

from .base import Backend, DeliveryError, OutgoingMessage

__all__ = ["Backend", "DeliveryError", "OutgoingMessage", "backend_for"]

_cache: dict[str, Backend] = {}


def backend_for(channel: str) -> Backend:
    """The backend configured for a channel: NOTIFICATIONS_SMS_BACKEND or ..._EMAIL_BACKEND."""
    path = getattr(settings, f"NOTIFICATIONS_{channel.upper()}_BACKEND")
    if path not in _cache:
        _cache[path] = import_string(path)()
    return _cache[path]
