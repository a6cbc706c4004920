"""Offering a freed time in waves: the first `offer_wave_size` patients of the backfill ranking,
each offer open `offer_valid_minutes`; when a wave ends with no taker, the next patients.

The tick (every minute, from the beat schedule) expires offers past their time, starts the first
wave of any freed time whose after-commit task was lost, and the next wave of any freed time
with no offer open. Patients who cannot be texted (no mobile number, or it texted STOP) are
left out of the waves. No wave starts in quiet hours (21:00-08:00 at the site): an offer that
ends before anyone is up would only use up a wave; the tick starts it in the morning.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.models import SmsOptOut
from notifications.planning import is_quiet

from ..offer_models import FreedTime, FreedTimeStatus, Offer, OfferSendStatus, OfferStatus
from ..plan.backfill import Suggestion, freed_time_suggestions


@dataclass(frozen=True)
class Tick:
    expired: int
    waves: int
    offers: int


def freed_time_offers_start(*, freed_time_id: int, now: datetime | None = None) -> int:
    """The first wave of a freed time (the after-commit task). Returns the offers made; 0 when
    the wave was already started (by the tick, or a task delivered twice)."""
    now = now or timezone.now()
    with transaction.atomic():
        freed = _locked(FreedTime.objects.filter(pk=freed_time_id, waves=0))
        if freed is None:
            return 0
        return offers_wave(freed=freed, now=now)


def offers_tick(*, now: datetime | None = None) -> Tick:
    now = now or timezone.now()
    expired = Offer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=now).update(
        status=OfferStatus.EXPIRED, outcome="No answer in time."
    )
    waiting = FreedTime.objects.filter(status=FreedTimeStatus.OPEN).exclude(
        Exists(Offer.objects.filter(freed_time=OuterRef("pk"), status=OfferStatus.OFFERED))
    )
    waves = offers = 0
    for freed_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            freed = _locked(waiting.filter(pk=freed_id))
            if freed is None:
                continue  # another tick has it, or an offer opened meanwhile
            made = offers_wave(freed=freed, now=now)
            waves += made > 0
            offers += made
    return Tick(expired=expired, waves=waves, offers=offers)


def _locked(freed_times) -> FreedTime | None:
    return (
        freed_times.select_for_update(skip_locked=True, of=("self",))
        .select_related("site")
        .first()
    )


def offers_wave(*, freed: FreedTime, now: datetime) -> int:
    """The next wave of a locked, open freed time, or the time closed when nobody is left."""
    site = freed.site
    if not site.offers_enabled:
        return _close(freed, "The site does not offer freed times.")
    if freed.starts_at < now + timedelta(hours=site.offer_min_lead_hours):
        return _close(freed, "Too close to the time to offer it again.")
    if is_quiet(now, site.zone):
        return 0
    asked = set(freed.offers.values_list("entry_id", flat=True))
    chosen = [
        suggestion
        for suggestion in freed_time_suggestions(
            site=site, day=freed.day, freed=(freed.starts_at, freed.ends_at)
        )
        if suggestion.entry.pk not in asked and _textable(suggestion)
    ][: site.offer_wave_size]
    if not chosen:
        return _close(freed, "Nobody left on the waiting list to offer it to.")
    freed.waves += 1
    freed.save(update_fields=["waves"])
    expires_at = now + timedelta(minutes=site.offer_valid_minutes)
    for suggestion in chosen:
        phone = suggestion.entry.patient.phone
        Offer.objects.create(
            freed_time=freed, entry=suggestion.entry, patient=suggestion.entry.patient,
            slot_start=suggestion.slot.times.procedure_start,
            arrival_at=suggestion.slot.times.arrival_at, wave=freed.waves,
            reply_number=_free_reply_number(phone), phone=phone, expires_at=expires_at,
        )
    return len(chosen)


def _textable(suggestion: Suggestion) -> bool:
    phone = suggestion.entry.patient.phone
    return bool(phone) and not SmsOptOut.objects.filter(phone=phone).exists()


def _free_reply_number(phone: str) -> int:
    """The smallest number not used by the phone's other open offers: "YES 2" keeps meaning the
    same offer while the first one is still open."""
    used = set(
        Offer.objects.filter(phone=phone, status=OfferStatus.OFFERED)
        .values_list("reply_number", flat=True)
    )
    number = 1
    while number in used:
        number += 1
    return number


def _close(freed: FreedTime, reason: str) -> int:
    freed.status = FreedTimeStatus.CLOSED
    freed.closed_reason = reason
    freed.save(update_fields=["status", "closed_reason"])
    return 0


def offers_withdraw(*, phone: str, now: datetime, outcome: str) -> int:
    """The number texted STOP: its open offers are declined and their texts not sent."""
    withdrawn = Offer.objects.filter(phone=phone, status=OfferStatus.OFFERED)
    Offer.objects.filter(
        phone=phone, status=OfferStatus.OFFERED, send_status=OfferSendStatus.PLANNED
    ).update(send_status=OfferSendStatus.WITHDRAWN)
    return withdrawn.update(status=OfferStatus.DECLINED, outcome=outcome, responded_at=now)
