"""The day board of a site: one selector that loads the day and projects it.

`day_board_get` costs four queries for 5 cases or 300: the site's rooms and bays, its opening
hours that weekday, the day's cases with their patients (and the INR-check and not-reached flags
as subqueries), and the day's stages, both as plain rows (rows.py). Everything after that
is arithmetic in Python, on UTC instants; the page and the JSON format what they show
themselves.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from .. import timing
from ..flags import FLAG_LABELS, case_flags
from ..models import (
    IN_PROGRESS_STATUSES,
    RELEASED_STATUSES,
    CaseStatus,
    OpeningHours,
    Resource,
    ResourceKind,
    Site,
    StageKind,
)
from ..timing import local_hm
from .projection import LATE_AFTER_MINUTES, Projection, StageFacts, stages_project
from .rows import BoardCase, cases_of_day, stages_of_day

# A stage's kind as the board says it ("Cement set"), without a model instance to ask.
STAGE_LABELS = dict(StageKind.choices)

# Rows top to bottom in the order a patient moves through the unit.
ROW_ORDER = [
    ResourceKind.PRE_OP_BAY,
    ResourceKind.PROCEDURE_ROOM,
    ResourceKind.HOLDING_BAY,
    ResourceKind.RECOVERY_BAY,
]
BAY_KINDS = (ResourceKind.PRE_OP_BAY, ResourceKind.RECOVERY_BAY, ResourceKind.HOLDING_BAY)
# Shown when a site has no opening hours that day but still has cases on it.
DEFAULT_OPENS, DEFAULT_CLOSES = time(7), time(18)


@dataclass(slots=True)
class Block:
    """One stage on its row: the planned time as an outline, what happened or is projected
    filled. Positions are percentages of the time axis."""

    stage: StageFacts
    case: BoardCase
    state: str  # done, running, projected (not started)
    start: datetime  # actual or projected
    end: datetime
    late: bool
    delay_minutes: int
    planned_left: float
    planned_width: float
    left: float
    width: float


@dataclass
class Row:
    resource: Resource
    blocks: list[Block] = field(default_factory=list)


@dataclass
class CaseLine:
    case: BoardCase
    flags: list[str]
    late: bool
    delay_minutes: int
    # stage, start, end (actual or projected), state
    stages: list[tuple[StageFacts, datetime, datetime, str]]
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
    # The page's steps (pages/board_actions.py) and the nurses' records they read (bedside.py).
    steps: list = field(default_factory=list)
    bedside: object = None

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
    hour_width: float  # one hour, in percent of the axis
    now_left: float | None  # None when now is off the axis
    late_after_minutes: int = LATE_AFTER_MINUTES
    # Patients still to come who may be told a later arrival (pages/board_actions.py).
    late_notices: int = 0

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
    cases = cases_of_day(site, day)
    case_of = {case.pk: case for case in cases}
    stages_of: dict[int, list[StageFacts]] = {case.pk: [] for case in cases}
    for stage in stages_of_day(site, day):
        if stage.case_id in stages_of:  # a case booked between the two queries: next refresh
            stages_of[stage.case_id].append(stage)
    stages = [stage for case_stages in stages_of.values() for stage in case_stages]
    projections = stages_project(stages, now=now, late_after_minutes=late_after_minutes)

    opens = closes = None
    if hours is not None:
        opens = timing.local_instant(day, hours.opens, zone)
        closes = timing.local_instant(day, hours.closes, zone)
    axis_start = opens or timing.local_instant(day, DEFAULT_OPENS, zone)
    axis_end = closes or timing.local_instant(day, DEFAULT_CLOSES, zone)
    # A day that runs past closing (or a stage booked outside the hours) widens the axis.
    for stage in stages:
        projection = projections.get(stage.id)
        axis_start = min(axis_start, stage.planned_start, stage.actual_start or axis_start)
        axis_end = max(
            axis_end, stage.held_until, stage.actual_end or axis_end,
            projection.end if projection else axis_end,
        )
    axis_start, axis_end = _whole_hours(axis_start, axis_end, zone)
    origin, span = axis_start.timestamp(), (axis_end - axis_start).total_seconds()
    scale = 100 / span

    def left(instant: datetime) -> float:  # percent of the axis, clamped to it
        return round(min(max((instant.timestamp() - origin) * scale, 0.0), 100.0), 3)

    rows = {resource.pk: Row(resource) for resource in resources if resource.active}
    resource_of = {resource.pk: resource for resource in resources}
    times_of = {stage.id: _times(stage, projections) for stage in stages}
    for stage in stages:
        start, end, state, projection = times_of[stage.id]
        row = rows.get(stage.resource_id)
        if row is None:  # a resource switched off after the booking: show it anyway
            row = rows[stage.resource_id] = Row(resource_of[stage.resource_id])
        planned_left, left_at = left(stage.planned_start), left(start)
        row.blocks.append(Block(
            stage=stage,
            case=case_of[stage.case_id],
            state=state,
            start=start,
            end=end,
            late=bool(projection and projection.late),
            delay_minutes=_minutes(projection.delay) if projection else 0,
            planned_left=planned_left,
            planned_width=round(left(stage.planned_end) - planned_left, 3),
            left=left_at,
            width=round(left(end) - left_at, 3),
        ))
    ordered_rows = sorted(
        rows.values(),
        key=lambda row: (_kind_rank(row.resource.kind), row.resource.name),
    )

    lines = [_case_line(case, stages_of[case.pk], times_of) for case in cases]
    for line in lines:
        line.arrival = local_hm(line.case.arrival_at, zone)
        line.procedure = local_hm(line.case.procedure_start, zone)
        line.ready = local_hm(line.ends_at, zone) if line.ends_at else ""
        for stage, start, _, state in line.stages:
            _countdown(line, stage, now)
            if stage.kind == "procedure" and start != stage.planned_start:
                verb = "now" if state == "projected" else "began"
                line.procedure_moved = f"{verb} {local_hm(start, zone)}"
                line.procedure_delay_minutes = max(_minutes(start - stage.planned_start), 0)
    summary = _summary(
        lines, resources=resources, stages=stages, now=now, opens=opens, closes=closes
    )
    ticks = []
    hour_width = round(100 * 3600 / span, 4)
    tick = axis_start
    while tick <= axis_end:
        ticks.append(Tick(local_hm(tick, zone), left(tick)))
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
        hour_width=hour_width,
        now_left=left(now) if axis_start <= now <= axis_end else None,
        late_after_minutes=late_after_minutes,
    )


def _times(
    stage: StageFacts, projections: dict[int, Projection]
) -> tuple[datetime, datetime, str, Projection | None]:
    """The stage's start and end as best known, and whether it is done, running or to come."""
    if stage.actual_end is not None:
        return stage.actual_start or stage.planned_start, stage.actual_end, "done", None
    projection = projections[stage.id]
    state = "running" if projection.started else "projected"
    return projection.start, projection.end, state, projection


def _case_line(
    case: BoardCase,
    stages: list[StageFacts],
    times_of: dict[int, tuple[datetime, datetime, str, Projection | None]],
) -> CaseLine:
    timed = [(stage, *times_of[stage.id]) for stage in stages]
    late_projections = [p for (_, _, _, _, p) in timed if p is not None and p.late]
    return CaseLine(
        case=case,
        flags=case_flags(
            status=case.status,
            driver_name=case.driver_name,
            driver_phone=case.driver_phone,
            inr_check=case.inr_check,
            screening_override_reason=case.screening_override_reason,
            not_reached=case.not_reached,
            patient_phone=case.patient.phone,
            patient_email=case.patient.email,
        ),
        late=bool(late_projections),
        delay_minutes=max((_minutes(p.delay) for p in late_projections), default=0),
        stages=[(stage, start, end, state) for (stage, start, end, state, _) in timed],
        ends_at=timed[-1][2] if timed else None,
    )


# Stages that run against a clock the nurse watches: the board counts down their planned length.
COUNTDOWN_KINDS = (StageKind.CEMENT_SET, StageKind.RECOVERY)


def _countdown(line: CaseLine, stage: StageFacts, now: datetime) -> None:
    if stage.kind not in COUNTDOWN_KINDS or stage.actual_start is None or stage.actual_end:
        return
    left = stage.actual_start + (stage.planned_end - stage.planned_start) - now
    name = STAGE_LABELS[stage.kind]
    if left > timedelta(0):
        line.timer = f"{name}: {math.ceil(left.total_seconds() / 60)} min left"
    else:
        line.timer = f"{name}: time up +{_minutes(-left)} min"
        line.timer_up = True


def _summary(
    lines: list[CaseLine],
    *,
    resources: list[Resource],
    stages: list[StageFacts],
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
    stages: list[StageFacts],
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


def _whole_hours(start: datetime, end: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The axis from the site's whole hour at or before `start` to the one at or after `end`.

    Whole hours on the site's clock, not UTC's: India is 5 h 30 from UTC and Adelaide 9 h 30 or
    10 h 30, so UTC's hours fall on the half hour there. The ceiling adds its hour in UTC, so an
    axis that crosses a DST change still has hours of 3,600 s (every change the unit's zones
    make is a whole hour, which keeps the ticks on the site's whole hours too)."""
    floor = _hour_floor(start, zone)
    ceiling = _hour_floor(end, zone)
    if ceiling < end:
        ceiling += timedelta(hours=1)
    return floor, ceiling


def _hour_floor(instant: datetime, zone: tzinfo) -> datetime:
    local = instant.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _kind_rank(kind: str) -> int:
    return ROW_ORDER.index(kind) if kind in ROW_ORDER else len(ROW_ORDER)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
