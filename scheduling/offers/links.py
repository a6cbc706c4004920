"""The offer's link: a signed token that names only the offer, short enough for an SMS.

It needs no expiry of its own: the offer's status says what the page shows (open, taken, ended).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "vertebro.offer-link"


def offer_token(offer) -> str:
    return signing.Signer(salt=SALT).sign(str(offer.pk))


def offer_link(offer) -> str:
    path = reverse("offer-page", kwargs={"token": offer_token(offer)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def offer_id_from(token: str) -> int | None:
    """The offer a genuine token names; None for anything altered or not ours."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        return int(value)
    except (signing.BadSignature, ValueError):
        return None
