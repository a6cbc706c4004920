"""The day board's case list: one line per case, with what the nurse reads in its row (times on
the site's clock, the countdown of a running cement set or recovery, the later arrival the
patient was told) and, from pages/board_actions.py, its one-click steps. Plain data: the page
and the JSON write their own markup."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from notifications.models import running_late_note_delay

from ..flags import FLAG_LABELS, case_flags
from ..models import RELEASED_STATUSES, CaseStatus, StageKind
from ..timing import local_hm
from .projection import Projection, StageFacts
from .rows import BoardCase

# A stage's kind as the board says it ("Cement set"), without a model instance to ask.
STAGE_LABELS = dict(StageKind.choices)

# Stages that run against a clock the nurse watches: the board counts down their planned length.
COUNTDOWN_KINDS = (StageKind.CEMENT_SET, StageKind.RECOVERY)

# The stage a case's status says is under way. The status moves on when the nurse starts the
# next stage, so once this one is finished the row says so rather than show it still running.
STAGE_OF_STATUS = {
    CaseStatus.IN_PRE_OP: StageKind.PRE_OP,
    CaseStatus.IN_PROCEDURE: StageKind.PROCEDURE,
    CaseStatus.CEMENT_SETTING: StageKind.CEMENT_SET,
    CaseStatus.IN_RECOVERY: StageKind.RECOVERY,
}

# A stage's start and end (actual or projected), its state, and its projection if not finished.
Timed = tuple[datetime, datetime, str, Projection | None]


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
    # The stage of the case's status is over and the next not started: "Procedure done 09:40".
    stage_done: str = ""
    # The newest later arrival the patient was told (running late): the new time and when told.
    told_delay_minutes: int = 0
    told_arrival: str = ""
    told_at: str = ""
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


def case_line_make(
    case: BoardCase,
    stages: list[StageFacts],
    times_of: dict[int, Timed],
    *,
    zone: tzinfo,
    now: datetime,
) -> CaseLine:
    timed = [(stage, *times_of[stage.id]) for stage in stages]
    late_projections = [p for (_, _, _, _, p) in timed if p is not None and p.late]
    line = CaseLine(
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
            allergy_contrast=case.patient.allergy_contrast,
            allergy_latex=case.patient.allergy_latex,
            on_closed_day=case.on_closed_day,
        ),
        late=bool(late_projections),
        delay_minutes=max((minutes(p.delay) for p in late_projections), default=0),
        stages=[(stage, start, end, state) for (stage, start, end, state, _) in timed],
        ends_at=timed[-1][2] if timed else None,
        arrival=local_hm(case.arrival_at, zone),
        procedure=local_hm(case.procedure_start, zone),
    )
    line.ready = local_hm(line.ends_at, zone) if line.ends_at else ""
    _told(line, zone)
    for stage, start, _, state in line.stages:
        _countdown(line, stage, now)
        if stage.actual_end and STAGE_OF_STATUS.get(case.status) == stage.kind:
            line.stage_done = f"{STAGE_LABELS[stage.kind]} done {local_hm(stage.actual_end, zone)}"
        if stage.kind == StageKind.PROCEDURE and start != stage.planned_start:
            verb = "now" if state == "projected" else "began"
            line.procedure_moved = f"{verb} {local_hm(start, zone)}"
            line.procedure_delay_minutes = max(minutes(start - stage.planned_start), 0)
    return line


def time_left(stage: StageFacts, now: datetime) -> timedelta | None:
    """Of a running cement set or recovery, the time left of its planned length (negative once
    past it); None for any other stage."""
    if stage.kind not in COUNTDOWN_KINDS or stage.actual_start is None or stage.actual_end:
        return None
    return stage.actual_start + stage.planned_duration - now


def timer_short(left: timedelta) -> str:
    """A countdown as a block on the time axis shows it: "23 min", or "+5 min" once past."""
    if left > timedelta(0):
        return f"{math.ceil(left.total_seconds() / 60)} min"
    return f"+{minutes(-left)} min"


def minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _told(line: CaseLine, zone: tzinfo) -> None:
    case = line.case
    delay = running_late_note_delay(case.told_note)
    if delay and case.told_at is not None:
        line.told_delay_minutes = delay
        line.told_arrival = local_hm(case.arrival_at + timedelta(minutes=delay), zone)
        line.told_at = local_hm(case.told_at, zone)


def _countdown(line: CaseLine, stage: StageFacts, now: datetime) -> None:
    left = time_left(stage, now)
    if left is None:
        return
    name = STAGE_LABELS[stage.kind]
    if left > timedelta(0):
        line.timer = f"{name}: {math.ceil(left.total_seconds() / 60)} min left"
    else:
        line.timer = f"{name}: time up +{minutes(-left)} min"
        line.timer_up = True
