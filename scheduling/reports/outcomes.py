"""Outcomes: the patients' pain (0-10) before the procedure and on each follow-up day after it,
as medians by procedure type and by surgeon, with how many of those asked answered.

The cases are the site's cases whose procedure day falls in the period, less those cancelled
or missed. A moment was asked when a pain ask for it went out (by text or email), or when the
patient answered it on their page unasked; it was answered when a score was recorded for it.
Two queries, whatever the number of cases: on PostgreSQL each comes back counted (the scores,
and the asks left unanswered, per line and moment, GROUPING SETS); elsewhere the rows come back
and are counted here."""

from collections import defaultdict
from dataclasses import dataclass
from statistics import median

from django.db import connection

from notifications.models import MessageKind, Reminder, ReminderStatus
from notifications.pain_planning import NOTE_PREFIX, followup_day_of

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


# (line's group, line's name, moment): (moments asked, moments answered, median score)
Cells = dict[tuple[str, str, int | None], tuple[int, int, float | None]]
GROUP_ORDER = {"all": 0, "procedure type": 1, "surgeon": 2}


def outcomes_get(*, site: Site, period: Period) -> Outcomes:
    if connection.vendor == "postgresql":
        cells = _cells_in_database(site, period)
    else:
        cells = _cells_added_here(site, period)
    days = set(pain.followup_days(site.pain_followup_days))
    days |= {moment for _, _, moment in cells if moment is not None}
    moments = (None, *sorted(days))
    names = {(group, name) for group, name, _ in cells} | {("all", ALL_CASES)}
    lines = tuple(
        OutcomeLine(
            group=group,
            name=name,
            moments=tuple(
                MomentOutcome(*cells.get((group, name, moment), (0, 0, None)))
                for moment in moments
            ),
        )
        for group, name in sorted(names, key=lambda line: (GROUP_ORDER[line[0]], line[1]))
    )
    return Outcomes(period=period, moments=moments, lines=lines)


# The period's cases still going ahead, with the two names their lines go by. A surgeon's name
# left blank counts as no surgeon named.
OUTCOME_CASES = """
    JOIN "scheduling_case" ON "scheduling_case".id = {table}.case_id
    JOIN "scheduling_proceduretype" kind ON kind.id = "scheduling_case".procedure_type_id
    LEFT JOIN "scheduling_surgeon" surgeon ON surgeon.id = "scheduling_case".surgeon_id
    WHERE "scheduling_case".site_id = %(site)s
        AND "scheduling_case".day BETWEEN %(start)s AND %(end)s
        AND NOT "scheduling_case".status = ANY(%(released)s)
"""
LINE_NAMES = "kind.name AS kind, coalesce(nullif(surgeon.name, ''), %(no_surgeon)s) AS surgeon"
# GROUPING(kind, surgeon) tells the lines apart: 3 all cases, 1 a procedure type, 2 a surgeon.
BY_LINE = "GROUP BY GROUPING SETS ((moment), (kind, moment), (surgeon, moment))"
SCORES = f"""
SELECT GROUPING(kind, surgeon), kind, surgeon, moment, count(*),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY score)
FROM (
    SELECT {LINE_NAMES}, "scheduling_painscore".followup_day AS moment,
        "scheduling_painscore".score
    FROM "scheduling_painscore" {OUTCOME_CASES.format(table='"scheduling_painscore"')}
) answer
{BY_LINE}
"""
# The moments asked and not answered: a pain ask's moment is the follow-up day its note names
# (followup_day_of: "day:" and digits), none for the booking's ask. Read with LIKE and
# translate: a regular expression cost a microsecond a message, more than the rest of the row.
UNANSWERED = f"""
SELECT GROUPING(kind, surgeon), kind, surgeon, moment, count(*)
FROM (
    SELECT DISTINCT "notifications_reminder".case_id, {LINE_NAMES},
        CASE WHEN "notifications_reminder".note LIKE %(note_like)s
            AND translate(substr("notifications_reminder".note, %(day_from)s), '0123456789', '')
                = ''
            THEN substr("notifications_reminder".note, %(day_from)s)::int END AS moment
    FROM "notifications_reminder" {OUTCOME_CASES.format(table='"notifications_reminder"')}
        AND "notifications_reminder".kind = %(pain_ask)s
        AND "notifications_reminder".status = ANY(%(asked)s)
) ask
WHERE NOT EXISTS (
    SELECT FROM "scheduling_painscore" score
    WHERE score.case_id = ask.case_id AND score.followup_day IS NOT DISTINCT FROM ask.moment
)
{BY_LINE}
"""
LINES = {3: "all", 1: "procedure type", 2: "surgeon"}


def _cells_in_database(site: Site, period: Period) -> Cells:
    params = {
        "site": site.pk, "start": period.start, "end": period.end,
        "released": list(RELEASED_STATUSES), "no_surgeon": NO_SURGEON,
        "note_like": f"{NOTE_PREFIX}:_%", "day_from": len(NOTE_PREFIX) + 2,
        "pain_ask": MessageKind.PAIN_ASK,
        "asked": list(ASKED_STATUSES),
    }
    cells: Cells = {}
    with connection.cursor() as cursor:
        cursor.execute(SCORES, params)
        for grouping, kind, surgeon, moment, answered, middle in cursor.fetchall():
            cells[_cell_key(grouping, kind, surgeon, moment)] = (answered, answered, middle)
        cursor.execute(UNANSWERED, params)
        for grouping, kind, surgeon, moment, unanswered in cursor.fetchall():
            key = _cell_key(grouping, kind, surgeon, moment)
            asked, answered, middle = cells.get(key, (0, 0, None))
            cells[key] = (asked + unanswered, answered, middle)
    return cells


def _cell_key(grouping: int, kind: str, surgeon: str, moment: int | None) -> tuple:
    group = LINES[grouping]
    name = {"all": ALL_CASES, "procedure type": kind, "surgeon": surgeon}[group]
    return (group, name, moment)


def _cells_added_here(site: Site, period: Period) -> Cells:
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
    # (group, name, moment) -> ([asked cases], [scores])
    tally: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for key, (kind, surgeon) in asked.items():
        _, moment = key
        for group, name in (("all", ALL_CASES), ("procedure type", kind), ("surgeon", surgeon)):
            cell = tally[(group, name, moment)]
            cell[0].append(key)
            if key in answered:
                cell[1].append(answered[key])
    return {
        key: (len(cases), len(scores), float(median(scores)) if scores else None)
        for key, (cases, scores) in tally.items()
    }
