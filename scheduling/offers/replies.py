"""A text back to an offer: YES (or SÍ) takes it, NO turns it down, "YES 2" names one of several.

The inbound SMS service sends a YES or NO here, ahead of its confirm handling, when the number
has an offer open or one that closed before it was answered (a late YES is told politely that
the offer has ended). The answer's text is the reply the webhook sends back.
"""

from datetime import datetime, timedelta

from django.db.models import Q

from ..models import EventSource
from ..offer_models import Offer, OfferSendStatus, OfferStatus
from .accept import offer_accept, offer_decline
from .texts import reply_text, which_text

ACCEPT_WORDS = {"YES", "Y", "SI", "SÍ"}
DECLINE_WORDS = {"NO", "N"}
# A text that may have gone out (a worker that died mid-send may have sent it) can be answered.
SENT = (OfferSendStatus.SENT, OfferSendStatus.UNKNOWN)
RECENT = timedelta(days=2)
REPLY_TEXTS = {
    OfferStatus.ACCEPTED: "offer_accepted",
    OfferStatus.TAKEN: "offer_taken",
    OfferStatus.EXPIRED: "offer_expired",
    OfferStatus.DECLINED: "offer_declined",
}


def reply_words(body: str) -> tuple[str, int | None]:
    """("YES", 2) for "yes 2", "Yes, 2" or "YES2"; the number is None when none is given."""
    words = body.strip().upper().replace(",", " ").replace(".", " ").split()
    if not words:
        return "", None
    word, rest = words[0].strip("!?;:"), words[1:]
    for known in (*ACCEPT_WORDS, *DECLINE_WORDS):
        if word.startswith(known) and word[len(known):].isdigit():
            return known, int(word[len(known):])
    if rest and rest[0].strip("!?;:").isdigit():
        return word, int(rest[0].strip("!?;:"))
    return word, None


def _unanswered(phone: str, now: datetime):
    """The number's offers texted in the last days that are open, or that closed (expired,
    taken) before the patient answered."""
    return (
        Offer.objects.filter(
            phone=phone, send_status__in=SENT, created_at__gte=now - RECENT,
        )
        .filter(Q(status=OfferStatus.OFFERED) | Q(responded_at__isnull=True))
        .select_related("patient", "freed_time__site")
    )


def offer_reply_expected(*, phone: str, body: str, now: datetime) -> bool:
    word, _ = reply_words(body)
    return (
        bool(phone)
        and word in ACCEPT_WORDS | DECLINE_WORDS
        and _unanswered(phone, now).exists()
    )


def offer_reply(*, phone: str, body: str, now: datetime) -> str:
    """Act on a YES or NO to the number's offers; the text to send back."""
    word, number = reply_words(body)
    offers = list(_unanswered(phone, now).order_by("-created_at", "-id"))
    open_offers = sorted(
        (offer for offer in offers if offer.status == OfferStatus.OFFERED),
        key=lambda offer: offer.reply_number,
    )
    if number is not None:
        chosen = [o for o in open_offers if o.reply_number == number] or [
            o for o in offers if o.reply_number == number
        ][:1]
        if not chosen:
            return which_text(open_offers) if len(open_offers) > 1 else _late(offers[0])
    elif len(open_offers) > 1:
        if word in DECLINE_WORDS:
            chosen = open_offers  # NO to all of them
        else:
            return which_text(open_offers)
    else:
        chosen = open_offers or offers[:1]
    answered = [
        offer_accept(offer_id=offer.pk, source=EventSource.PATIENT_SMS, now=now)
        if word in ACCEPT_WORDS
        else offer_decline(offer_id=offer.pk, now=now)
        for offer in chosen
    ]
    return reply_text(REPLY_TEXTS[answered[0].status], answered[0])


def _late(offer: Offer) -> str:
    return reply_text("offer_expired", offer)
