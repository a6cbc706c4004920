"""A site's day as the slot search (slots.DayBook) and the day planner (plan/loader.py) both read
it: when the unit opens and closes, its rooms and bays, the surgeons' shifts, and the stages
already holding those rooms, bays and surgeons. Closures (closure_models.py) are applied here, once
for both: a closed site has no opening hours that day, a closed room or bay and a surgeon on leave
are left out; the closures themselves are kept so a refusal can say why.

`UnitDay.load` takes the weekday's hours, rooms, bays and shifts and the closures ahead from
configuration.py, which reads them again only after a change (a day gone by reads its closures).
`UnitDay.busy` costs one query, which on PostgreSQL asks for the day's time range the way the
no-overlap constraints' GiST indexes hold it. Everything else works on the plain values.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.contrib.postgres.fields import DateTimeRangeField
from django.contrib.postgres.lookups import Overlap
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import F, FloatField, Func, Q, QuerySet, Value
from django.utils import timezone

from . import configuration, timing
from .models import Closure, Resource, Site, Stage, Surgeon


class EpochSeconds(Func):
    """An instant as seconds since 1970 (UTC): a day's busy times are compared many times, and
    numbers are read from the database and compared much faster than aware datetimes."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC datetimes as text; strftime('%s') reads them as UTC.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
        return self.as_sql(compiler, connection, template=template, **extra)


class Shift(NamedTuple):
    surgeon: Surgeon
    starts: datetime
    ends: datetime


class BusyStage(NamedTuple):
    """A stage of another case, in seconds since 1970: its room or bay is held from `start` to
    `held_until` (its turnover included), its surgeon from `start` to `end`."""

    resource_id: int
    surgeon_id: int | None
    start: float
    end: float
    held_until: float


@dataclass(frozen=True)
class UnitDay:
    site: Site
    day: date
    opens: datetime | None  # None: the site is closed that day
    closes: datetime | None
    resources: list[Resource]  # the active rooms and bays open that day, by name
    shifts: list[Shift]  # by surgeon's name, then start: a surgeon may work several a day
    # The closures that touch the day: of the site, of its rooms and bays, surgeons' leave.
    closures: tuple[Closure, ...] = ()

    @property
    def site_closure(self) -> Closure | None:
        return next((c for c in self.closures if not c.resource_id and not c.surgeon_id), None)

    @property
    def closed_resources(self) -> list[Resource]:
        return [c.resource for c in self.closures if c.resource_id]

    def on_leave(self, surgeon: Surgeon) -> Closure | None:
        return next((c for c in self.closures if c.surgeon_id == surgeon.pk), None)

    @classmethod
    def load(cls, *, site: Site, day: date, surgeon: Surgeon | None = None) -> "UnitDay":
        """The day's opening hours, active rooms and bays, and shifts: of `surgeon` alone when
        one is asked for (wherever they work), else of every active surgeon of the site; less
        whatever is closed that day. The weekday's setup and the closures ahead come from
        configuration.py, read again only after a change."""
        zone = site.zone
        closures = _closures_covering(site, day)
        site_closed = any(not c.resource_id and not c.surgeon_id for c in closures)
        closed_resources = {c.resource_id for c in closures if c.resource_id}
        # A surgeon without a working period today, or on leave, cannot operate.
        on_leave = {c.surgeon_id for c in closures if c.surgeon_id}
        setup = configuration.weekday_setup(site=site, weekday=day.weekday(), surgeon=surgeon)
        hours = None if site_closed else setup.hours
        return cls(
            site=site,
            day=day,
            opens=timing.local_instant(day, hours[0], zone) if hours else None,
            closes=timing.local_instant(day, hours[1], zone) if hours else None,
            resources=[r for r in setup.resources if r.pk not in closed_resources],
            closures=closures,
            shifts=[
                Shift(
                    shift.surgeon,
                    timing.local_instant(day, shift.opens, zone),
                    timing.local_instant(day, shift.closes, zone),
                )
                for shift in setup.shifts
                if shift.surgeon.pk not in on_leave
            ],
        )

    def busy(
        self,
        *,
        after_closing: timedelta,
        exclude_case_ids: list[int] | tuple[int, ...] = (),
        in_case_order: bool = False,
    ) -> list[BusyStage]:
        """The active stages that hold the day's rooms, bays or surgeons while it is open (a
        stage starting up to `after_closing` past closing still counts), in one statement: read
        in two, a booking committed between them would show a room free and its surgeon busy.
        Nothing when the site is closed. The slot search takes them in any order; the planner
        asks for them `in_case_order` (by case start, then stage), which keeps its seeded model,
        and so its answer, the same from one run to the next."""
        if self.opens is None:
            return []
        busy = stages_holding().filter(
            _day_overlap(
                resource_ids=[resource.pk for resource in self.resources],
                surgeon_ids=[shift.surgeon.pk for shift in self.shifts],
                starts=self.opens,
                ends=self.closes + after_closing,
            ),
        )
        order = ("case__procedure_start", "case_id", "position") if in_case_order else ()
        busy = busy.order_by(*order)
        if exclude_case_ids:
            busy = busy.exclude(case_id__in=exclude_case_ids)
        return [
            BusyStage(*row)
            for row in busy.values_list(
                "resource_id",
                "surgeon_id",
                EpochSeconds("planned_start"),
                EpochSeconds("planned_end"),
                EpochSeconds("held_until"),
            )
        ]


def stages_holding() -> QuerySet[Stage]:
    """The stages that hold their room or bay and surgeon: a case's while it is active, a
    hold's until it runs out (a hold run out keeps nothing, even before the sweeper's pass)."""
    return Stage.objects.filter(active=True).exclude(hold__expires_at__lte=timezone.now())


def _closures_covering(site: Site, day: date) -> tuple[Closure, ...]:
    """The closures of the site, its rooms and bays, and surgeons' leave that cover the day."""
    today = timezone.now().astimezone(site.zone).date()
    if day < today:  # a day gone by (the planner's, the board's): not kept
        return tuple(
            Closure.objects.covering(day)
            .filter(Q(site=site) | Q(surgeon__isnull=False))
            .select_related("resource", "surgeon")
        )
    return tuple(
        closure
        for closure in configuration.closures_ahead(site=site, today=today)
        if closure.start_date <= day <= closure.end_date
    )


class TimeRange(Func):
    """tstzrange(start, end, '[)'), written exactly as in the no-overlap constraints (migration
    0002), so that PostgreSQL reads a day's stages through their GiST index instead of every
    stage a room or surgeon has ever held."""

    function = "tstzrange"
    output_field = DateTimeRangeField()

    def __init__(self, start: str, end: str):
        super().__init__(F(start), F(end), Value("[)"))


def _day_overlap(
    *, resource_ids: list[int], surgeon_ids: list[int], starts: datetime, ends: datetime
) -> Q:
    """The stages holding one of these rooms or bays, or surgeons, at some moment in [starts,
    ends). A room or bay is held until `held_until` (its turnover), a surgeon until
    `planned_end`."""
    if connection.vendor != "postgresql":
        held = Q(resource_id__in=resource_ids, held_until__gt=starts)
        busy = Q(surgeon_id__in=surgeon_ids, planned_end__gt=starts)
        return (held | busy) & Q(planned_start__lt=ends)
    window = DateTimeTZRange(starts, ends, "[)")
    return Q(
        Overlap(TimeRange("planned_start", "held_until"), window),
        resource_id__in=resource_ids,
    ) | Q(
        Overlap(TimeRange("planned_start", "planned_end"), window),
        surgeon_id__in=surgeon_ids,
    )

