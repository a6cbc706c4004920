"""What a patient may change from their link: cancel the visit or move it to another free time,
until the site's cut-off (Site.patient_change_cutoff_hours before arrival). After it, or once the
case is checked in or released, only the unit can change it, by phone.

The moves go through case_reschedule and the cancels through case_cancel, with the patient as
the actor: the same locks, the same database guarantees (a time taken meanwhile leaves the old
time in place) and a step on the case's history."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .. import horizon, timing
from ..errors import SchedulingError
from ..models import NOT_ARRIVED_STATUSES, Case, EventSource
from ..slots import DayBook, Slot
from .booking import case_cancel, case_reschedule

# How many times "ask for another time" offers, how many of them on one day, and how far they
# sit apart that day: a choice of days and of morning or afternoon, not ten starts five minutes
# apart.
TIMES_OFFERED = 5
TIMES_PER_DAY = 2
TIMES_APART = timedelta(hours=3)
# The search stops after this many days (or at the booking horizon, if sooner): a unit full for
# six weeks is a conversation for the phone.
SEARCH_DAYS = 42


@dataclass(frozen=True)
class PatientChanges:
    """Whether the patient may still cancel or move the case themselves, and until when."""

    allowed: bool
    until: datetime


def patient_changes_get(*, case: Case, now: datetime | None = None) -> PatientChanges:
    until = case.arrival_at - timedelta(hours=case.site.patient_change_cutoff_hours)
    now = now or timezone.now()
    return PatientChanges(allowed=case.status in NOT_ARRIVED_STATUSES and now < until, until=until)


def case_cancel_by_patient(
    *, case: Case, reason: str, expected_version: str, source: str = EventSource.PATIENT_LINK
) -> Case:
    """Cancel as the patient. `expected_version` is the case as the patient's page showed it:
    a case moved by the unit since (so its cut-off may have moved) is refused, `case_changed`."""
    _check_open(case)
    return case_cancel(
        case=case, reason=reason, by=None, source=source, expected_version=expected_version
    )


def case_move_by_patient(
    *, case: Case, start: datetime, expected_version: str,
    source: str = EventSource.PATIENT_LINK,
) -> Case:
    """Move as the patient to `start`, one of the times `patient_free_starts` offered: a start
    before the earliest the patient may pick is refused (`start_too_soon`), whatever the form
    said."""
    _check_open(case)
    earliest = patient_earliest_arrival(case=case, now=timezone.now())
    lead = case.procedure_start - case.arrival_at
    if start.tzinfo is None or start - lead < earliest:
        raise SchedulingError(
            "start_too_soon", "That time is too soon to be chosen here.", field="start"
        )
    return case_reschedule(
        case=case, start=start, by=None, source=source, expected_version=expected_version
    )


def patient_earliest_arrival(*, case: Case, now: datetime) -> datetime:
    """The earliest arrival a patient may move to: after the site's cut-off (the new time can
    still be changed, and the unit has its notice), and late enough that every held medicine's
    pause starts tomorrow at the earliest (a pause cannot start in the past)."""
    earliest = now + timedelta(hours=case.site.patient_change_cutoff_hours)
    longest_hold = max((held.drug.hold_days for held in case.held_medications.all()), default=0)
    if longest_hold:
        today = timing.local_day(now, case.site.zone)
        first_day = today + timedelta(days=longest_hold + 1)
        earliest = max(earliest, timing.local_instant(first_day, time(0), case.site.zone))
    return earliest


def patient_free_starts(*, case: Case, now: datetime | None = None) -> list[Slot]:
    """The next free starts for this case (same procedure, levels and requested surgeon), its
    own booking set aside, from the earliest the patient may pick up to the booking horizon:
    at most TIMES_OFFERED, TIMES_PER_DAY a day, TIMES_APART apart."""
    now = now or timezone.now()
    zone = case.site.zone
    earliest = patient_earliest_arrival(case=case, now=now)
    today = timing.local_day(now, zone)
    day = timing.local_day(earliest, zone)
    last = min(horizon.last_day(today), today + timedelta(days=SEARCH_DAYS))
    found: list[Slot] = []
    while day <= last and len(found) < TIMES_OFFERED:
        found += _day_starts(case, day, earliest)[: TIMES_OFFERED - len(found)]
        day += timedelta(days=1)
    return found


def _day_starts(case: Case, day: date, earliest: datetime) -> list[Slot]:
    book = DayBook.for_move(case=case, day=day)
    chosen: list[Slot] = []
    for slot in book.free_slots(arrival_not_before=earliest):
        start = slot.times.procedure_start
        # Not the time the patient has already, nor one just beside it or another offered.
        taken = [case.procedure_start, *(other.times.procedure_start for other in chosen)]
        if any(abs(start - other) < TIMES_APART for other in taken):
            continue
        chosen.append(slot)
        if len(chosen) == TIMES_PER_DAY:
            break
    return chosen


def _check_open(case: Case) -> None:
    if not patient_changes_get(case=case).allowed:
        raise SchedulingError(
            "patient_change_closed",
            "This visit can no longer be changed here; please call the unit.",
        )


__all__ = [
    "PatientChanges",
    "case_cancel_by_patient",
    "case_move_by_patient",
    "patient_changes_get",
    "patient_earliest_arrival",
    "patient_free_starts",
]
