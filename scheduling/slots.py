"""Where a case fits on one day at one site: the slot search shared by availability and booking.

A DayBook loads the day once (opening hours, rooms and bays, who is busy when) with a fixed
number of queries, then answers in memory for every candidate start on the 5-minute grid.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q

from . import timing
from .models import OpeningHours, ProcedureType, Resource, Site, Stage, Surgeon, SurgeonHours
from .timing import CaseTimes, SiteRules, StageRule

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    times: CaseTimes
    resources: tuple[Resource, ...]  # one per stage, in stage order
    surgeon: Surgeon | None


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


def _overlaps(busy: list[Interval], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


class DayBook:
    def __init__(
        self,
        *,
        site: Site,
        procedure_type: ProcedureType,
        levels: int,
        day: date,
        surgeon: Surgeon | None = None,
        exclude_case_id: int | None = None,
    ) -> None:
        self.site = site
        self.day = day
        self.levels = levels
        self.requested_surgeon = surgeon
        self.rules = stage_rules(procedure_type)
        self.site_rules = site_rules(site)
        zone = site.zone

        hours = OpeningHours.objects.filter(site=site, weekday=day.weekday()).first()
        self.opens = timing.local_instant(day, hours.opens, zone) if hours else None
        self.closes = timing.local_instant(day, hours.closes, zone) if hours else None

        self.resources_by_kind: dict[str, list[Resource]] = defaultdict(list)
        for resource in Resource.objects.filter(site=site, active=True).order_by("name"):
            self.resources_by_kind[resource.kind].append(resource)

        # A surgeon works at most one shift a weekday; one without a shift today cannot operate.
        shifts = SurgeonHours.objects.filter(weekday=day.weekday(), surgeon__active=True)
        shifts = shifts.filter(surgeon=surgeon) if surgeon else shifts.filter(surgeon__sites=site)
        self.surgeon_shifts: list[tuple[Surgeon, datetime, datetime]] = [
            (
                shift.surgeon,
                timing.local_instant(day, shift.opens, zone),
                timing.local_instant(day, shift.closes, zone),
            )
            for shift in shifts.select_related("surgeon").order_by("surgeon__name")
        ]

        self.resource_busy: dict[int, list[Interval]] = defaultdict(list)
        self.surgeon_busy: dict[int, list[Interval]] = defaultdict(list)
        if self.opens is None:
            return
        # Every stage that can touch a case placed inside today's opening hours: the new case's
        # rooms and bays are held from opening at the earliest to closing plus its turnover.
        max_turnover = max((rule.turnover_minutes for rule in self.rules), default=0)
        resource_ids = [r.pk for resources in self.resources_by_kind.values() for r in resources]
        surgeon_ids = [shift[0].pk for shift in self.surgeon_shifts]
        busy = Stage.objects.filter(
            Q(resource_id__in=resource_ids) | Q(surgeon_id__in=surgeon_ids),
            active=True,
            held_until__gt=self.opens,
            planned_start__lt=self.closes + timedelta(minutes=max_turnover),
        ).order_by()
        if exclude_case_id is not None:
            busy = busy.exclude(case_id=exclude_case_id)
        for resource_id, surgeon_id, start, end, held_until in busy.values_list(
            "resource_id", "surgeon_id", "planned_start", "planned_end", "held_until"
        ):
            self.resource_busy[resource_id].append((start, held_until))
            if surgeon_id is not None:
                self.surgeon_busy[surgeon_id].append((start, end))

    def times_at(self, procedure_start: datetime) -> CaseTimes:
        return timing.case_times(self.rules, self.levels, procedure_start, self.site_rules)

    def fit(self, procedure_start: datetime) -> tuple[Slot | None, str | None]:
        """The slot at this start, or None and the code of the first reason it does not fit."""
        times = self.times_at(procedure_start)
        if self.opens is None:
            return None, "site_closed"
        if times.arrival_at < self.opens or times.ends_at > self.closes:
            return None, "outside_opening_hours"
        resources = self._free_resources(times)
        if resources is None:
            return None, "slot_taken"
        surgeon = None
        if any(stage.needs_surgeon for stage in times.stages):
            surgeon = self._free_surgeon(times)
            if surgeon is None:
                return None, "surgeon_unavailable"
        return Slot(times=times, resources=resources, surgeon=surgeon), None

    def candidate_starts(self, arrival_not_before: datetime | None = None) -> list[datetime]:
        """Procedure starts on the grid whose whole case lies inside opening hours."""
        if self.opens is None:
            return []
        probe = self.times_at(self.opens)
        lead = probe.procedure_start - probe.arrival_at
        tail = probe.ends_at - probe.procedure_start
        earliest_arrival = self.opens
        if arrival_not_before is not None:
            earliest_arrival = max(earliest_arrival, arrival_not_before)
        start = timing.next_on_grid(earliest_arrival + lead, self.site.zone)
        starts = []
        while start + tail <= self.closes:
            starts.append(start)
            start += timedelta(minutes=timing.GRID_MINUTES)
        return starts

    def free_slots(self, arrival_not_before: datetime | None = None) -> list[Slot]:
        slots = (self.fit(start)[0] for start in self.candidate_starts(arrival_not_before))
        return [slot for slot in slots if slot is not None]

    def first_free(self, arrival_not_before: datetime | None = None) -> Slot | None:
        for start in self.candidate_starts(arrival_not_before):
            slot, _ = self.fit(start)
            if slot is not None:
                return slot
        return None

    def _free_surgeon(self, times: CaseTimes) -> Surgeon | None:
        needed = [stage for stage in times.stages if stage.needs_surgeon]
        for surgeon, shift_start, shift_end in self.surgeon_shifts:
            if all(
                shift_start <= stage.start
                and stage.end <= shift_end
                and not _overlaps(self.surgeon_busy[surgeon.pk], stage.start, stage.end)
                for stage in needed
            ):
                return surgeon
        return None

    def _free_resources(self, times: CaseTimes) -> tuple[Resource, ...] | None:
        chosen: dict[int, Resource] = {}
        for hold in sorted({stage.hold for stage in times.stages}):
            stages = [stage for stage in times.stages if stage.hold == hold]
            start, held_until = stages[0].start, stages[-1].held_until
            free = next(
                (
                    resource
                    for resource in self.resources_by_kind.get(stages[0].resource_kind, [])
                    if not _overlaps(self.resource_busy[resource.pk], start, held_until)
                ),
                None,
            )
            if free is None:
                return None
            chosen[hold] = free
        return tuple(chosen[stage.hold] for stage in times.stages)
