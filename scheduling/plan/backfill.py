"""Who on the waiting list could take the time a cancelled or no-show case gave back.

A suggestion is a free slot (found by the booking pages' own DayBook, so booking it will work)
whose procedure starts inside the freed room time, for a waiting patient of the same site whose
date window includes the day and whose screening is done and clear.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..models import (
    PRIORITY_RANK,
    RELEASED_STATUSES,
    Case,
    WaitingListEntry,
    WaitingStatus,
)
from ..screening import screening_blockers
from ..slots import DayBook, Slot
from .waiting import entry_screening


@dataclass(frozen=True)
class Suggestion:
    entry: WaitingListEntry
    slot: Slot


def freed_room_time(case: Case) -> tuple[datetime, datetime] | None:
    stages = [s for s in case.stages.all() if s.resource.kind == "procedure_room"]
    if not stages:
        return None
    return min(s.planned_start for s in stages), max(s.held_until for s in stages)


def backfill_suggestions(case: Case) -> list[Suggestion]:
    if case.status not in RELEASED_STATUSES:
        return []
    freed = freed_room_time(case)
    if freed is None or freed[1] <= timezone.now():
        return []
    entries = (
        WaitingListEntry.objects.filter(
            site=case.site, status=WaitingStatus.WAITING, screening_done=True,
            earliest_date__lte=case.day, latest_date__gte=case.day,
        )
        .exclude(Exists(Case.objects.filter(
            patient=OuterRef("patient"), day=case.day,
        ).exclude(status__in=RELEASED_STATUSES)))
        .select_related("patient", "procedure_type", "surgeon")
        .prefetch_related("procedure_type__stage_templates")
    )
    books: dict[tuple, DayBook] = {}
    suggestions = []
    for entry in entries:
        answers = entry_screening(entry)
        if answers is None or screening_blockers(
            answers, min_conservative_weeks=case.site.conservative_treatment_min_weeks
        ):
            continue
        key = (entry.procedure_type_id, entry.levels, entry.surgeon_id)
        if key not in books:
            books[key] = DayBook.load(
                site=case.site, procedure_type=entry.procedure_type, levels=entry.levels,
                day=case.day, surgeon=entry.surgeon,
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
