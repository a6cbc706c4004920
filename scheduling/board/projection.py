"""When the stages of a day will start and end, given what has happened so far.

Pure: stages and `now` in, projected times out. No ORM, no settings. All instants are aware UTC
datetimes and durations are added in UTC, so a one-hour stage lasts 3,600 s across a DST change.

A stage cannot start
- before the stage before it in the same case has ended (actually, or as projected);
- before its room or bay is free: the stage before it on that resource, in planned order, has
  ended, plus that stage's turnover (held_until - planned_end: zero while the patient stays on for
  the next stage of the same hold, the cleaning time when they leave);
- before its planned start, while its patient is not in the unit yet: the patients still to
  come are told to arrive at their planned time, so an early finish does not pull them forward.
  A patient in the unit (a stage of theirs has started) moves on as soon as their last stage
  ends and the room or bay is free: cement sets from the moment it is injected, and a patient
  whose cement set ended early goes to recovery then, not at the planned time;
- before `now`, if it has not started yet.

A stage that has started keeps its actual start and is projected to end after its planned
duration, or now if that has passed and it is still running.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

LATE_AFTER_MINUTES = 5


@dataclass(frozen=True)
class StageFacts:
    id: int
    case_id: int
    kind: str
    position: int
    resource_id: int
    planned_start: datetime
    planned_end: datetime
    held_until: datetime
    actual_start: datetime | None = None
    actual_end: datetime | None = None

    @property
    def planned_duration(self) -> timedelta:
        return self.planned_end - self.planned_start

    @property
    def turnover(self) -> timedelta:
        return self.held_until - self.planned_end


@dataclass(frozen=True)
class Projection:
    stage_id: int
    start: datetime
    end: datetime
    started: bool
    late: bool
    # How far the projected end is after the planned one (never negative).
    delay: timedelta


def stages_project(
    stages: Iterable[StageFacts], *, now: datetime, late_after_minutes: int = LATE_AFTER_MINUTES
) -> dict[int, Projection]:
    """Projected start and end of every stage not finished, by stage id."""
    late_after = timedelta(minutes=late_after_minutes)
    stages = list(stages)
    in_unit = {stage.case_id for stage in stages if stage.actual_start is not None}
    # Planned order is a topological order: a stage's predecessors in its case and on its resource
    # are both planned to start before it.
    ordered = sorted(stages, key=lambda stage: (stage.planned_start, stage.case_id, stage.position))
    ends: dict[int, datetime] = {}  # stage id -> actual or projected end
    last_in_case: dict[int, StageFacts] = {}
    last_on_resource: dict[int, StageFacts] = {}
    projections: dict[int, Projection] = {}

    for stage in ordered:
        before_in_case = last_in_case.get(stage.case_id)
        before_on_resource = last_on_resource.get(stage.resource_id)
        last_in_case[stage.case_id] = stage
        last_on_resource[stage.resource_id] = stage

        if stage.actual_end is not None:
            ends[stage.id] = stage.actual_end
            continue
        if stage.actual_start is not None:
            start = stage.actual_start
            end = max(start + stage.planned_duration, now)
        else:
            floors = [now]
            if before_in_case is None or stage.case_id not in in_unit:
                floors.append(stage.planned_start)
            if before_in_case is not None:
                floors.append(ends[before_in_case.id])
            if before_on_resource is not None:
                floors.append(ends[before_on_resource.id] + before_on_resource.turnover)
            start = max(floors)
            end = start + stage.planned_duration
        ends[stage.id] = end
        delay = max(end - stage.planned_end, timedelta(0))
        projections[stage.id] = Projection(
            stage_id=stage.id,
            start=start,
            end=end,
            started=stage.actual_start is not None,
            late=delay > late_after,
            delay=delay,
        )
    return projections
