"""How full the rooms and bays were, whether each room's first case started on time, and how
long rooms stood empty between cases.

Each selector is given the period's stage figures (PeriodStages, scheduling/reports/stages.py:
minutes per room or bay and week within opening hours, each room's first procedure of each day,
each gap between two patients in a room), which a caller asking for several reports works out
once and hands to each, and lays them out by room, bay and week.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from ..models import Resource, ResourceKind, Site
from .period import Period, minutes_between, percent, week_of
from .stages import PeriodStages

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
    order = list(ResourceKind.values)  # rooms first: the scarce resource
    resources = sorted(
        (r for r in stages.resources.values()
         if r.site_id == site.pk and (r.active or r.pk in stages.used)),
        key=lambda r: (order.index(r.kind) if r.kind in order else len(order), r.name),
    )

    def blank(name: str, resource: Resource) -> ResourceUse:
        weeks = {week: Use() for week in period.weeks}
        return ResourceUse(name, kind_label(resource), weeks, resource.kind)

    lines = {r.pk: blank(r.name, r) for r in resources}
    open_minutes: dict[date, float] = defaultdict(float)
    for day, (opens, closes) in stages.hours.items():
        open_minutes[week_of(day)] += minutes_between(opens, closes)
    for line in lines.values():
        for week, minutes in open_minutes.items():
            line.add(week, Use(open_minutes=minutes))
    for (resource_id, week), (planned, actual) in sorted(stages.use.items()):
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
    firsts = [FirstCase(*first) for first in stages.first_starts]
    weeks = {week: Rate(week) for week in period.weeks}
    total = Rate(period.start)
    for first in firsts:
        on_time = first.on_time
        if on_time is None:
            continue  # not started (yet): neither on time nor late
        for rate in (weeks[week_of(first.day)], total):
            rate.started += 1
            rate.on_time += on_time
    return FirstCases(period, firsts, list(weeks.values()), total)


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
    gaps = [
        Turnover(day, room, released, next_start,
                 round(minutes_between(planned_release, planned_entry)))
        for day, room, released, next_start, planned_release, planned_entry in stages.gaps
    ]
    return Turnovers(period, gaps, _turnover_rooms(gaps, period))


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
