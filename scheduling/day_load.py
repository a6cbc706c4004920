"""How full each of a site's next open days is, for the booking page's day-load strip: the
minutes its procedure rooms are held (turnover included) against the minutes they are open.

Two queries (opening hours, and one grouped sum over the stages), whatever the number of days."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from .closure_models import Closure
from .models import ResourceKind, Site, Stage
from .timing import local_instant

# Looked at for open days: three weeks of weekdays and then some, so closed weekdays are skipped.
SEARCH_DAYS = 42


@dataclass(frozen=True)
class DayLoad:
    day: date
    booked_minutes: int
    open_minutes: int
    cases: int

    @property
    def percent(self) -> int:
        if not self.open_minutes:
            return 100
        return min(100, round(100 * self.booked_minutes / self.open_minutes))

    @property
    def level(self) -> str:
        """A word for the colour and for a screen reader: light, busy or full."""
        if self.percent >= 85:
            return "full"
        return "busy" if self.percent >= 50 else "light"


def days_load(*, site: Site, first_day: date, days: int) -> list[DayLoad]:
    """The first `days` days from `first_day` on which the site opens, with their load."""
    hours = {row.weekday: row for row in site.opening_hours.all()}
    # A day the whole site is shut (Christmas Day) is no more open than a Sunday.
    closed = set()
    for start, end in Closure.objects.filter(
        site=site, resource__isnull=True, surgeon__isnull=True,
        start_date__lt=first_day + timedelta(days=SEARCH_DAYS), end_date__gte=first_day,
    ).values_list("start_date", "end_date"):
        closed.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    rooms = site.resources.filter(kind=ResourceKind.PROCEDURE_ROOM, active=True).count()
    open_days = []
    day = first_day
    while len(open_days) < days and day < first_day + timedelta(days=SEARCH_DAYS):
        if day.weekday() in hours and day not in closed:
            open_days.append(day)
        day += timedelta(days=1)
    if not open_days:
        return []
    zone = site.zone
    held = (
        Stage.objects.filter(
            active=True,
            resource__site=site,
            resource__kind=ResourceKind.PROCEDURE_ROOM,
            planned_start__gte=local_instant(open_days[0], datetime.min.time(), zone),
            planned_start__lt=local_instant(
                open_days[-1] + timedelta(days=1), datetime.min.time(), zone
            ),
        )
        .annotate(day=TruncDate("planned_start", tzinfo=zone))
        .values("day")
        .annotate(
            held=Sum(F("held_until") - F("planned_start")), cases=Count("case", distinct=True)
        )
    )
    by_day = {row["day"]: row for row in held}
    loads = []
    for day in open_days:
        opening = hours[day.weekday()]
        span = local_instant(day, opening.closes, zone) - local_instant(day, opening.opens, zone)
        row = by_day.get(day, {})
        loads.append(
            DayLoad(
                day=day,
                booked_minutes=int(row.get("held", timedelta()).total_seconds() // 60),
                open_minutes=int(span.total_seconds() // 60) * rooms,
                cases=row.get("cases", 0),
            )
        )
    return loads
