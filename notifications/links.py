"""The patient link: a signed, expiring URL to the appointment page, with no login.

The token carries only the case id, an expiry and, once the case's links have been revoked, the
case's link nonce, signed with the SECRET_KEY: it cannot be guessed or altered, and it says nothing
about the patient. It is short, to fit in an SMS. A key replaced by a new one stays in
SECRET_KEY_FALLBACKS for a while, and Django's Signer still accepts what it signed, so rotating
the key does not break the links already sent. Revoking a case's links raises its nonce: every
link signed with the old nonce stops opening."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from scheduling import pain

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
    # Long enough for the pain asks after the procedure too (day 30 by default).
    followups = pain.followup_days(case.site.pain_followup_days)
    valid = max(VALID_AFTER_PROCEDURE, timedelta(days=pain.link_days_after_procedure(followups)))
    expires = int((day_end + valid).astimezone(UTC).timestamp())
    value = f"{case.pk}.{_base36(expires)}"
    # Nonce 0 (never revoked) is left out: the token stays short, and links sent before nonces
    # existed keep opening until their case's links are revoked.
    if case.link_nonce:
        value += f".{_base36(case.link_nonce)}"
    return signing.Signer(salt=SALT).sign(value)


def patient_link(case) -> str:
    path = reverse("patient-page", kwargs={"token": patient_token(case)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


NOT_VALID = _("This link is not valid.")


class LinkError(Exception):
    """A link that was altered, is not ours, has expired or was revoked. The message is shown to
    the patient, in their language; `case_id` is set when the link is genuine (expired or
    revoked), so that the page can speak the patient's language."""

    def __init__(self, message, *, case_id: int | None = None) -> None:
        super().__init__(message)
        self.case_id = case_id


@dataclass(frozen=True)
class LinkClaim:
    """What a genuine, unexpired token says: the case, and the nonce it was signed with."""

    case_id: int
    nonce: int

    def check_current(self, case) -> None:
        if case.link_nonce != self.nonce:
            raise LinkError(_("This link is no longer valid."), case_id=case.pk)


def link_claim(token: str, *, now: datetime) -> LinkClaim:
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        case_id, expires, *nonce = value.split(".")
        if len(nonce) > 1:
            raise ValueError(value)
        claim = LinkClaim(case_id=int(case_id), nonce=int(nonce[0], 36) if nonce else 0)
        expires = int(expires, 36)
    except (signing.BadSignature, ValueError):
        raise LinkError(NOT_VALID) from None
    if now.timestamp() > expires:
        raise LinkError(_("This link has expired."), case_id=claim.case_id)
    return claim
