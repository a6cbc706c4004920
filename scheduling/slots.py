"""Where a case fits on one day at one site: the slot search shared by availability and booking.

A DayBook loads the day once (opening hours, rooms and bays, who is busy when) with a fixed
number of queries, then answers in memory for every candidate start on the 5-minute grid.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import FloatField, Func, Q

from . import timing
from .models import OpeningHours, ProcedureType, Resource, Site, Stage, Surgeon, SurgeonHours
from .timing import CaseTimes, SiteRules, StageRule

# Busy times are kept as seconds since 1970 (UTC): a full day is hundreds of them, and numbers
# are read from the database and compared many times faster than aware datetimes.
Interval = tuple[float, float]


class EpochSeconds(Func):
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC datetimes as text; strftime('%s') reads them as UTC.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
        return self.as_sql(compiler, connection, template=template, **extra)


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


def _clash_end(busy: list[Interval], start: float, end: float) -> float | None:
    """When the busy intervals overlapping [start, end) are over, or None if none overlaps."""
    ends = [b_end for b_start, b_end in busy if b_start < end and start < b_end]
    return max(ends) if ends else None


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
        self._shape()
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
            "resource_id",
            "surgeon_id",
            EpochSeconds("planned_start"),
            EpochSeconds("planned_end"),
            EpochSeconds("held_until"),
        ):
            self.resource_busy[resource_id].append((start, held_until))
            if surgeon_id is not None:
                self.surgeon_busy[surgeon_id].append((start, end))

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
        if self.opens is None:
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
        for kind, begin, until in self.holds:
            begin, until = at + begin, at + until
            frees_at = None
            for resource in self.resources_by_kind.get(kind, []):
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
