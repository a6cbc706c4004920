"""The offer's link: the offer's id and a MAC of it, short enough to leave room in a two-segment
SMS for the clinic's name and the day.

The MAC is HMAC-SHA256 under the SECRET_KEY cut to 96 bits: unguessable for a link that is rate
limited and open two hours. A key replaced by a new one stays in SECRET_KEY_FALLBACKS, and links
signed with it keep opening. No expiry of its own: the offer's status says what the page shows
(open, taken, ended).
"""

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "vertebro.offer-link"
MAC_CHARS = 16  # 96 bits, base64


def _mac(value: str, secret: str) -> str:
    digest = salted_hmac(SALT, value, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def offer_token(offer) -> str:
    value = str(offer.pk)
    return f"{value}-{_mac(value, settings.SECRET_KEY)}"


def offer_link(offer) -> str:
    path = reverse("offer-page", kwargs={"token": offer_token(offer)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def offer_id_from(token: str) -> int | None:
    """The offer a genuine token names; None for anything altered or not ours."""
    value, _, mac = token.partition("-")
    if not value.isdigit() or len(value) > 12:
        return None
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if constant_time_compare(mac, _mac(value, secret)):
            return int(value)
    return None
