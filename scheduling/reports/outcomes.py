"""Outcomes: the patients' pain (0-10) before the procedure and on each follow-up day after it,
as medians by procedure type and by surgeon, with how many of those asked answered.

The cases are the site's cases whose procedure day falls in the period, less those cancelled
or missed. A moment was asked when a pain ask for it went out (by text or email), or when the
patient answered it on their page unasked; it was answered when a score was recorded for it.
Two queries, whatever the number of cases."""

from collections import defaultdict
from dataclasses import dataclass
from statistics import median

from notifications.models import MessageKind, Reminder, ReminderStatus
from notifications.pain_planning import followup_day_of

from .. import pain
from ..models import RELEASED_STATUSES, Site
from ..pain_models import PainScore
from .period import Period, percent

ASKED_STATUSES = (ReminderStatus.SENT, ReminderStatus.DELIVERED)
ALL_CASES = "All cases"
NO_SURGEON = "No surgeon named"


@dataclass(frozen=True)
class MomentOutcome:
    asked: int
    answered: int
    median: float | None  # of the answers; None with none

    @property
    def response_pct(self) -> float | None:
        return percent(self.answered, self.asked)


@dataclass(frozen=True)
class OutcomeLine:
    group: str  # "all", "procedure type" or "surgeon"
    name: str
    moments: tuple[MomentOutcome, ...]  # in the order of Outcomes.moments


@dataclass(frozen=True)
class Outcomes:
    period: Period
    moments: tuple[int | None, ...]  # None: before the procedure; else the follow-up day
    lines: tuple[OutcomeLine, ...]

    @property
    def labels(self) -> list[str]:
        return [pain.moment_label(moment) for moment in self.moments]

    @property
    def total(self) -> OutcomeLine:
        return self.lines[0]


def outcomes_get(*, site: Site, period: Period) -> Outcomes:
    cases = {"case__site": site, "case__day__range": (period.start, period.end)}
    released = {"case__status__in": RELEASED_STATUSES}
    groups = ("case_id", "case__procedure_type__name", "case__surgeon__name")
    # Unordered: each row lands in a dict by (case, moment). Ordered, the rows would need
    # columns that the report indexes do not hold, and the whole table would be read instead.
    scores = list(
        PainScore.objects.filter(**cases).exclude(**released)
        .values_list(*groups, "followup_day", "score")
        .order_by()
    )
    asks = list(
        Reminder.objects.filter(kind=MessageKind.PAIN_ASK, status__in=ASKED_STATUSES, **cases)
        .exclude(**released)
        .values_list(*groups, "note")
        .order_by()
        .distinct()
    )
    # (case, moment) -> its groups; and the score given for it
    asked: dict[tuple[int, int | None], tuple[str, str]] = {}
    answered: dict[tuple[int, int | None], int] = {}
    for case_id, kind, surgeon, note in asks:
        asked[(case_id, followup_day_of(note))] = (kind, surgeon or NO_SURGEON)
    for case_id, kind, surgeon, day, score in scores:
        asked[(case_id, day)] = (kind, surgeon or NO_SURGEON)
        answered[(case_id, day)] = score
    days = set(pain.followup_days(site.pain_followup_days))
    days |= {day for _, day in asked if day is not None}
    moments = (None, *sorted(days))

    # (group, name) -> moment -> ([asked cases], [scores])
    tally: dict[tuple[str, str], dict[int | None, tuple[list, list]]] = defaultdict(
        lambda: {moment: ([], []) for moment in moments}
    )
    tally[("all", ALL_CASES)]  # the total line comes first, even when empty
    for key, (kind, surgeon) in asked.items():
        _, moment = key
        for line in (("all", ALL_CASES), ("procedure type", kind), ("surgeon", surgeon)):
            cell = tally[line][moment]
            cell[0].append(key)
            if key in answered:
                cell[1].append(answered[key])
    order = {"all": 0, "procedure type": 1, "surgeon": 2}
    lines = tuple(
        OutcomeLine(
            group=group,
            name=name,
            moments=tuple(
                MomentOutcome(
                    asked=len(cells[moment][0]),
                    answered=len(cells[moment][1]),
                    median=float(median(cells[moment][1])) if cells[moment][1] else None,
                )
                for moment in moments
            ),
        )
        for (group, name), cells in sorted(tally.items(), key=lambda i: (order[i[0][0]], i[0][1]))
    )
    return Outcomes(period=period, moments=moments, lines=lines)
