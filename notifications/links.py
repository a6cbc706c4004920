"""The patient link: a signed, expiring URL to the appointment page, with no login.

The token carries only the case id and an expiry, signed with the SECRET_KEY: it cannot be
guessed or altered, and it says nothing about the patient. It is short, to fit in an SMS."""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "vertebro.patient-link"
VALID_AFTER_PROCEDURE = timedelta(days=14)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def patient_token(case) -> str:
    day_end = datetime.combine(case.day, time(23, 59), tzinfo=case.site.zone)
    expires = int((day_end + VALID_AFTER_PROCEDURE).astimezone(UTC).timestamp())
    return signing.Signer(salt=SALT).sign(f"{case.pk}.{_base36(expires)}")


def patient_link(case) -> str:
    path = reverse("patient-page", kwargs={"token": patient_token(case)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


class LinkError(Exception):
    """A link that was altered, is not ours, or has expired."""


def case_id_from_token(token: str, *, now: datetime) -> int:
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        case_id, expires = value.split(".")
        case_id, expires = int(case_id), int(expires, 36)
    except (signing.BadSignature, ValueError):
        raise LinkError("This link is not valid.") from None
    if now.timestamp() > expires:
        raise LinkError("This link has expired.")
    return case_id
