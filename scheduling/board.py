"""The day board of a site: one selector that loads the day and projects it.

`day_board_get` costs the same number of queries for 5 cases or 300: the site's rooms and bays,
its opening hours that weekday, and the day's cases with their patients, stages and held
medications (one query for the cases, with the not-reached flag of
selectors.cases_with_details, and two prefetches).
Everything after that is arithmetic in Python, on UTC instants.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch

from . import timing
from .models import (
    RELEASED_STATUSES,
    Case,
    CaseMedication,
    CaseStatus,
    OpeningHours,
    Resource,
    ResourceKind,
    Site,
    Stage,
)
from .projection import LATE_AFTER_MINUTES, Projection, StageFacts, stages_project

# Rows top to bottom in the order a patient moves through the unit.
ROW_ORDER = [
    ResourceKind.PRE_OP_BAY,
    ResourceKind.PROCEDURE_ROOM,
    ResourceKind.HOLDING_BAY,
    ResourceKind.RECOVERY_BAY,
]
BAY_KINDS = (ResourceKind.PRE_OP_BAY, ResourceKind.RECOVERY_BAY, ResourceKind.HOLDING_BAY)
IN_PROGRESS_STATUSES = (
    CaseStatus.CHECKED_IN,
    CaseStatus.IN_PRE_OP,
    CaseStatus.IN_PROCEDURE,
    CaseStatus.CEMENT_SETTING,
    CaseStatus.IN_RECOVERY,
)
FLAG_LABELS = {
    "not_confirmed": "Not confirmed",
    "driver_missing": "Driver missing",
    "inr_check": "INR check",
    "screening_overridden": "Screening overridden",
    "not_reached": "Not reached",
    "not_reachable": "No phone or email",
}
# Shown when a site has no opening hours that day but still has cases on it.
DEFAULT_OPENS, DEFAULT_CLOSES = time(7), time(18)


@dataclass
class Block:
    """One stage on its row: the planned time as an outline, what happened or is projected
    filled. Positions are percentages of the time axis."""

    stage: Stage
    case: Case
    state: str  # done, running, projected (not started)
    start: datetime  # actual or projected
    end: datetime
    late: bool
    delay_minutes: int
    planned_left: float
    planned_width: float
    left: float
    width: float
    # Pre-formatted for the page: formatting 1,200 blocks in the template costs more than the
    # whole selector (Django localises every number and converts every datetime again).
    planned_style: str = ""
    style: str = ""
    times: str = ""
    title: str = ""


@dataclass
class Row:
    resource: Resource
    blocks: list[Block] = field(default_factory=list)


@dataclass
class CaseLine:
    case: Case
    flags: list[str]
    late: bool
    delay_minutes: int
    stages: list[tuple[Stage, datetime, datetime, str]]  # stage, start, end (actual/projected), state
    ends_at: datetime | None  # actual or projected end of the last stage
    # Local wall-clock times for the page (HH:MM).
    arrival: str = ""
    procedure: str = ""
    procedure_moved: str = ""  # "began 08:40" or "now 09:20" when not at the planned time
    # How many minutes after its planned start the procedure began or is projected to begin.
    procedure_delay_minutes: int = 0
    ready: str = ""
    # A running cement set or recovery counts down to its planned length; at zero it alerts.
    timer: str = ""
    timer_up: bool = False

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        return [(flag, FLAG_LABELS[flag]) for flag in self.flags]

    @property
    def released(self) -> bool:
        return self.case.status in RELEASED_STATUSES


@dataclass
class Summary:
    planned: int
    in_progress: int
    done: int
    cancelled: int
    no_show: int
    late: int
    room_occupancy: float | None  # 0..1 of the open time so far, None before opening
    bay_occupancy: float | None


@dataclass
class Tick:
    label: str
    left: float


@dataclass
class DayBoard:
    site: Site
    day: date
    now: datetime
    axis_start: datetime
    axis_end: datetime
    opens: datetime | None
    closes: datetime | None
    rows: list[Row]
    cases: list[CaseLine]
    summary: Summary
    ticks: list[Tick]
    hour_width: str  # one hour of the axis, for the grid lines
    now_left: float | None  # None when now is off the axis
    late_after_minutes: int = LATE_AFTER_MINUTES

    @property
    def now_style(self) -> str:
        return "" if self.now_left is None else f"left: {self.now_left}%"

    @property
    def active_cases(self) -> list[CaseLine]:
        return [line for line in self.cases if not line.released]

    @property
    def released_cases(self) -> list[CaseLine]:
        return [line for line in self.cases if line.released]


def day_board_get(
    site: Site, day: date, now: datetime, *, late_after_minutes: int = LATE_AFTER_MINUTES
) -> DayBoard:
    zone = site.zone
    resources = list(Resource.objects.filter(site=site).order_by("name"))
    hours = OpeningHours.objects.filter(site=site, weekday=day.weekday()).first()
    cases = list(_cases_of_day(site, day))
    for case in cases:
        case.site = site

    stages = [stage for case in cases for stage in case.stages.all() if stage.active]
    projections = stages_project(
        (_facts(stage) for stage in stages), now=now, late_after_minutes=late_after_minutes
    )

    opens = closes = None
    if hours is not None:
        opens = timing.local_instant(day, hours.opens, zone)
        closes = timing.local_instant(day, hours.closes, zone)
    axis_start = opens or timing.local_instant(day, DEFAULT_OPENS, zone)
    axis_end = closes or timing.local_instant(day, DEFAULT_CLOSES, zone)
    # A day that runs past closing (or a stage booked outside the hours) widens the axis.
    for stage in stages:
        projection = projections.get(stage.pk)
        axis_start = min(axis_start, stage.planned_start, stage.actual_start or axis_start)
        axis_end = max(
            axis_end, stage.held_until, stage.actual_end or axis_end,
            projection.end if projection else axis_end,
        )
    axis_start, axis_end = _whole_hours(axis_start, axis_end)

    def left(instant: datetime) -> float:
        span = (axis_end - axis_start).total_seconds()
        return round(min(max((instant - axis_start).total_seconds() / span, 0.0), 1.0) * 100, 3)

    def hhmm(instant: datetime) -> str:
        return f"{instant.astimezone(zone):%H:%M}"

    rows = {resource.pk: Row(resource) for resource in resources if resource.active}
    resource_of = {resource.pk: resource for resource in resources}
    case_of = {case.pk: case for case in cases}
    for stage in stages:
        stage.resource = resource_of[stage.resource_id]
        case = case_of[stage.case_id]
        start, end, state, projection = _times(stage, projections)
        row = rows.get(stage.resource_id)
        if row is None:  # a resource switched off after the booking: show it anyway
            row = rows[stage.resource_id] = Row(stage.resource)
        block = Block(
            stage=stage,
            case=case,
            state=state,
            start=start,
            end=end,
            late=bool(projection and projection.late),
            delay_minutes=_minutes(projection.delay) if projection else 0,
            planned_left=left(stage.planned_start),
            planned_width=round(left(stage.planned_end) - left(stage.planned_start), 3),
            left=left(start),
            width=round(left(end) - left(start), 3),
        )
        block.planned_style = f"left: {block.planned_left}%; width: {block.planned_width}%"
        block.style = f"left: {block.left}%; width: {block.width}%"
        block.times = f"{hhmm(start)}–{hhmm(end)}"
        block.title = (
            f"{case.patient.last_name}, {case.patient.first_name}: {stage.get_kind_display()}, "
            f"planned {hhmm(stage.planned_start)}–{hhmm(stage.planned_end)}; {state} "
            f"{block.times}" + (f", late by {block.delay_minutes} min" if block.late else "")
        )
        row.blocks.append(block)
    ordered_rows = sorted(
        rows.values(),
        key=lambda row: (_kind_rank(row.resource.kind), row.resource.name),
    )

    lines = [_case_line(case, projections) for case in cases]
    for line in lines:
        line.arrival = hhmm(line.case.arrival_at)
        line.procedure = hhmm(line.case.procedure_start)
        line.ready = hhmm(line.ends_at) if line.ends_at else ""
        for stage, start, _, state in line.stages:
            _countdown(line, stage, now)
            if stage.kind == "procedure" and start != stage.planned_start:
                line.procedure_moved = f"{'now' if state == 'projected' else 'began'} {hhmm(start)}"
                line.procedure_delay_minutes = max(_minutes(start - stage.planned_start), 0)
    summary = _summary(
        lines, resources=resources, stages=stages, now=now, opens=opens, closes=closes
    )
    ticks = []
    hour_width = round(100 * 3600 / (axis_end - axis_start).total_seconds(), 4)
    tick = axis_start
    while tick <= axis_end:
        ticks.append(Tick(f"{tick.astimezone(zone):%H:%M}", left(tick)))
        tick += timedelta(hours=1)
    return DayBoard(
        site=site,
        day=day,
        now=now,
        axis_start=axis_start,
        axis_end=axis_end,
        opens=opens,
        closes=closes,
        rows=ordered_rows,
        cases=lines,
        summary=summary,
        ticks=ticks,
        hour_width=f"{hour_width}%",
        now_left=left(now) if axis_start <= now <= axis_end else None,
        late_after_minutes=late_after_minutes,
    )


def _cases_of_day(site: Site, day: date):
    """The day's cases with what the board shows: patients, surgeons, held medications and
    stages (their rooms and bays come from the site's list, already loaded)."""
    from notifications.models import Reminder, ReminderStatus

    not_reached = Reminder.objects.filter(
        case=OuterRef("pk"), status__in=[ReminderStatus.FAILED, ReminderStatus.UNKNOWN]
    )
    return (
        Case.objects.filter(site=site, day=day)
        .select_related("patient", "procedure_type", "surgeon")
        .annotate(not_reached=Exists(not_reached))
        .prefetch_related(
            Prefetch("stages", Stage.objects.order_by("position")),
            Prefetch("held_medications", CaseMedication.objects.select_related("drug")),
        )
        .order_by("procedure_start", "pk")
    )


def _facts(stage: Stage) -> StageFacts:
    return StageFacts(
        id=stage.pk,
        case_id=stage.case_id,
        kind=stage.kind,
        position=stage.position,
        resource_id=stage.resource_id,
        planned_start=stage.planned_start,
        planned_end=stage.planned_end,
        held_until=stage.held_until,
        actual_start=stage.actual_start,
        actual_end=stage.actual_end,
    )


def _times(
    stage: Stage, projections: dict[int, Projection]
) -> tuple[datetime, datetime, str, Projection | None]:
    """The stage's start and end as best known, and whether it is done, running or to come."""
    if stage.actual_end is not None:
        return stage.actual_start or stage.planned_start, stage.actual_end, "done", None
    projection = projections[stage.pk]
    state = "running" if projection.started else "projected"
    return projection.start, projection.end, state, projection


def _case_line(case: Case, projections: dict[int, Projection]) -> CaseLine:
    stages = [stage for stage in case.stages.all() if stage.active]
    timed = [(stage, *_times(stage, projections)) for stage in stages]
    late_projections = [p for (_, _, _, _, p) in timed if p is not None and p.late]
    patient = case.patient
    checks = {
        "not_confirmed": case.status == CaseStatus.BOOKED,
        "driver_missing": not (case.driver_name and case.driver_phone),
        "inr_check": any(held.drug.inr_check for held in case.held_medications.all()),
        "screening_overridden": bool(case.screening_override_reason),
        "not_reached": bool(getattr(case, "not_reached", False)),
        "not_reachable": not (patient.phone or patient.email),
    }
    return CaseLine(
        case=case,
        flags=[flag for flag, raised in checks.items() if raised],
        late=bool(late_projections),
        delay_minutes=max((_minutes(p.delay) for p in late_projections), default=0),
        stages=[(stage, start, end, state) for (stage, start, end, state, _) in timed],
        ends_at=timed[-1][2] if timed else None,
    )


TIMED_KINDS = ("cement_set", "recovery")


def _countdown(line: CaseLine, stage: Stage, now: datetime) -> None:
    if stage.kind not in TIMED_KINDS or stage.actual_start is None or stage.actual_end:
        return
    left = stage.actual_start + (stage.planned_end - stage.planned_start) - now
    name = "Cement set" if stage.kind == "cement_set" else "Recovery"
    if left > timedelta(0):
        line.timer = f"{name}: {math.ceil(left.total_seconds() / 60)} min left"
    else:
        line.timer = f"{name}: time up +{_minutes(-left)} min"
        line.timer_up = True


def _summary(
    lines: list[CaseLine],
    *,
    resources: list[Resource],
    stages: list[Stage],
    now: datetime,
    opens: datetime | None,
    closes: datetime | None,
) -> Summary:
    statuses = [line.case.status for line in lines]
    room_ids = {r.pk for r in resources if r.kind == ResourceKind.PROCEDURE_ROOM}
    bay_ids = {r.pk for r in resources if r.kind in BAY_KINDS}
    open_rooms = sum(1 for r in resources if r.active and r.pk in room_ids)
    open_bays = sum(1 for r in resources if r.active and r.pk in bay_ids)
    return Summary(
        planned=sum(1 for status in statuses if status not in RELEASED_STATUSES),
        in_progress=sum(1 for status in statuses if status in IN_PROGRESS_STATUSES),
        done=statuses.count(CaseStatus.DISCHARGED),
        cancelled=statuses.count(CaseStatus.CANCELLED),
        no_show=statuses.count(CaseStatus.NO_SHOW),
        late=sum(1 for line in lines if line.late and not line.released),
        room_occupancy=_occupancy(stages, room_ids, open_rooms, now, opens, closes),
        bay_occupancy=_occupancy(stages, bay_ids, open_bays, now, opens, closes),
    )


def _occupancy(
    stages: list[Stage],
    resource_ids: set[int],
    count: int,
    now: datetime,
    opens: datetime | None,
    closes: datetime | None,
) -> float | None:
    """Minutes patients actually spent in these rooms or bays since opening, over the minutes
    they were open so far."""
    if opens is None or closes is None or now <= opens or count == 0:
        return None
    until = min(now, closes)
    used = timedelta(0)
    for stage in stages:
        if stage.resource_id not in resource_ids or stage.actual_start is None:
            continue
        start = max(stage.actual_start, opens)
        end = min(stage.actual_end or now, until)
        if end > start:
            used += end - start
    return used / ((until - opens) * count)


def _whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The axis from the hour at or before `start` to the hour at or after `end` (in UTC: every
    zone this unit runs in is a whole number of hours from UTC)."""
    floor = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    ceiling = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if ceiling < end:
        ceiling += timedelta(hours=1)
    return floor, ceiling


def _kind_rank(kind: str) -> int:
    return ROW_ORDER.index(kind) if kind in ROW_ORDER else len(ROW_ORDER)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
