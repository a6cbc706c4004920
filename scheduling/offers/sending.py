"""Texting offers: claim, send, record, with the reminders' discipline (notifications.dispatch).

An offer moves planned -> sending (claimed, committed) -> sent; just before the provider is
called the row records `provider_called_at`. A worker that dies after that leaves a row the
sweeper marks `unknown` (it may have gone out: never sent twice); one that dies before it leaves
a row put back to `planned`. An offer that cannot be texted (the number texted STOP, a failure
the provider calls permanent) is closed at once, so its wave does not wait on it.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.backends import DeliveryError, OutgoingMessage, backend_for
from notifications.models import SmsOptOut

from ..offer_models import Offer, OfferSendStatus, OfferStatus
from .texts import offer_text

log = logging.getLogger(__name__)

BATCH = 20
MAX_ATTEMPTS = 3
STALE_SENDING = timedelta(minutes=5)


def offers_claim(*, now: datetime, limit: int = BATCH) -> list[int]:
    with transaction.atomic():
        ids = list(
            Offer.objects.select_for_update(skip_locked=True)
            .filter(send_status=OfferSendStatus.PLANNED)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Offer.objects.filter(id__in=ids).update(
            send_status=OfferSendStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def offers_dispatch(*, now: datetime | None = None, limit: int = BATCH) -> int:
    ids = offers_claim(now=now or timezone.now(), limit=limit)
    for offer_id in ids:
        # Ids and outcomes only: never the number or the text.
        log.info("offer %s %s", offer_id, offer_send(offer_id))
    return len(ids)


def offer_send(offer_id: int) -> str:
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("patient", "freed_time__site")
            .get(pk=offer_id)
        )
        if offer.send_status != OfferSendStatus.SENDING or offer.provider_called_at:
            return offer.send_status
        now = timezone.now()
        if offer.status != OfferStatus.OFFERED or now >= offer.expires_at:
            return _finish(offer, OfferSendStatus.WITHDRAWN, "The offer closed before it went.")
        if SmsOptOut.objects.filter(phone=offer.phone).exists():
            _close(offer, now, "Not texted: the number texted STOP.")
            return _finish(offer, OfferSendStatus.WITHDRAWN, "The recipient texted STOP.")
        try:
            message = OutgoingMessage(channel="sms", to=offer.phone, text=offer_text(offer))
        except Exception as exc:  # a broken or too long text must not stop the batch
            log.warning("offer %s: render failed: %s", offer_id, type(exc).__name__)
            _close(offer, now, "The text could not be made.")
            return _finish(offer, OfferSendStatus.FAILED, f"render failed: {exc}")
        offer.provider_called_at = now
        offer.save(update_fields=["provider_called_at"])
    try:
        provider_id = backend_for("sms").send(message)
    except DeliveryError as exc:
        with transaction.atomic():
            offer = Offer.objects.select_for_update().get(pk=offer_id)
            if exc.permanent or offer.attempts >= MAX_ATTEMPTS:
                _close(offer, timezone.now(), "The text could not be delivered.")
                return _finish(offer, OfferSendStatus.FAILED, str(exc))
            offer.send_status = OfferSendStatus.PLANNED
            offer.provider_called_at = None
            offer.send_error = str(exc)[:500]
            offer.save(update_fields=["send_status", "provider_called_at", "send_error"])
            return OfferSendStatus.PLANNED
    except Exception as exc:  # the provider's client broke: it may or may not have gone out
        log.exception("offer %s: unexpected error from the SMS backend", offer_id)
        Offer.objects.filter(pk=offer_id).update(
            send_status=OfferSendStatus.UNKNOWN, send_error=f"{type(exc).__name__}"[:500]
        )
        return OfferSendStatus.UNKNOWN
    # A provider that answered after the sweeper gave up on it still has the last word.
    Offer.objects.filter(
        pk=offer_id, send_status__in=[OfferSendStatus.SENDING, OfferSendStatus.UNKNOWN]
    ).update(send_status=OfferSendStatus.SENT, sent_at=timezone.now(),
             provider_message_id=provider_id, send_error="")
    return OfferSendStatus.SENT


def offers_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover offers left by a worker that died while sending them."""
    now = now or timezone.now()
    sending = Offer.objects.filter(send_status=OfferSendStatus.SENDING)
    unknown = sending.filter(provider_called_at__lt=now - STALE_SENDING).update(
        send_status=OfferSendStatus.UNKNOWN,
        send_error="The worker stopped while the provider was being called; it may have gone.",
    )
    requeued = sending.filter(
        provider_called_at__isnull=True, claimed_at__lt=now - STALE_SENDING
    ).update(send_status=OfferSendStatus.PLANNED)
    return {"unknown": unknown, "requeued": requeued}


def _close(offer: Offer, now: datetime, outcome: str) -> None:
    if offer.status == OfferStatus.OFFERED:
        offer.status = OfferStatus.EXPIRED
        offer.outcome = outcome
        offer.save(update_fields=["status", "outcome"])


def _finish(offer: Offer, status: str, error: str) -> str:
    offer.send_status = status
    offer.send_error = error[:500]
    offer.save(update_fields=["send_status", "send_error"])
    return status
