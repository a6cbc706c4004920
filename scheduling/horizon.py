"""How a day is written (YYYY-MM-DD) and which days the unit works with.

A case is booked (free times looked up, a day planned) from today up to
settings.BOOKING_HORIZON_DAYS ahead; the board, the day list, the plan page, the API's cases of a
day and the reports show a day from settings.EARLIEST_DAY_SHOWN up to that same horizon. A date
outside is refused with `date_out_of_range` before any date arithmetic runs on it: the day after
31 December 9999, or the Monday before 1 January 0001, does not exist."""

import re
from datetime import date, timedelta

from django.conf import settings

from .errors import SchedulingError

# ASCII digits only: `\d` would take any script's digits, and `$` would allow a final line feed.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_parse(text: str) -> date | None:
    """A YYYY-MM-DD date with nothing before or after it; None for anything else (2026-3-3,
    2026-02-30, a control character, another script's digits, Python's other ISO forms such as
    20260303 or 2026-W10-1)."""
    if not ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def last_day(today: date) -> date:
    """The last day a case can be booked on, and the last day shown."""
    return today + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def days_shown(today: date) -> tuple[date, date]:
    """The first and last day a page, a list or a report shows."""
    return settings.EARLIEST_DAY_SHOWN, last_day(today)


def day_shown_check(*, day: date, today: date, field: str = "date") -> None:
    first, last = days_shown(today)
    if not first <= day <= last:
        raise SchedulingError(
            "date_out_of_range",
            f"{day_text(day)} is outside the days shown: {first:%-d %B %Y} to {last:%-d %B %Y}.",
            field=field,
        )


def day_bookable_check(*, day: date, today: date, field: str = "date") -> None:
    """After the horizon only (a day before today is `date_in_past`, checked by the caller)."""
    last = last_day(today)
    if day > last:
        raise SchedulingError(
            "date_out_of_range",
            f"{day_text(day)} is too far ahead: cases are booked up to {last:%-d %B %Y} "
            f"({settings.BOOKING_HORIZON_DAYS} days ahead).",
            field=field,
        )


def day_text(day: date) -> str:
    # strftime writes year 1 as "1", which reads like a day of the month: ISO for those.
    return f"{day:%-d %B %Y}" if day.year >= 1000 else day.isoformat()
