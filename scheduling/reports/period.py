"""The stretch of days a report covers, in the site's zone, and its ISO weeks; and the period's
stages, read once for the reports that add them up."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.db.models import Q

from .. import timing
from ..board.rows import values_rows
from ..models import Resource, Site, Stage

DEFAULT_WEEKS = 4
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def weeks(self) -> list[date]:
        """The Monday of each ISO week the period touches."""
        first, last = week_of(self.start), week_of(self.end)
        return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]

    @property
    def starts_at(self) -> datetime:
        return timing.local_instant(self.start, datetime.min.time(), self.zone)

    @property
    def ends_at(self) -> datetime:
        """Midnight after the last day: the first instant outside the period."""
        return timing.local_instant(self.end + timedelta(days=1), datetime.min.time(), self.zone)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def period_default(zone: ZoneInfo, now: datetime) -> Period:
    """The last four complete ISO weeks before today (in the site's zone)."""
    this_monday = week_of(now.astimezone(zone).date())
    first = this_monday - timedelta(weeks=DEFAULT_WEEKS)
    return Period(first, this_monday - timedelta(days=1), zone)


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


# A stage as the reports read it: a plain tuple of these columns. Every column but the case's
# own comes from the stage report index (Stage.Meta.indexes). Plain tuples, not named ones: the
# garbage collector stops tracking a tuple of plain values after one look, but keeps looking at
# a named tuple, and a year's 9,000 of them a site made it sweep the whole process again and
# again.
STAGE_COLUMNS = (
    "case_id", "case__day", "case__levels", "case__procedure_type_id", "kind", "resource_id",
    "active", "planned_start", "planned_end", "actual_start", "actual_end",
)
(CASE, DAY, LEVELS, PROCEDURE_TYPE, KIND, RESOURCE, ACTIVE,
 PLANNED_START, PLANNED_END, ACTUAL_START, ACTUAL_END) = range(len(STAGE_COLUMNS))
StageRow = tuple


@dataclass(frozen=True)
class PeriodStages:
    """Every stage of the period's cases, and the rooms and bays they and the site have.

    Utilisation, first cases, turnovers and durations each add up the same stages: the reports
    page reads them once (`PeriodStages.load`) and hands them to all four."""

    period: Period
    rows: list[StageRow]
    resources: dict[int, Resource]  # by name, as the database orders names

    def by_day_and_room(self, rows: Iterable[StageRow]) -> list[StageRow]:
        """The stages by day, then room or bay by name, then planned start."""
        rank = self.name_rank
        return sorted(rows, key=lambda row: (row[DAY], rank[row[RESOURCE]], row[PLANNED_START]))

    @cached_property
    def name_rank(self) -> dict[int, int]:
        """Each room or bay's place in the order of names, the same for the same name: the
        database's collation, so the reports list rooms as they always have."""
        rank, names, last = {}, -1, None
        for resource in self.resources.values():
            if resource.name != last:
                names, last = names + 1, resource.name
            rank[resource.pk] = names
        return rank

    @classmethod
    def load(cls, *, site: Site, period: Period) -> "PeriodStages":
        query = (
            Stage.objects.filter(case__site=site, case__day__range=(period.start, period.end))
            .order_by()
            .values_list(*STAGE_COLUMNS)
        )
        rows = values_rows(query)
        used = {row[RESOURCE] for row in rows}
        resources = Resource.objects.filter(Q(site=site) | Q(pk__in=used)).order_by("name", "pk")
        return cls(period, rows, {resource.pk: resource for resource in resources})
