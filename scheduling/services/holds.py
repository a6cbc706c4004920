"""Holding a time for a booking that is not made yet (scheduling.SlotHold). Taking a held time
for the case booked into it and letting holds run out are scheduling.holding's.

A hold's stages are written like a case's, through booking_attempts, so the exclusion
constraints settle a race between a hold and a clerk's booking as they settle two bookings. A
hold past its time keeps nothing: the slot search no longer sees its stages (unit_day), a
booking refused by them releases the day's run-out holds and tries again (booking_attempts),
and the periodic sweep (scheduling.tasks.slot_holds_sweep) deletes the rest."""

from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ..models import ProcedureType, Site, SlotHold, Stage, Surgeon
from ..slots import DayBook
from .booking import _check_start, _slot, booking_attempts, check_day, check_levels

HOLD_MINUTES = 10


def slot_hold(
    *,
    site: Site,
    procedure_type: ProcedureType,
    levels: int,
    day: date,
    start: datetime,
    by: AbstractBaseUser,
    surgeon: Surgeon | None = None,
    surgeon_requested: bool = False,
    minutes: int = HOLD_MINUTES,
) -> SlotHold:
    """Hold the rooms, bays and surgeon a case of this type would get at `start` for `minutes`,
    with `surgeon` when given (the one the time was offered with; `surgeon_requested`: asked for
    by name, which the case booked from the hold keeps). Refused as a booking would be."""
    check_levels(procedure_type, levels)
    check_day(site, day)
    _check_start(site, day, start)

    def write() -> SlotHold:
        book = DayBook.load(
            site=site, procedure_type=procedure_type, levels=levels, day=day, surgeon=surgeon
        )
        slot = _slot(book, start)
        pinned = book.pinned_of(slot)
        hold = SlotHold.objects.create(
            site=site, procedure_type=procedure_type, levels=levels, day=day,
            arrival_at=slot.times.arrival_at, procedure_start=slot.times.procedure_start,
            surgeon=slot.surgeon,
            surgeon_requested=surgeon_requested, resource_ids=list(pinned.resource_ids),
            expires_at=timezone.now() + timedelta(minutes=minutes), held_by=by,
        )
        Stage.objects.bulk_create(
            Stage(
                hold=hold, position=position, kind=stage.kind, resource=resource,
                surgeon=slot.surgeon if stage.needs_surgeon else None,
                planned_start=stage.start, planned_end=stage.end, held_until=stage.held_until,
            )
            for position, (stage, resource) in enumerate(
                zip(slot.times.stages, slot.resources, strict=True)
            )
        )
        return hold

    return booking_attempts(day=day, write=write)
