"""Where a case fits on one day at one site: the slot search shared by availability and booking.

`DayBook.load` reads the day once (opening hours, rooms and bays, who is busy when: unit_day.py,
shared with the day planner) with a fixed number of queries; the DayBook then answers in memory
for every candidate start on the 5-minute grid.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from . import timing
from .models import Case, ProcedureType, Resource, Site, Surgeon
from .timing import CaseTimes, SiteRules, StageRule
from .unit_day import BusyStage, Shift, UnitDay

# Busy times are kept as seconds since 1970 (UTC): a full day is hundreds of them, and numbers
# are compared many times faster than aware datetimes.
Interval = tuple[float, float]


@dataclass(frozen=True)
class Slot:
    times: CaseTimes
    resources: tuple[Resource, ...]  # one per stage, in stage order
    surgeon: Surgeon | None


@dataclass(frozen=True)
class Pinned:
    """The rooms and bays (one per stay, in stay order) and the surgeon a case must get: a day
    plan's choice, booked as proposed rather than chosen again."""

    resource_ids: tuple[int, ...]
    surgeon_id: int | None = None


def site_rules(site: Site) -> SiteRules:
    return SiteRules(
        zone=site.zone,
        check_in_minutes=site.check_in_minutes,
        fasting_solids_hours=site.fasting_solids_hours,
        fasting_clear_liquids_hours=site.fasting_clear_liquids_hours,
        fasting_solids_from_midnight=site.fasting_solids_from_midnight,
    )


def stage_rules(procedure_type: ProcedureType) -> list[StageRule]:
    return [
        StageRule(
            kind=t.kind,
            resource_kind=t.resource_kind,
            base_minutes=t.base_minutes,
            minutes_per_extra_level=t.minutes_per_extra_level,
            needs_surgeon=t.needs_surgeon,
            turnover_minutes=t.turnover_minutes,
        )
        for t in procedure_type.stage_templates.all()
    ]


def _clash_end(busy: list[Interval], start: float, end: float) -> float | None:
    """When the busy intervals overlapping [start, end) are over, or None if none overlaps."""
    ends = [b_end for b_start, b_end in busy if b_start < end and start < b_end]
    return max(ends) if ends else None


class DayBook:
    """One case's shape against one day of a site: built from plain data (a UnitDay, the case's
    stage rules and the stages already booked), so it answers without the database;
    `DayBook.load` reads them."""

    def __init__(
        self,
        *,
        unit_day: UnitDay,
        rules: list[StageRule],
        levels: int,
        busy: Iterable[BusyStage] = (),
        surgeon: Surgeon | None = None,
    ) -> None:
        self.site = unit_day.site
        self.day = unit_day.day
        self.levels = levels
        self.requested_surgeon = surgeon
        self.rules = rules
        self.site_rules = site_rules(self.site)
        self._shape()
        self.opens = unit_day.opens
        self.closes = unit_day.closes
        self.resources_by_kind: dict[str, list[Resource]] = defaultdict(list)
        for resource in unit_day.resources:
            self.resources_by_kind[resource.kind].append(resource)
        self.surgeon_shifts: list[Shift] = unit_day.shifts
        self.closures = unit_day.closures
        self.closed = self._closed(unit_day)
        self.pinned: Pinned | None = None
        self.resource_busy: dict[int, list[Interval]] = defaultdict(list)
        self.surgeon_busy: dict[int, list[Interval]] = defaultdict(list)
        for stage in busy:
            self.resource_busy[stage.resource_id].append((stage.start, stage.held_until))
            if stage.surgeon_id is not None:
                self.surgeon_busy[stage.surgeon_id].append((stage.start, stage.end))

    @classmethod
    def load(
        cls,
        *,
        site: Site,
        procedure_type: ProcedureType,
        levels: int,
        day: date,
        surgeon: Surgeon | None = None,
        exclude_case_id: int | None = None,
    ) -> "DayBook":
        """The day read from the database in a fixed number of queries; `exclude_case_id`: a
        case being moved, whose own stages do not stand in its way."""
        rules = stage_rules(procedure_type)
        unit_day = UnitDay.load(site=site, day=day, surgeon=surgeon)
        # Every stage that can touch a case placed inside the opening hours: the new case's
        # rooms and bays are held from opening at the earliest to closing plus its turnover.
        max_turnover = max((rule.turnover_minutes for rule in rules), default=0)
        busy = unit_day.busy(
            after_closing=timedelta(minutes=max_turnover),
            exclude_case_ids=() if exclude_case_id is None else (exclude_case_id,),
        )
        return cls(unit_day=unit_day, rules=rules, levels=levels, busy=busy, surgeon=surgeon)

    @classmethod
    def for_move(cls, *, case: Case, day: date) -> "DayBook":
        """The day as `case` would find it if moved there: its own stages set aside, and its
        surgeon kept only when the patient asked for them by name. The staff's move page, the
        patient's "another time" and the reschedule service all read a move this way."""
        return cls.load(
            site=case.site,
            procedure_type=case.procedure_type,
            levels=case.levels,
            day=day,
            surgeon=case.surgeon if case.surgeon_requested else None,
            exclude_case_id=case.pk,
        )

    def pin(self, pinned: Pinned | None) -> None:
        """From now on, fit only in these rooms, bays and surgeon (None: any free ones)."""
        self.pinned = pinned

    def pinned_of(self, slot: Slot) -> Pinned:
        """The slot's rooms, bays (one per stay) and surgeon as a pin: a booking pinned to
        them gets exactly this slot's, as a hold keeps them."""
        stays = [slot.resources[self.stage_holds.index(stay)].pk for stay in range(len(self.holds))]
        return Pinned(tuple(stays), slot.surgeon.pk if slot.surgeon else None)

    def _units_for(self, index: int, kind: str) -> list[Resource]:
        units = self.resources_by_kind.get(kind, [])
        if self.pinned is None:
            return units
        wanted = self.pinned.resource_ids[index] if index < len(self.pinned.resource_ids) else None
        return [unit for unit in units if unit.pk == wanted]

    def _closed(self, unit_day: UnitDay) -> str | None:
        """Why a closure keeps this case off the whole day, or None: the site is closed, the
        surgeon asked for is on leave, or every room or bay of a kind the case needs is closed
        (another of the kind still open is simply used instead)."""
        if unit_day.site_closure is not None:
            return "site_closed"
        if self.requested_surgeon is not None and unit_day.on_leave(self.requested_surgeon):
            return "surgeon_on_leave"
        closed_kinds = {resource.kind for resource in unit_day.closed_resources}
        if any(kind in closed_kinds and not self.resources_by_kind.get(kind)
               for kind, _, _ in self.holds):
            return "resource_closed"
        return None

    def times_at(self, procedure_start: datetime) -> CaseTimes:
        return timing.case_times(self.rules, self.levels, procedure_start, self.site_rules)

    def _shape(self) -> None:
        """The case relative to its procedure start. Durations are fixed in UTC, so trying
        another start only shifts these offsets; full times are worked out for the chosen one."""
        origin = datetime(2000, 1, 3, tzinfo=UTC)
        times = self.times_at(origin)
        self.lead = origin - times.arrival_at
        self.tail = times.ends_at - origin
        holds = sorted({stage.hold for stage in times.stages})
        self.stage_holds = [holds.index(stage.hold) for stage in times.stages]
        self.holds = []
        for hold in holds:
            stages = [stage for stage in times.stages if stage.hold == hold]
            self.holds.append(
                (
                    stages[0].resource_kind,
                    (stages[0].start - origin).total_seconds(),
                    (stages[-1].held_until - origin).total_seconds(),
                )
            )
        self.surgeon_spans = [
            ((stage.start - origin).total_seconds(), (stage.end - origin).total_seconds())
            for stage in times.stages
            if stage.needs_surgeon
        ]

    def fit(self, procedure_start: datetime) -> tuple[Slot | None, str | None]:
        """The slot at this start, or None and the code of the first reason it does not fit."""
        slot, reason, _ = self._fit(procedure_start)
        return slot, reason

    def _fit(self, start: datetime) -> tuple[Slot | None, str | None, datetime | None]:
        """(slot, None, None) or (None, reason, the earliest start worth trying next)."""
        if self.opens is None:
            return None, "site_closed", None
        if self.closed is not None:
            return None, self.closed, None
        if start - self.lead < self.opens or start + self.tail > self.closes:
            return None, "outside_opening_hours", None
        resources, retry_at = self._free_resources(start)
        if resources is None:
            return None, "slot_taken", retry_at
        surgeon = None
        if self.surgeon_spans:
            surgeon = self._free_surgeon(start)
            if surgeon is None:
                return None, "surgeon_unavailable", None
        slot = Slot(
            times=self.times_at(start),
            resources=tuple(resources[hold] for hold in self.stage_holds),
            surgeon=surgeon,
        )
        return slot, None, None

    def candidate_starts(self, arrival_not_before: datetime | None = None) -> list[datetime]:
        """Procedure starts on the grid whose whole case lies inside opening hours."""
        if self.opens is None or self.closed is not None:
            return []
        earliest_arrival = self.opens
        if arrival_not_before is not None:
            earliest_arrival = max(earliest_arrival, arrival_not_before)
        start = timing.next_on_grid(earliest_arrival + self.lead, self.site.zone)
        starts = []
        while start + self.tail <= self.closes:
            starts.append(start)
            start += timedelta(minutes=timing.GRID_MINUTES)
        return starts

    def free_slots(self, arrival_not_before: datetime | None = None) -> list[Slot]:
        return list(self._scan(arrival_not_before))

    def first_free(self, arrival_not_before: datetime | None = None) -> Slot | None:
        return next(self._scan(arrival_not_before), None)

    def _scan(self, arrival_not_before: datetime | None) -> Iterator[Slot]:
        retry_at = None
        for start in self.candidate_starts(arrival_not_before):
            if retry_at is not None and start < retry_at:
                continue  # every room or bay of some kind is still taken
            slot, _, retry_at = self._fit(start)
            if slot is not None:
                yield slot

    def _free_surgeon(self, start: datetime) -> Surgeon | None:
        at = start.timestamp()
        spans = [(at + begin, at + end) for begin, end in self.surgeon_spans]
        for surgeon, shift_start, shift_end in self.surgeon_shifts:
            if self.pinned is not None and self.pinned.surgeon_id not in (None, surgeon.pk):
                continue
            shift_start, shift_end = shift_start.timestamp(), shift_end.timestamp()
            busy = self.surgeon_busy[surgeon.pk]
            if all(
                shift_start <= begin and end <= shift_end and _clash_end(busy, begin, end) is None
                for begin, end in spans
            ):
                return surgeon
        return None

    def _free_resources(self, start: datetime) -> tuple[list[Resource] | None, datetime | None]:
        """A free room or bay for each hold, or None and when one of the missing kind frees up."""
        chosen = []
        at = start.timestamp()
        for index, (kind, begin, until) in enumerate(self.holds):
            begin, until = at + begin, at + until
            frees_at = None
            for resource in self._units_for(index, kind):
                clash_end = _clash_end(self.resource_busy[resource.pk], begin, until)
                if clash_end is None:
                    chosen.append(resource)
                    break
                frees_at = clash_end if frees_at is None else min(frees_at, clash_end)
            else:
                # No unit of this kind is free. Each stays taken at least until its clash ends,
                # so no start before the earliest of those can fit.
                if frees_at is None:
                    return None, None
                return None, start + timedelta(seconds=frees_at - begin)
        return chosen, None
