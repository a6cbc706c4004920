"""The room runs late: a patient not checked in yet, whose procedure is projected to start more
than LATE_NOTICE_MINUTES late, is told a new arrival time, one patient at a time or every such
patient of a site's day at once.

The delay is the board's, worked out here from the day as it stands (never taken from a form),
so a stale page cannot send a wrong time, and a patient is told once per delay
(notifications.services.running_late_notify).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from notifications.selectors import running_late_told
from notifications.services import running_late_notify

from .. import horizon
from ..board.day import CaseLine, day_board_get
from ..errors import SchedulingError
from ..models import NOT_ARRIVED_STATUSES, Case, Site
from ..timing import local_hm

# A patient not yet checked in can be told a new arrival time once their procedure is projected
# to start more than this many minutes late; the delay told is rounded up to LATE_NOTICE_STEP.
LATE_NOTICE_MINUTES = 30
LATE_NOTICE_STEP = 5

# What came of telling one patient.
TOLD = "told"  # a notice is planned: it goes out with the next dispatch
ALREADY = "already"  # they were given this delay before: nothing new is sent
UNREACHABLE = "unreachable"  # no phone or email to reach them


@dataclass(frozen=True)
class LateNotice:
    """One patient told (or not) to come later, and the arrival time they were given."""

    case: Case
    delay_minutes: int
    outcome: str

    @property
    def new_arrival_at(self) -> datetime:
        return self.case.arrival_at + timedelta(minutes=self.delay_minutes)

    @property
    def new_arrival(self) -> str:
        """The new arrival time at the site, as the patient reads it: "09:45"."""
        return local_hm(self.new_arrival_at, self.case.site.zone)


def late_notice_delay(line: CaseLine) -> int:
    """The delay to tell a patient not checked in yet, in whole steps of five minutes, or 0 when
    their procedure is not late by more than LATE_NOTICE_MINUTES."""
    late = line.procedure_delay_minutes
    if line.case.status not in NOT_ARRIVED_STATUSES or late <= LATE_NOTICE_MINUTES:
        return 0
    return -(-late // LATE_NOTICE_STEP) * LATE_NOTICE_STEP


def late_notice_offer(line: CaseLine) -> int:
    """The delay the board offers to tell the patient, or 0: none is due, or they were told this
    delay (or a longer one) already in the case's current plan; a delay that grows since they
    were told is offered again."""
    delay = late_notice_delay(line)
    return delay if delay > line.told_delay_minutes else 0


def case_tell_late(
    *, case: Case, by: AbstractBaseUser, now: datetime | None = None
) -> LateNotice:
    """Tell the patient of `case` to come as late as the board projects their procedure to
    start. Refused (`not_running_late`) when they are checked in already, or not late enough."""
    now = now or timezone.now()
    board = day_board_get(case.site, case.day, now)
    line = next((line for line in board.cases if line.case.pk == case.pk), None)
    delay = late_notice_delay(line) if line else 0
    if not delay:
        raise SchedulingError(
            "not_running_late",
            "Only a patient not checked in yet whose procedure runs more than "
            f"{LATE_NOTICE_MINUTES} minutes late can be given a new arrival time.",
        )
    return _tell(case=case, delay_minutes=delay, by=by, now=now)


def site_day_tell_late(
    *, site: Site, day: date, by: AbstractBaseUser, now: datetime | None = None
) -> list[LateNotice]:
    """Tell every patient of the site's day who is still to come and late enough, in the order of
    their procedures; an empty list when nobody is. Refused (`date_out_of_range`) for a day
    outside the days shown."""
    now = now or timezone.now()
    horizon.day_shown_check(day=day, today=now.astimezone(site.zone).date())
    delays = {
        line.case.pk: delay
        for line in day_board_get(site, day, now).cases
        if (delay := late_notice_delay(line))
    }
    cases = Case.objects.filter(pk__in=delays).select_related("patient", "site")
    return [
        _tell(case=case, delay_minutes=delays[case.pk], by=by, now=now)
        for case in cases.order_by("procedure_start", "pk")
    ]


def _tell(*, case: Case, delay_minutes: int, by: AbstractBaseUser, now: datetime) -> LateNotice:
    # One transaction per patient: a notice planned for one stands whatever befalls the next.
    with transaction.atomic():
        planned = running_late_notify(case=case, delay_minutes=delay_minutes, by=by, now=now)
    if planned:
        outcome = TOLD
    elif running_late_told(case=case, delay_minutes=delay_minutes):
        outcome = ALREADY
    else:
        outcome = UNREACHABLE
    return LateNotice(case=case, delay_minutes=delay_minutes, outcome=outcome)
