"""Schedules and their Slots: one Schedule per room or bay (`resource-<id>`) and per surgeon
(`surgeon-<id>`); its Slots are the times it is held (busy) and the times it is open and not held
(free) on the days asked for; a time held for a booking not made yet (Appointment/$hold) is
busy-tentative until the hold is booked or runs out.

Opening hours, surgeons' working periods and closures are read as the slot search reads them
(scheduling.unit_day.UnitDay); a room or bay is held from a stage's start to its `held_until`
(its turnover included), a surgeon from a stage's start to its end, as there. A busy Slot says
only when: never whose case holds it.

A Slot's id names its schedule and its UTC start and end to the minute,
`resource-5.202603031230.202603031415`, so a Slot read by id is worked out again, not stored."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import QuerySet

from scheduling.models import Resource, Site, Surgeon
from scheduling.timing import local_day
from scheduling.unit_day import UnitDay, stages_holding

from . import params
from .resources import RESOURCE_PREFIX, instant, resource_location_id

SURGEON_PREFIX = "surgeon-"
# The longest span one search of Slots may cover, and the most schedules it may name: a search
# works each day out afresh, so it cannot be asked for years.
MAX_SLOT_DAYS = 14
MAX_SCHEDULES = 20
# The years a Slot may be asked for: the unit's days, with room either side.
YEARS = range(1900, 2201)
SLOT_STATUSES = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")
SLOT_ID = re.compile(r"(?P<schedule>[a-z]+-\d{1,18})\.(?P<start>\d{12})\.(?P<end>\d{12})")
STAMP = "%Y%m%d%H%M"

Interval = tuple[datetime, datetime]


def schedule_id(row: Resource | Surgeon) -> str:
    if isinstance(row, Resource):
        return f"{RESOURCE_PREFIX}{row.pk}"
    return f"{SURGEON_PREFIX}{row.pk}"


def schedule_number(text: str, prefix: str) -> int | None:
    return params.number_id(text[len(prefix):]) if text.startswith(prefix) else None


def schedule_resource(row: Resource | Surgeon) -> dict:
    if isinstance(row, Resource):
        actor = {"reference": f"Location/{resource_location_id(row.pk)}", "display": row.name}
        comment = f"{row.get_kind_display()}: the times it holds a patient, and its opening hours."
    else:
        actor = {"reference": f"Practitioner/{row.pk}", "display": row.name}
        comment = "The surgeon's cases and working periods."
    return {
        "resourceType": "Schedule",
        "id": schedule_id(row),
        "active": row.active,
        "actor": [actor],
        "comment": comment,
    }


@dataclass(frozen=True)
class Slot:
    schedule_id: str
    status: str
    start: datetime
    end: datetime

    @property
    def id(self) -> str:
        return f"{self.schedule_id}.{_stamp(self.start)}.{_stamp(self.end)}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def slot_resource(slot: Slot) -> dict:
    return {
        "resourceType": "Slot",
        "id": slot.id,
        "schedule": {"reference": f"Schedule/{slot.schedule_id}"},
        "status": slot.status,
        "start": instant(slot.start),
        "end": instant(slot.end),
    }


class SlotRows(list):
    """A search's Slots, counted and sliced as the querysets of the other types are."""

    def count(self) -> int:
        return len(self)


# Which days: the `start` parameter's span

def slot_window(texts: list[str]) -> Interval | None:
    """The span [low, high) that `start` values ask for, all of them at once (`ge` and `lt`
    together bound it); one day when only one end is given; None when none is given (the
    schedule's site's today). Longer than MAX_SLOT_DAYS is refused."""
    lows, highs = [], []
    for text in texts:
        for value in params.values(text):
            span = params.date_range("start", value)
            if span.prefix in ("eq", "ap"):
                lows.append(span.low)
                highs.append(span.high)
            elif span.prefix in ("ge", "sa", "gt"):
                lows.append(span.high if span.prefix != "ge" else span.low)
            elif span.prefix in ("le", "lt", "eb"):
                highs.append(span.high if span.prefix == "le" else span.low)
            else:
                raise params.invalid("start", "takes eq, ge, gt, le or lt (not ne).")
    if not lows and not highs:
        return None
    if any(moment.year not in YEARS for moment in (*lows, *highs)):
        raise params.invalid("start", f"is in the years {YEARS[0]} to {YEARS[-1]}.")
    low = max(lows) if lows else min(highs) - timedelta(days=1)
    high = min(highs) if highs else low + timedelta(days=1)
    if high - low > timedelta(days=MAX_SLOT_DAYS):
        raise params.invalid("start", f"a search covers at most {MAX_SLOT_DAYS} days.")
    return low, max(low, high)


# The schedules a search names

def schedules_named(
    resources: QuerySet[Resource], surgeons: QuerySet[Surgeon], texts: list[str]
) -> list[Resource | Surgeon]:
    """The user's schedules that `schedule` values name (a reference to a Schedule, all of the
    values at once: repeated they narrow, comma-separated they add up)."""
    if not texts:
        raise params.invalid("schedule", "is required, e.g. schedule=Schedule/resource-5.")
    named = None
    for text in texts:
        wanted = {params.reference_id("schedule", value, "Schedule")
                  for value in params.values(text)}
        named = wanted if named is None else named & wanted
    if len(named) > MAX_SCHEDULES:
        raise params.invalid("schedule", f"names at most {MAX_SCHEDULES} schedules.")
    resource_ids = [pk for name in named if (pk := schedule_number(name, RESOURCE_PREFIX))]
    surgeon_ids = [pk for name in named if (pk := schedule_number(name, SURGEON_PREFIX))]
    return [
        *resources.filter(pk__in=resource_ids).select_related("site"),
        *surgeons.filter(pk__in=surgeon_ids),
    ]


def schedule_site(row: Resource | Surgeon) -> Site:
    """Whose days and time zone a schedule follows: its room's site, or the surgeon's first
    (a surgeon's working periods are theirs wherever they work)."""
    if isinstance(row, Resource):
        return row.site
    return row.sites.order_by("pk").first()


# The Slots of one schedule

def _merged(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _less(span: Interval, busy: list[Interval]) -> list[Interval]:
    """The parts of `span` that no busy interval covers (busy merged and in order)."""
    gaps, at = [], span[0]
    for start, end in busy:
        if end <= at or start >= span[1]:
            continue
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < span[1]:
        gaps.append((at, span[1]))
    return gaps


def _held(row: Resource | Surgeon, low: datetime, high: datetime) -> tuple[list, list]:
    """The times the schedule is held by cases, and by holds for bookings not made yet (a
    hospital's $hold) that cases do not already cover, each merged and in order."""
    stages = stages_holding().filter(planned_start__lt=high)
    if isinstance(row, Resource):
        stages = stages.filter(resource=row, held_until__gt=low)
        times = stages.values_list("planned_start", "held_until", "hold_id")
    else:
        stages = stages.filter(surgeon=row, planned_end__gt=low)
        times = stages.values_list("planned_start", "planned_end", "hold_id")
    times = list(times)
    busy = _merged([(start, end) for start, end, hold in times if hold is None])
    held = _merged([(start, end) for start, end, hold in times if hold is not None])
    return busy, [gap for span in held for gap in _less(span, busy)]


def _open(row: Resource | Surgeon, unit_day: UnitDay) -> tuple[list[Interval], list[Interval]]:
    """The day's open spans of a room, bay or surgeon, and those closed by a closure."""
    if isinstance(row, Surgeon):
        return [(s.starts, s.ends) for s in unit_day.shifts if s.surgeon.pk == row.pk], []
    if unit_day.opens is None or not row.active:
        return [], []
    hours = [(unit_day.opens, unit_day.closes)]
    if any(resource.pk == row.pk for resource in unit_day.closed_resources):
        return [], hours
    return hours, []


def _days(low: datetime, high: datetime, site: Site) -> list[date]:
    first = local_day(low, site.zone)
    last = local_day(max(low, high - timedelta(microseconds=1)), site.zone)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def schedule_slots(
    *, row: Resource | Surgeon, site: Site, window: Interval | None
) -> list[Slot]:
    """The schedule's Slots that start in `window` (None: the site's today), in order."""
    if window is None:
        today = local_day(datetime.now(UTC), site.zone)
        window = _local_day_span(today, site)
    low, high = window
    name = schedule_id(row)
    days = _days(low, high, site)
    # Wide enough for every open span of those days and a busy time begun the day before.
    busy, tentative = _held(row, low - timedelta(days=2), high + timedelta(days=2))
    slots = [Slot(name, "busy", start, end) for start, end in busy]
    slots += [Slot(name, "busy-tentative", start, end) for start, end in tentative]
    busy = _merged([*busy, *tentative])
    surgeon = row if isinstance(row, Surgeon) else None
    for day in days:
        spans, closed = _open(row, UnitDay.load(site=site, day=day, surgeon=surgeon))
        slots += [Slot(name, "free", *gap) for span in spans for gap in _less(span, busy)]
        slots += [Slot(name, "busy-unavailable", *gap) for span in closed
                  for gap in _less(span, busy)]
    return sorted(
        (slot for slot in slots if low <= slot.start < high), key=lambda slot: slot.start
    )


def _local_day_span(day: date, site: Site) -> Interval:
    midnight = datetime(day.year, day.month, day.day, tzinfo=site.zone)
    following = day + timedelta(days=1)
    return (
        midnight.astimezone(UTC),
        datetime(following.year, following.month, following.day, tzinfo=site.zone).astimezone(UTC),
    )


def slot_id_parse(text: str) -> tuple[str, datetime] | None:
    """A Slot id's schedule and start, or None when it cannot be one."""
    found = SLOT_ID.fullmatch(text)
    if found is None:
        return None
    try:
        start = datetime.strptime(found["start"], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    return (found["schedule"], start) if start.year in YEARS else None
