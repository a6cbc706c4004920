"""What an offer and the answers to a patient's reply say, from the per-language templates
templates/notifications/sms/<lang>/offer*.txt. Like every SMS: the clinic, the day and the
arrival time, never the procedure."""

from datetime import datetime

from django.utils import formats, translation

from notifications.rendering import DAY_FORMAT, SMS_MAX_CHARS, language_code, sms_text

from ..offer_models import Offer
from .links import offer_link


def offer_language(offer: Offer) -> str:
    return language_code(offer.patient.language)


def local(instant: datetime, fmt: str, *, offer: Offer, language: str = "") -> str:
    language = language or offer_language(offer)
    if language == "es" and fmt == DAY_FORMAT:
        fmt = r"l j \d\e F"  # "martes 3 de marzo"
    with translation.override(language):
        return formats.date_format(instant.astimezone(offer.freed_time.site.zone), fmt)


def offer_context(offer: Offer) -> dict:
    site = offer.freed_time.site
    return {
        "first_name": offer.patient.first_name,
        "clinic": site.name,
        "clinic_phone": site.phone,
        "date": local(offer.arrival_at, DAY_FORMAT, offer=offer),
        "arrival_time": local(offer.arrival_at, "H:i", offer=offer),
        "valid_until": local(offer.expires_at, "H:i", offer=offer),
        "number": offer.reply_number if offer.reply_number > 1 else "",
        "link": offer_link(offer),
    }


def offer_text(offer: Offer) -> str:
    language = offer_language(offer)
    text = (
        sms_text("offer", language, offer_context(offer))
        + " "
        + sms_text("_stop", language, {})
    )
    if len(text) > SMS_MAX_CHARS:
        raise ValueError(f"offer SMS of {len(text)} characters is over two segments")
    return text


def reply_text(name: str, offer: Offer) -> str:
    """offer_accepted, offer_taken, offer_expired or offer_declined, about `offer`."""
    return sms_text(name, offer_language(offer), offer_context(offer))


def which_text(offers: list[Offer]) -> str:
    """Several offers are open: which one is the YES for?"""
    first = offers[0]
    language = offer_language(first)
    choices = [
        {
            "number": offer.reply_number,
            "date": local(offer.arrival_at, DAY_FORMAT, offer=offer, language=language),
            "arrival_time": local(offer.arrival_at, "H:i", offer=offer, language=language),
        }
        for offer in offers
    ]
    return sms_text(
        "offer_which", language,
        {"first_name": first.patient.first_name, "choices": choices},
    )
