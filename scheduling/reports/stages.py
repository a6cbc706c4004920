"""What the four stage reports add up from the period's stages, worked out once for all four:

- the minutes each room or bay was planned and used within the day's opening hours, per week
  (utilisation);
- each room's first procedure of the day (first cases);
- the gaps between one patient leaving a room and the next one's procedure (turnovers);
- the median length of each kind of stage, by procedure type and levels (durations).

A busy site's year holds tens of thousands of stages and only a few thousand of these figures.
On PostgreSQL the database adds them up in one statement that reads the period's stages once
(`STAGE_FIGURES`) and hands back the figures alone. Elsewhere (SQLite, the embedded default)
the stages are read and added up here (`_figures_added_here`), the same way; a test on
PostgreSQL holds the two to the same answers.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from django.db import connection
from django.db.models import Q

from ..board.rows import sql_rows, values_rows
from ..models import Resource, ResourceKind, Site, Stage, StageKind
from .period import Period, minutes_between, open_hours, week_of

# (room or bay id, Monday of the week): (minutes planned, minutes used) within opening hours
UseSums = dict[tuple[int, date], tuple[float, float]]
# (procedure type id, stage kind, levels): (stages timed, median planned, median actual minutes)
DurationSums = dict[tuple[int, str, int], tuple[int, float, float]]
# (day, room name, planned start, actual start or None), by day, room name, planned start
FirstStart = tuple[date, str, datetime, datetime | None]
# (day, room name, room released, next procedure started, planned release, planned entry)
Gap = tuple[date, str, datetime, datetime, datetime, datetime]


@dataclass(frozen=True)
class PeriodStages:
    """The stage figures of one site's period, and the site's rooms and bays (with any other
    site's a stage of the period held), by name as the database orders names."""

    period: Period
    hours: dict[date, tuple[datetime, datetime]]  # open_hours: each open day's opening hours
    resources: dict[int, Resource]
    used: frozenset[int]  # the rooms and bays holding a stage of the period
    use: UseSums
    durations: DurationSums
    first_starts: list[FirstStart]
    gaps: list[Gap]  # by day, room name, then the order the patients went in

    @classmethod
    def load(cls, *, site: Site, period: Period) -> "PeriodStages":
        hours = open_hours(site, period)
        if connection.vendor == "postgresql":
            figures = _figures_in_database(site, period, hours)
        else:
            figures = _figures_added_here(site, period, hours)
        return cls(period, hours, *figures)


# One read of the period's stages (the CTE, through the stage report index), then each report's
# figures from it, one UNION ALL branch each, told apart by `part`. Tables are named in quotes,
# as Django writes them. The branches share one row
# shape: part, ord, id, day, name, levels, count, four intervals, four instants.
STAGE_FIGURES = """
WITH stage AS MATERIALIZED (
    SELECT s.case_id, "scheduling_case".day, "scheduling_case".levels,
        "scheduling_case".procedure_type_id, s.kind, s.resource_id, s.active, s.planned_start,
        s.planned_end, s.actual_start, s.actual_end,
        s.actual_start IS NOT NULL AND s.actual_end IS NOT NULL AS timed
    FROM "scheduling_case" JOIN "scheduling_stage" s ON s.case_id = "scheduling_case".id
    WHERE "scheduling_case".site_id = %(site)s
        AND "scheduling_case".day BETWEEN %(start)s AND %(end)s
),
-- A case's time in a procedure room: all its stages there (procedure, cement set), entered and
-- released only once every one of them has its time recorded.
visit AS (
    SELECT st.day, r.name AS room, st.case_id,
        CASE WHEN bool_and(st.actual_start IS NOT NULL) THEN min(st.actual_start) END AS entered,
        CASE WHEN bool_and(st.actual_end IS NOT NULL) THEN max(st.actual_end) END AS released,
        min(st.planned_start) AS planned_entry, max(st.planned_end) AS planned_release
    FROM stage st JOIN "scheduling_resource" r ON r.id = st.resource_id
    WHERE st.active AND r.kind = %(room)s
    GROUP BY st.day, r.name, st.case_id
),
-- Each visit after the one before it in the same room that day, in the order the patients went
-- in (or, not in yet, were planned to).
visit_after AS (
    SELECT day, room, case_id, entered, planned_entry,
        lag(released) OVER room_day AS released_before,
        lag(planned_release) OVER room_day AS planned_release_before,
        row_number() OVER (ORDER BY day, room, coalesce(entered, planned_entry), planned_entry,
                           case_id) AS ord
    FROM visit
    WINDOW room_day AS (PARTITION BY day, room
                        ORDER BY coalesce(entered, planned_entry), planned_entry, case_id)
)
SELECT 1 AS part, NULL::bigint AS ord, st.resource_id AS id, w.week AS day, NULL::text AS name,
    NULL::int AS levels, NULL::bigint AS count,
    -- the stage's time within the day's opening hours, nothing if it lies outside them
    sum(greatest(least(st.planned_end, w.closes) - greatest(st.planned_start, w.opens),
                 interval '0')) FILTER (WHERE st.active),
    sum(greatest(least(st.actual_end, w.closes) - greatest(st.actual_start, w.opens),
                 interval '0')) FILTER (WHERE st.timed),
    NULL::interval, NULL::interval,
    NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
FROM stage st
JOIN (
    SELECT day, date_trunc('week', day)::date AS week, opens, closes
    FROM unnest(%(days)s::date[], %(opens)s::timestamptz[], %(closes)s::timestamptz[])
        AS opening(day, opens, closes)
) w ON w.day = st.day
GROUP BY st.resource_id, w.week
UNION ALL
-- The two middle lengths of each kind of stage (one, twice, when the count is odd): the lower
-- one is the middle in ascending order, the upper one in descending order.
SELECT 2, NULL, procedure_type_id, NULL, kind, levels, count(*),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY planned_end - planned_start),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY planned_end - planned_start DESC),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY actual_end - actual_start),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY actual_end - actual_start DESC),
    NULL, NULL, NULL, NULL
FROM stage WHERE timed
GROUP BY procedure_type_id, kind, levels
UNION ALL
SELECT 3, row_number() OVER (ORDER BY day, name, planned_start, resource_id), NULL, day, name,
    NULL, NULL, NULL, NULL, NULL, NULL, planned_start, actual_start, NULL, NULL
FROM (
    SELECT DISTINCT ON (st.day, st.resource_id) st.day, st.resource_id, r.name,
        st.planned_start, st.actual_start
    FROM stage st JOIN "scheduling_resource" r ON r.id = st.resource_id
    WHERE st.active AND st.kind = %(procedure)s
    ORDER BY st.day, st.resource_id, st.planned_start
) first_start
UNION ALL
SELECT 4, ord, NULL, day, room, NULL, NULL, NULL, NULL, NULL, NULL,
    released_before, entered, planned_release_before, planned_entry
FROM visit_after WHERE released_before IS NOT NULL AND entered IS NOT NULL
UNION ALL
SELECT 5, NULL, resource_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL
FROM stage GROUP BY resource_id
ORDER BY part, ord
"""
USE, DURATION, FIRST_START, GAP, USED = 1, 2, 3, 4, 5


def _figures_in_database(site: Site, period: Period, hours: dict) -> tuple:
    days = sorted(hours)
    params = {
        "site": site.pk, "start": period.start, "end": period.end,
        "room": ResourceKind.PROCEDURE_ROOM, "procedure": StageKind.PROCEDURE,
        "days": _array_text(day.isoformat() for day in days),
        "opens": _array_text(hours[day][0].isoformat() for day in days),
        "closes": _array_text(hours[day][1].isoformat() for day in days),
    }
    use, durations, first_starts, gaps, used = {}, {}, [], [], set()
    for (part, _, key, day, name, levels, count, i1, i2, i3, i4, t1, t2, t3, t4) in sql_rows(
        STAGE_FIGURES, params
    ):
        if part == USE:
            use[(key, day)] = (_minutes(i1), _minutes(i2))
        elif part == DURATION:
            # As statistics.median: the mean of the two middle values, or the middle one.
            durations[(key, name, levels)] = (
                count, (_minutes(i1) + _minutes(i2)) / 2, (_minutes(i3) + _minutes(i4)) / 2
            )
        elif part == FIRST_START:
            first_starts.append((day, name, t1, t2))
        elif part == GAP:
            gaps.append((day, name, t1, t2, t3, t4))
        else:
            used.add(key)
    resources = Resource.objects.filter(Q(site=site) | Q(pk__in=used)).order_by("name", "pk")
    return ({r.pk: r for r in resources}, frozenset(used), use, durations, first_starts, gaps)


def _array_text(values) -> str:
    """A year of dates or instants as one array literal: psycopg adapts a list value by value,
    which for two years' worth of them a site took longer than the statement's planning."""
    return "{" + ",".join(values) + "}"


def _minutes(interval: timedelta | None) -> float:
    return 0.0 if interval is None else interval.total_seconds() / 60


# A stage as the reports read it where the database does not add it up: a plain tuple of these
# columns (the stage report index holds them all but the case's own).
STAGE_COLUMNS = (
    "case_id", "case__day", "case__levels", "case__procedure_type_id", "kind", "resource_id",
    "active", "planned_start", "planned_end", "actual_start", "actual_end",
)
(CASE, DAY, LEVELS, PROCEDURE_TYPE, KIND, RESOURCE, ACTIVE,
 PLANNED_START, PLANNED_END, ACTUAL_START, ACTUAL_END) = range(len(STAGE_COLUMNS))


def _figures_added_here(site: Site, period: Period, hours: dict) -> tuple:
    query = (
        Stage.objects.filter(case__site=site, case__day__range=(period.start, period.end))
        .order_by()
        .values_list(*STAGE_COLUMNS)
    )
    rows = values_rows(query)
    used = {row[RESOURCE] for row in rows}
    resources = {
        r.pk: r
        for r in Resource.objects.filter(Q(site=site) | Q(pk__in=used)).order_by("name", "pk")
    }
    return (resources, frozenset(used), _use(rows, hours), _durations(rows),
            _first_starts(rows, resources), _gaps(rows, resources))


def _use(rows: list[tuple], hours: dict) -> UseSums:
    weeks = {day: week_of(day) for day in hours}
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        window = hours.get(row[DAY])
        if window is None:
            continue  # no opening hours that day: nothing to be a share of
        line = sums[(row[RESOURCE], weeks[row[DAY]])]
        if row[ACTIVE]:
            line[0] += _overlap(row[PLANNED_START], row[PLANNED_END], window)
        if row[ACTUAL_START] and row[ACTUAL_END]:
            line[1] += _overlap(row[ACTUAL_START], row[ACTUAL_END], window)
    return {key: (planned, actual) for key, (planned, actual) in sums.items()}


def _overlap(start: datetime, end: datetime, window: tuple[datetime, datetime]) -> float:
    """Minutes of start-end within the window."""
    opens, closes = window
    return max(0.0, (min(end, closes) - max(start, opens)).total_seconds() / 60)


def _durations(rows: list[tuple]) -> DurationSums:
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for row in rows:
        if row[ACTUAL_START] is None or row[ACTUAL_END] is None:
            continue  # not timed (yet)
        planned, actual = groups[(row[PROCEDURE_TYPE], row[KIND], row[LEVELS])]
        planned.append(minutes_between(row[PLANNED_START], row[PLANNED_END]))
        actual.append(minutes_between(row[ACTUAL_START], row[ACTUAL_END]))
    return {
        key: (len(actual), median(planned), median(actual))
        for key, (planned, actual) in groups.items()
    }


def _by_day_and_room(rows, resources: dict[int, Resource]) -> list[tuple]:
    """The stages by day, then room or bay by name (the database's order of names), then
    planned start."""
    rank, names, last = {}, -1, None
    for resource in resources.values():
        if resource.name != last:
            names, last = names + 1, resource.name
        rank[resource.pk] = names
    return sorted(rows, key=lambda row: (row[DAY], rank[row[RESOURCE]], row[PLANNED_START]))


def _first_starts(rows: list[tuple], resources: dict[int, Resource]) -> list[FirstStart]:
    procedures = _by_day_and_room(
        (row for row in rows if row[KIND] == StageKind.PROCEDURE and row[ACTIVE]), resources
    )
    firsts: dict[tuple, FirstStart] = {}
    for row in procedures:
        key = (row[DAY], row[RESOURCE])
        if key not in firsts:
            firsts[key] = (
                row[DAY], resources[row[RESOURCE]].name, row[PLANNED_START], row[ACTUAL_START]
            )
    return list(firsts.values())


def _gaps(rows: list[tuple], resources: dict[int, Resource]) -> list[Gap]:
    rooms = {
        pk: resource.name for pk, resource in resources.items()
        if resource.kind == ResourceKind.PROCEDURE_ROOM
    }
    visits: dict[tuple, list[tuple]] = defaultdict(list)
    for row in _by_day_and_room(
        (row for row in rows if row[RESOURCE] in rooms and row[ACTIVE]), resources
    ):
        visits[(row[DAY], rooms[row[RESOURCE]], row[CASE])].append(row)
    by_room_day: dict[tuple, list] = defaultdict(list)
    for (day, room, case_id), stages in visits.items():
        by_room_day[(day, room)].append((*_visit(stages), case_id))
    gaps = []
    for (day, room), room_visits in by_room_day.items():
        room_visits.sort(key=lambda visit: (visit[0] or visit[2], visit[2], visit[4]))
        for before, after in zip(room_visits, room_visits[1:], strict=False):
            if before[1] is None or after[0] is None:
                continue  # one of the two has not been through the room yet
            gaps.append((day, room, before[1], after[0], before[3], after[2]))
    return gaps


def _visit(stages: list[tuple]) -> tuple:
    """(entered, released, planned entry, planned release) of one case's time in a room."""
    started = [s[ACTUAL_START] for s in stages]
    ended = [s[ACTUAL_END] for s in stages]
    return (
        min(started) if all(started) else None,
        max(ended) if all(ended) else None,
        min(s[PLANNED_START] for s in stages),
        max(s[PLANNED_END] for s in stages),
    )
