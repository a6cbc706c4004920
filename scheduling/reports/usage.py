"""How full the rooms and bays were, whether each room's first case started on time, and how
long rooms stood empty between cases.

Each selector adds up the period's stages (PeriodStages: one read of the stages with their
case's day, and the rooms and bays), which a caller asking for several reports reads once and
hands to each; utilisation also reads the opening hours. Clipping a stage to the opening hours
of its day is plain arithmetic on a few thousand rows, and the same code then gives the same
answer on SQLite and PostgreSQL.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from .. import timing
from ..models import OpeningHours, Resource, ResourceKind, Site, StageKind
from .period import (
    ACTIVE,
    ACTUAL_END,
    ACTUAL_START,
    CASE,
    DAY,
    KIND,
    PLANNED_END,
    PLANNED_START,
    RESOURCE,
    Period,
    PeriodStages,
    StageRow,
    minutes_between,
    percent,
    week_of,
)

# A first case that starts at most this late still counts as on time.
ON_TIME_MINUTES = 10
KIND_LABELS = dict(ResourceKind.choices)


@dataclass
class Use:
    open_minutes: float = 0
    planned_minutes: float = 0
    actual_minutes: float = 0

    @property
    def planned_pct(self) -> float | None:
        return percent(self.planned_minutes, self.open_minutes)

    @property
    def actual_pct(self) -> float | None:
        return percent(self.actual_minutes, self.open_minutes)

    @property
    def shown(self) -> str:
        """"planned / actual" as a table cell shows it; "closed" for no open time."""
        if not self.open_minutes:
            return "closed"
        return f"{self.planned_pct}% / {self.actual_pct}%"

    def add(self, other: "Use") -> None:
        self.open_minutes += other.open_minutes
        self.planned_minutes += other.planned_minutes
        self.actual_minutes += other.actual_minutes


@dataclass
class ResourceUse:
    name: str
    kind: str  # its label, e.g. "Procedure room"
    weeks: dict[date, Use]
    kind_code: str = ""
    total: Use = field(default_factory=Use)

    def add(self, week: date, use: Use) -> None:
        self.weeks[week].add(use)
        self.total.add(use)

    @property
    def by_week(self) -> list[Use]:
        return list(self.weeks.values())


@dataclass
class Utilisation:
    period: Period
    resources: list[ResourceUse]
    kinds: list[ResourceUse]  # one line per kind of room or bay, all units together


def utilisation_get(
    *, site: Site, period: Period, stages: PeriodStages | None = None
) -> Utilisation:
    stages = stages or PeriodStages.load(site=site, period=period)
    hours = open_hours(site, period)
    rows = stages.rows
    used = {row[RESOURCE] for row in rows}
    order = list(ResourceKind.values)  # rooms first: the scarce resource
    resources = sorted(
        (r for r in stages.resources.values()
         if r.site_id == site.pk and (r.active or r.pk in used)),
        key=lambda r: (order.index(r.kind) if r.kind in order else len(order), r.name),
    )

    def blank(name: str, resource: Resource) -> ResourceUse:
        weeks = {week: Use() for week in period.weeks}
        return ResourceUse(name, kind_label(resource), weeks, resource.kind)

    lines = {r.pk: blank(r.name, r) for r in resources}
    # A year holds tens of thousands of stages: they are summed per room or bay and week in
    # plain numbers, and each line is given one sum a week.
    weeks = {day: week_of(day) for day in hours}
    open_minutes: dict[date, float] = defaultdict(float)
    for day, (opens, closes) in hours.items():
        open_minutes[weeks[day]] += minutes_between(opens, closes)
    used_minutes: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        window = hours.get(row[DAY])
        if window is None:
            continue  # no opening hours that day: nothing to be a share of
        sums = used_minutes[(row[RESOURCE], weeks[row[DAY]])]
        if row[ACTIVE]:
            sums[0] += _overlap(row[PLANNED_START], row[PLANNED_END], window)
        if row[ACTUAL_START] and row[ACTUAL_END]:
            sums[1] += _overlap(row[ACTUAL_START], row[ACTUAL_END], window)
    for line in lines.values():
        for week, minutes in open_minutes.items():
            line.add(week, Use(open_minutes=minutes))
    for (resource_id, week), (planned, actual) in used_minutes.items():
        lines[resource_id].add(week, Use(planned_minutes=planned, actual_minutes=actual))

    kinds = {}
    for resource in resources:
        label = kind_label(resource)
        kind_line = kinds.setdefault(resource.kind, blank(f"All {label.lower()}s", resource))
        for week, use in lines[resource.pk].weeks.items():
            kind_line.add(week, use)
    return Utilisation(
        period=period,
        resources=list(lines.values()),
        kinds=list(kinds.values()),
    )


@dataclass(slots=True)  # thousands a year: no dict each
class FirstCase:
    day: date
    room: str
    planned_start: datetime
    actual_start: datetime | None

    @property
    def delay_minutes(self) -> int | None:
        if self.actual_start is None:
            return None
        return round(minutes_between(self.planned_start, self.actual_start))

    @property
    def on_time(self) -> bool | None:
        if self.actual_start is None:
            return None
        return self.actual_start - self.planned_start <= timedelta(minutes=ON_TIME_MINUTES)


@dataclass
class Rate:
    week: date
    started: int = 0
    on_time: int = 0

    @property
    def pct(self) -> float | None:
        return percent(self.on_time, self.started)


@dataclass
class FirstCases:
    period: Period
    days: list[FirstCase]
    weeks: list[Rate]
    total: Rate


def first_cases_get(
    *, site: Site, period: Period, stages: PeriodStages | None = None
) -> FirstCases:
    """Per day and room: the procedure planned first, and when it really started."""
    stages = stages or PeriodStages.load(site=site, period=period)
    names = {pk: resource.name for pk, resource in stages.resources.items()}
    rows = stages.by_day_and_room(
        row for row in stages.rows if row[KIND] == StageKind.PROCEDURE and row[ACTIVE]
    )
    firsts: dict[tuple, FirstCase] = {}
    for row in rows:
        key = (row[DAY], row[RESOURCE])
        if key not in firsts:
            firsts[key] = FirstCase(
                row[DAY], names[row[RESOURCE]], row[PLANNED_START], row[ACTUAL_START]
            )
    weeks = {week: Rate(week) for week in period.weeks}
    total = Rate(period.start)
    for first in firsts.values():
        if first.on_time is None:
            continue  # not started (yet): neither on time nor late
        for rate in (weeks[week_of(first.day)], total):
            rate.started += 1
            rate.on_time += first.on_time
    return FirstCases(period, list(firsts.values()), list(weeks.values()), total)


@dataclass(slots=True)  # thousands a year: no dict each
class Turnover:
    day: date
    room: str
    released_at: datetime
    next_start: datetime
    planned_minutes: int

    @property
    def minutes(self) -> int:
        return round(minutes_between(self.released_at, self.next_start))


@dataclass
class RoomTurnover:
    room: str
    weeks: list[int | None]  # median minutes per week
    count: int
    median: int | None
    planned_median: int | None


@dataclass
class Turnovers:
    period: Period
    gaps: list[Turnover]
    rooms: list[RoomTurnover]


def turnovers_get(
    *, site: Site, period: Period, stages: PeriodStages | None = None
) -> Turnovers:
    """The time a room stood between one patient leaving it and the next one's procedure."""
    stages = stages or PeriodStages.load(site=site, period=period)
    rooms = {
        pk: resource.name for pk, resource in stages.resources.items()
        if resource.kind == ResourceKind.PROCEDURE_ROOM
    }
    rows = stages.by_day_and_room(
        row for row in stages.rows if row[RESOURCE] in rooms and row[ACTIVE]
    )
    visits: dict[tuple, list[StageRow]] = defaultdict(list)
    for row in rows:
        visits[(row[DAY], rooms[row[RESOURCE]], row[CASE])].append(row)
    by_room_day: dict[tuple, list] = defaultdict(list)
    for (day, room, _), stages in visits.items():
        by_room_day[(day, room)].append(_visit(stages))
    gaps = []
    for (day, room), room_visits in by_room_day.items():
        room_visits.sort(key=lambda visit: visit[0] or visit[2])
        for before, after in zip(room_visits, room_visits[1:], strict=False):
            if before[1] is None or after[0] is None:
                continue  # one of the two has not been through the room yet
            planned = round(minutes_between(before[3], after[2]))
            gaps.append(Turnover(day, room, before[1], after[0], planned))
    return Turnovers(period, gaps, _turnover_rooms(gaps, period))


def _visit(stages: list[StageRow]) -> tuple:
    """(entered, released, planned entry, planned release) of one case's time in a room."""
    started = [s[ACTUAL_START] for s in stages]
    ended = [s[ACTUAL_END] for s in stages]
    return (
        min(started) if all(started) else None,
        max(ended) if all(ended) else None,
        min(s[PLANNED_START] for s in stages),
        max(s[PLANNED_END] for s in stages),
    )


def _turnover_rooms(gaps: list[Turnover], period: Period) -> list[RoomTurnover]:
    rooms: dict[str, list[Turnover]] = defaultdict(list)
    for gap in gaps:
        rooms[gap.room].append(gap)
    lines = []
    for room in sorted(rooms):
        mine = rooms[room]
        by_week: dict[date, list[int]] = defaultdict(list)
        for gap in mine:
            by_week[week_of(gap.day)].append(gap.minutes)
        lines.append(RoomTurnover(
            room, [_median(by_week[week]) for week in period.weeks], len(mine),
            _median([gap.minutes for gap in mine]), _median([gap.planned_minutes for gap in mine]),
        ))
    return lines


def _median(values: list[float]) -> int | None:
    return round(median(values)) if values else None


def kind_label(resource: Resource) -> str:
    """As resource.get_kind_display(), which looks the label up anew (slowly) at every call."""
    return str(KIND_LABELS.get(resource.kind, resource.kind))


def open_hours(site: Site, period: Period) -> dict[date, tuple[datetime, datetime]]:
    """Each open day of the period: when the site opens and closes, as UTC instants."""
    weekly = {hours.weekday: hours for hours in OpeningHours.objects.filter(site=site)}
    result = {}
    for day in period.days:
        hours = weekly.get(day.weekday())
        if hours is not None:
            result[day] = (
                timing.local_instant(day, hours.opens, period.zone),
                timing.local_instant(day, hours.closes, period.zone),
            )
    return result


def _overlap(start: datetime, end: datetime, window: tuple[datetime, datetime]) -> float:
    """Minutes of start-end within the window (minutes_between, inline: ~20,000 calls a year)."""
    opens, closes = window
    return max(0.0, (min(end, closes) - max(start, opens)).total_seconds() / 60)
