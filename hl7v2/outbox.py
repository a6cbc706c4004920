"""Write a case's SIU message into the outbox, inside the transaction of the change it tells:
case_book S12, case_reschedule S13, case_cancel S15, case_mark_no_show S26, a clinician's
approval of a case under review S12, and S14 for a day's step that changes the appointment's
filler status (check-in, discharge, or either undone: scheduling.services.tracking). A change
of driver, screening answers or held medicines is not told: nothing of it is in the message.

Called by those services under their lock on the case (scheduling.locks.case_locked; a
case just booked is seen by no other transaction yet), so the next `sequence` of a case's
messages to an endpoint is read and taken with nobody else writing one; the unique constraint on
(case, endpoint, sequence) would refuse a second writer anyway. With no endpoint configured
nothing is read or written: a booking costs not one statement more.

What an endpoint is told follows what it already knows of the case:
- a case awaiting a clinician's review is told nothing: the unit has not accepted it yet; its
  approval is its S12;
- a change of a case the endpoint was never told of (booked under review and declined, or
  booked before the endpoint was configured): a move or a modification is told as an S12,
  with the case as it now stands, and a cancellation or a no-show is not told at all.
"""

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from scheduling.models import Case, CaseStatus, Stage

from .models import OutboundMessage, OutboundStatus, SiuTrigger
from .sending import hl7_dispatch_soon
from .siu import FILLER_STATUS, siu_messages

# The triggers about a case that an endpoint must already know of.
ENDING = (SiuTrigger.CANCELLED, SiuTrigger.NO_SHOW)


def siu_write(*, case: Case, trigger: str, by=None) -> list[OutboundMessage]:
    """One planned message per configured endpoint telling `trigger` about `case` (after the
    change is made on it); `by` is the member of staff who made the change, if one did."""
    endpoints = sorted(settings.HL7_ENDPOINTS)
    if not endpoints or case.status == CaseStatus.NEEDS_REVIEW:
        return []
    last = dict(
        OutboundMessage.objects.filter(case=case, endpoint__in=endpoints)
        .values("endpoint").annotate(last=Max("sequence")).values_list("endpoint", "last")
    )
    # What each endpoint is told: the trigger, or the booking it never heard of.
    told = {}
    for endpoint in endpoints:
        if endpoint in last:
            told[endpoint] = trigger
        elif trigger not in ENDING:
            told[endpoint] = SiuTrigger.BOOKED
    if not told:
        return []
    stages = _stages(case)
    now = timezone.now()
    rows = []
    for each in sorted(set(told.values())):
        names = [endpoint for endpoint in endpoints if told.get(endpoint) == each]
        control_ids = [new_control_id() for _ in names]
        bodies = siu_messages(case=case, stages=stages, trigger=each, control_ids=control_ids,
                              at=now, entered_by=by)
        rows += [
            OutboundMessage(
                case=case, site_id=case.site_id, endpoint=endpoint, trigger=each,
                sequence=last.get(endpoint, 0) + 1, control_id=control_id, body=body,
                status=OutboundStatus.PLANNED, due_at=now,
            )
            for endpoint, control_id, body in zip(names, control_ids, bodies, strict=True)
        ]
    written = OutboundMessage.objects.bulk_create(rows)
    hl7_dispatch_soon()  # sent as soon as the change commits, not at the next beat
    return written


def siu_status_changed(*, case: Case, before: str, by=None) -> list[OutboundMessage]:
    """An S14 when the case's step of the day changes what the engine shows of the appointment
    (its filler status, SCH-25): checked in (Started), discharged (Complete), or either undone.
    The steps between (pre-op, procedure, cement set, recovery) are all Started: nothing to
    tell."""
    if FILLER_STATUS[before] == FILLER_STATUS[case.status]:
        return []
    return siu_write(case=case, trigger=SiuTrigger.CHANGED, by=by)


def new_control_id() -> str:
    """MSH-10: unique among every message the unit sends (20 characters, the column's size)."""
    return "V" + uuid.uuid4().hex[:19].upper()


def _stages(case: Case) -> Sequence[Stage]:
    """The case's stages in order, with their rooms and surgeons: those the service has just
    written when it left them on the case (booking, moving), else read in one query."""
    if "stages" in getattr(case, "_prefetched_objects_cache", {}):
        stages = case.stages.all()
    else:
        stages = case.stages.select_related("resource", "surgeon")
    return sorted(stages, key=lambda stage: stage.position)
