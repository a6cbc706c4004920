"""Who on the waiting list could take the time a cancelled or no-show case gave back.

A suggestion is a free slot (found by the booking pages' own DayBook, so booking it will work)
whose procedure starts inside the freed room time, for a waiting patient of the same site whose
date window includes the day and whose screening is done and clear.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..models import (
    PRIORITY_RANK,
    RELEASED_STATUSES,
    Case,
    Site,
    WaitingListEntry,
    WaitingStatus,
)
from ..offers.freed import freed_room_time
from ..screening import screening_blockers
from ..slots import DayBook, Slot
from .waiting import entry_screening


@dataclass(frozen=True)
class Suggestion:
    entry: WaitingListEntry
    slot: Slot


def backfill_suggestions(case: Case) -> list[Suggestion]:
    if case.status not in RELEASED_STATUSES:
        return []
    freed = freed_room_time(case)
    if freed is None:
        return []
    return freed_time_suggestions(site=case.site, day=case.day, freed=freed)


def freed_time_suggestions(
    *, site: Site, day: date, freed: tuple[datetime, datetime]
) -> list[Suggestion]:
    """The ranking for a room time given back on `day` (by a cancel, a no-show or a move)."""
    if freed[1] <= timezone.now():
        return []
    entries = (
        WaitingListEntry.objects.filter(
            site=site, status=WaitingStatus.WAITING, screening_done=True,
            earliest_date__lte=day, latest_date__gte=day,
        )
        .exclude(Exists(Case.objects.filter(
            patient=OuterRef("patient"), day=day,
        ).exclude(status__in=RELEASED_STATUSES)))
        .select_related("patient", "procedure_type", "surgeon")
        .prefetch_related("procedure_type__stage_templates")
    )
    books: dict[tuple, DayBook] = {}
    suggestions = []
    for entry in entries:
        answers = entry_screening(entry)
        if answers is None or screening_blockers(
            answers, min_conservative_weeks=site.conservative_treatment_min_weeks
        ):
            continue
        key = (entry.procedure_type_id, entry.levels, entry.surgeon_id)
        if key not in books:
            books[key] = DayBook.load(
                site=site, procedure_type=entry.procedure_type, levels=entry.levels,
                day=day, surgeon=entry.surgeon,
            )
        slot = next(
            (slot for slot in books[key].free_slots(arrival_not_before=timezone.now())
             if freed[0] <= slot.times.procedure_start < freed[1]),
            None,
        )
        if slot is not None:
            suggestions.append(Suggestion(entry, slot))
    suggestions.sort(key=lambda s: (-PRIORITY_RANK[s.entry.priority], s.entry.created_at))
    return suggestions
