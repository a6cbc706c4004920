"""A patient takes or turns down an offer, by text or on the offer's page.

Taking it books through `case_book`, so the database decides a race: two patients accepting
the same freed time at once both find it free, both write their stages, and PostgreSQL's
exclusion constraint lets one commit; the other's booking finds the time taken and their offer
is closed as `taken`. Each offer's row is locked while it is answered, so a YES and a tap on
its link at once are answered once.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..errors import SchedulingError
from ..models import CaseAction, CaseEvent, CaseStatus, WaitingListEntry, WaitingStatus
from ..offer_models import FreedTimeStatus, Offer, OfferStatus
from ..plan.waiting import entry_screening
from ..services.booking import case_book


def offer_accept(*, offer_id: int, source: str, now: datetime | None = None) -> Offer:
    """Book the offered time for its patient. The offer comes back `accepted` (with its case),
    `taken` (someone else has the time), `expired`, or as it was when already answered."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer_id)
        if offer.status != OfferStatus.OFFERED:
            return _answered_late(offer, now)
        if now >= offer.expires_at:
            return _closed(offer, OfferStatus.EXPIRED, now, "Answered after the offer ended.")
        # The patient's entry is locked too: their YES to one offer and a tap on another's
        # link at once book one case, not two.
        entry = WaitingListEntry.objects.select_for_update().get(pk=offer.entry_id)
        if (
            offer.freed_time.status != FreedTimeStatus.OPEN
            or entry.status != WaitingStatus.WAITING
        ):
            return _closed(offer, OfferStatus.TAKEN, now, "The time had gone.")
        try:
            case = case_book(
                site=offer.freed_time.site, procedure_type=entry.procedure_type,
                levels=entry.levels, day=offer.freed_time.day, patient=entry.patient,
                screening=entry_screening(entry), booked_by=None, start=offer.slot_start,
                surgeon=entry.surgeon, driver_name=entry.driver_name,
                driver_phone=entry.driver_phone,
            )
        except SchedulingError as error:
            return _closed(offer, OfferStatus.TAKEN, now, f"The time had gone ({error.code}).")
        CaseEvent.objects.create(
            case=case, action=CaseAction.OFFER_ACCEPT, status_before=CaseStatus.BOOKED, at=now,
            source=source,
        )
        entry.status = WaitingStatus.SCHEDULED
        entry.case = case
        entry.save(update_fields=["status", "case"])
        offer.case = case
        _closed(offer, OfferStatus.ACCEPTED, now, "Booked.", fields=["case"])
        freed = offer.freed_time
        freed.status = FreedTimeStatus.FILLED
        freed.save(update_fields=["status"])
        # The other open offers of this time, and of this patient: those being answered right
        # now (locked) settle themselves, and waiting on them could deadlock with their booking.
        _close_others(offer.freed_time.offers.exclude(pk=offer.pk), OfferStatus.TAKEN,
                      "Another patient took the time.")
        # The patient's own other offers count as answered: their next YES confirms the visit.
        _close_others(entry.offers.exclude(pk=offer.pk), OfferStatus.DECLINED,
                      "Booked from another offer.", responded_at=now)
    return offer


def offer_decline(*, offer_id: int, now: datetime | None = None) -> Offer:
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer_id)
        if offer.status != OfferStatus.OFFERED:
            return _answered_late(offer, now)
        if now >= offer.expires_at:
            return _closed(offer, OfferStatus.EXPIRED, now, "Answered after the offer ended.")
        return _closed(offer, OfferStatus.DECLINED, now, "Said no.")


def _locked(offer_id: int) -> Offer:
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related(
"patient", "freed_time__site")
        .get(pk=offer_id)
    )


def _answered_late(offer: Offer, now: datetime) -> Offer:
    """An offer closed before the patient answered (expired, taken): the answer is noted, so a
    later YES is read as a reply to what comes next."""
    if offer.responded_at is None:
        offer.responded_at = now
        offer.save(update_fields=["responded_at"])
    return offer


def _closed(
    offer: Offer, status: str, now: datetime, outcome: str, fields: list[str] | None = None
) -> Offer:
    offer.status = status
    offer.responded_at = now
    offer.outcome = outcome
    offer.save(update_fields=["status", "responded_at", "outcome", *(fields or [])])
    return offer


def _close_others(
    offers, status: str, outcome: str, responded_at: datetime | None = None
) -> None:
    ids = list(
        offers.filter(status=OfferStatus.OFFERED)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    Offer.objects.filter(pk__in=ids).update(
        status=status, outcome=outcome, responded_at=responded_at
    )
