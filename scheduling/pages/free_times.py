"""A free time as the booking and reschedule pages list it, what they say when the time a clerk
chose was taken by someone else before they pressed the button, and the booking page's panel of
free times: the day-load strip, "first available", then the day's starts by part of day."""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from .. import selectors
from ..day_load import DayLoad, days_load
from ..models import Site
from ..slots import Slot
from ..timing import local_day, local_hm

# A time shown as free that another booking took before this one: show the times free now.
SLOT_LOST = {"slot_taken", "surgeon_unavailable", "no_free_slot"}
SLOT_LOST_MESSAGE = "That time was just taken; here are the free times now."
STRIP_DAYS = 15  # three working weeks in the day-load strip
NEXT_DAYS = 5
NEXT_DAYS_SEARCHED = 28
# Parts of the day by the procedure's local start hour: before noon, before 5 pm, after.
PARTS_OF_DAY = (("Morning", 0), ("Afternoon", 12), ("Evening", 17))


@dataclass(frozen=True)
class FreeTime:
    value: str  # the procedure start, ISO 8601 with the site's offset
    start: str
    arrival: str
    ends: str
    rooms: str
    surgeon: str
    hour: int = 0  # the local hour of the start, for grouping
    lead_minutes: int = 0  # from arrival to the procedure's start

    @classmethod
    def of(cls, slot: Slot, zone: ZoneInfo, *, locale: str | None = None) -> "FreeTime":
        return cls(
            value=slot.times.procedure_start.astimezone(zone).isoformat(),
            start=local_hm(slot.times.procedure_start, zone, locale=locale),
            arrival=local_hm(slot.times.arrival_at, zone, locale=locale),
            ends=local_hm(slot.times.ends_at, zone, locale=locale),
            rooms=", ".join(dict.fromkeys(resource.name for resource in slot.resources)),
            surgeon=slot.surgeon.name if slot.surgeon else "",
            hour=slot.times.procedure_start.astimezone(zone).hour,
            lead_minutes=int(
                (slot.times.procedure_start - slot.times.arrival_at).total_seconds() // 60
            ),
        )


@dataclass(frozen=True)
class PartOfDay:
    name: str
    slots: list[FreeTime]


@dataclass(frozen=True)
class OpenDay:
    day: date
    count: int
    first_arrival: str


@dataclass(frozen=True)
class FreeTimes:
    site: Site
    day: date
    slots: list[FreeTime]
    chosen: str
    next_days: list[OpenDay]
    loads: list[DayLoad]

    @property
    def first(self) -> FreeTime | None:
        return self.slots[0] if self.slots else None

    @property
    def parts(self) -> list[PartOfDay]:
        parts = []
        for index, (name, from_hour) in enumerate(PARTS_OF_DAY):
            until = PARTS_OF_DAY[index + 1][1] if index + 1 < len(PARTS_OF_DAY) else 24
            slots = [slot for slot in self.slots if from_hour <= slot.hour < until]
            if slots:
                parts.append(PartOfDay(name, slots))
        return parts

    @property
    def rooms(self) -> str:
        """Every room and bay the day's free times use, said once above them."""
        names = dict.fromkeys(
            name for slot in self.slots for name in slot.rooms.split(", ") if name
        )
        return ", ".join(names)

    @property
    def arrive_before(self) -> str:
        """"1 h 30 min" when every start asks the patient the same time ahead (then each start
        is shown alone), else ""."""
        leads = {slot.lead_minutes for slot in self.slots}
        if len(leads) != 1:
            return ""
        hours, minutes = divmod(leads.pop(), 60)
        parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
        return " ".join(part for part in parts if part)

    @property
    def surgeons(self) -> str:
        return ", ".join(dict.fromkeys(slot.surgeon for slot in self.slots if slot.surgeon))


def day_loads(site: Site) -> list[DayLoad]:
    """The strip of the site's next open days, from today at the site."""
    today = local_day(timezone.now(), site.zone)
    return days_load(site=site, first_day=today, days=STRIP_DAYS)


def first_day_with_room(*, site: Site, procedure_type, levels: int, surgeon) -> date | None:
    """The first open day from today with a free start for this case (none in four weeks:
    None). Each day costs the slot search its queries: the strip's days come first."""
    now = timezone.now()
    for load in day_loads(site):
        if load.percent >= 100:
            continue
        if selectors.slots_free(
            site=site, procedure_type=procedure_type, levels=levels, day=load.day,
            surgeon=surgeon, arrival_not_before=now,
        ):
            return load.day
    return None


def free_times_of(data: dict, *, chosen: str) -> FreeTimes:
    """The panel for a clean form's site, procedure, levels, surgeon and date."""
    site = data["site"]
    now = timezone.now()

    def free(day: date):
        return selectors.slots_free(
            site=site,
            procedure_type=data["procedure_type"],
            levels=data["levels"],
            day=day,
            surgeon=data["surgeon"],
            arrival_not_before=now,
        )

    slots = [FreeTime.of(slot, site.zone, locale=site.locale) for slot in free(data["date"])]
    next_days = []
    if not slots:
        open_weekdays = set(site.opening_hours.values_list("weekday", flat=True))
        day = data["date"]
        for _ in range(NEXT_DAYS_SEARCHED):
            day += timedelta(days=1)
            if day.weekday() not in open_weekdays:
                continue
            if found := free(day):
                first_arrival = local_hm(found[0].times.arrival_at, site.zone, locale=site.locale)
                next_days.append(OpenDay(day, len(found), first_arrival))
                if len(next_days) == NEXT_DAYS:
                    break
    return FreeTimes(
        site=site, day=data["date"], slots=slots, chosen=chosen, next_days=next_days,
        loads=day_loads(site),
    )
