"""The stretch of days a report covers, in the site's zone, its ISO weeks, and the site's
opening hours on each of its days."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import timing
from ..models import OpeningHours, Site

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


def open_hours(site: Site, period: Period) -> dict[date, tuple[datetime, datetime]]:
    """Each open day of the period: when the site opens and closes, as UTC instants."""
    weekly = {hours.weekday: hours for hours in OpeningHours.objects.filter(site=site)}
    result = {}
    for day in period.days:
        hours = weekly.get(day.weekday())
        if hours is not None:
            result[day] = (
                timing.local_instant(day, hours.opens, period.zone),
                timing.local_instant(day, hours.closes, period.zone),
            )
    return result
