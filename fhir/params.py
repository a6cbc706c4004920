"""Reading FHIR search parameters: dates with their prefixes, references, tokens, paging.
Anything that cannot be read is refused with `fhir_invalid_parameter`, never guessed."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Q

from api.errors import ApiError

DEFAULT_COUNT = 20
MAX_COUNT = 100
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
DATE_VALUE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2}))?)?)?$"
)


def invalid(name: str, detail: str) -> ApiError:
    return ApiError("fhir_invalid_parameter", f"{name}: {detail}", field=name)


@dataclass(frozen=True)
class DateRange:
    """A date parameter's value: its prefix and the span its precision covers, [low, high)."""

    prefix: str
    low: datetime
    high: datetime

    def q(self, field: str) -> Q:
        inside = Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})
        return {
            "eq": inside, "ap": inside, "ne": ~inside,
            "gt": Q(**{f"{field}__gte": self.high}), "sa": Q(**{f"{field}__gte": self.high}),
            "lt": Q(**{f"{field}__lt": self.low}), "eb": Q(**{f"{field}__lt": self.low}),
            "ge": Q(**{f"{field}__gte": self.low}), "le": Q(**{f"{field}__lt": self.high}),
        }[self.prefix]

    def as_dates(self) -> "DateRange":
        """The same span for a date field (a date of birth): whole days."""
        return DateRange(self.prefix, self.low.date(), _day_up(self.high))


def _day_up(moment: datetime) -> date:
    day = moment.date()
    return day if moment == datetime(day.year, day.month, day.day, tzinfo=moment.tzinfo) else (
        day + timedelta(days=1)
    )


def date_range(name: str, text: str) -> DateRange:
    """`[prefix]value`, value a FHIR date or dateTime. A value with a time carries its offset; a
    date alone is a whole day (month, year) in UTC, the zone the unit's times are stored in."""
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    found = DATE_VALUE.match(value)
    if found is None:
        raise invalid(name, f"“{value[:40]}” is not a FHIR date, e.g. 2026-03-03.")
    parts = {key: int(v) for key, v in found.groupdict().items() if v and key != "zone"}
    try:
        low = datetime(
            parts["year"], parts.get("month", 1), parts.get("day", 1),
            parts.get("hour", 0), parts.get("minute", 0), parts.get("second", 0), tzinfo=UTC,
        )
    except ValueError:
        raise invalid(name, f"“{value[:40]}” is not a date that exists.") from None
    try:
        if found["zone"] and found["zone"] != "Z":
            sign = 1 if found["zone"][0] == "+" else -1
            hours, minutes = (int(n) for n in found["zone"][1:].split(":"))
            low -= sign * timedelta(hours=hours, minutes=minutes)
        return DateRange(prefix, low, _end_of_span(low, parts))
    except (ValueError, OverflowError):
        # The span runs past the calendar's first or last day (year 1, year 9999).
        raise invalid(name, f"“{value[:40]}” is at the very edge of the calendar.") from None


def _end_of_span(low: datetime, parts: dict) -> datetime:
    if "second" in parts:
        return low + timedelta(seconds=1)
    if "minute" in parts:
        return low + timedelta(minutes=1)
    if "day" in parts:
        return low + timedelta(days=1)
    if "month" in parts:
        return (low.replace(day=28) + timedelta(days=4)).replace(day=1)
    return low.replace(year=low.year + 1)


def reference_id(name: str, text: str, resource_type: str) -> str:
    """`Type/id` or a bare id, for a reference to `resource_type`."""
    if "/" in text:
        kind, _, text = text.rpartition("/")
        if kind.rsplit("/", 1)[-1] != resource_type:
            raise invalid(name, f"refers to {resource_type} resources only.")
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", text):
        raise invalid(name, "is not a resource id.")
    return text


def number_id(text: str) -> int | None:
    """A resource id that names a row by its number; None when it cannot be one."""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        return None
    return int(text)


def token(text: str) -> tuple[str | None, str]:
    """`system|code` (system None when the value gives none, "" for `|code`) and the code."""
    if "|" not in text:
        return None, text
    system, _, code = text.partition("|")
    return system, code


def whole_number(name: str, text: str, *, maximum: int) -> int:
    if not text.isdigit() or len(text) > 9:
        raise invalid(name, "must be a whole number of 0 or more.")
    return min(int(text), maximum)


def values(text: str) -> list[str]:
    """A parameter's comma-separated alternatives (any of them matches)."""
    return [part for part in text.split(",") if part]
