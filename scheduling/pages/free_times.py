"""A free time as the booking and reschedule pages list it, and what they say when the time a
clerk chose was taken by someone else before they pressed the button."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..slots import Slot
from ..timing import local_hm

# A time shown as free that another booking took before this one: show the times free now.
SLOT_LOST = {"slot_taken", "surgeon_unavailable", "no_free_slot"}
SLOT_LOST_MESSAGE = "That time was just taken; here are the free times now."


@dataclass(frozen=True)
class FreeTime:
    value: str  # the procedure start, ISO 8601 with the site's offset
    start: str
    arrival: str
    ends: str
    rooms: str
    surgeon: str

    @classmethod
    def of(cls, slot: Slot, zone: ZoneInfo) -> "FreeTime":
        return cls(
            value=slot.times.procedure_start.astimezone(zone).isoformat(),
            start=local_hm(slot.times.procedure_start, zone),
            arrival=local_hm(slot.times.arrival_at, zone),
            ends=local_hm(slot.times.ends_at, zone),
            rooms=", ".join(dict.fromkeys(resource.name for resource in slot.resources)),
            surgeon=slot.surgeon.name if slot.surgeon else "",
        )
