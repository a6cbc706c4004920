"""The low-level steps of a hold (scheduling.SlotHold) that the booking itself takes: taking a
held time for the case booked into it, and letting the holds past their time go. Holding a
time is scheduling.services.holds."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from .errors import SchedulingError
from .models import SlotHold, SlotHoldStatus, Stage
from .slots import Pinned


def hold_pinned(hold: SlotHold) -> Pinned:
    return Pinned(tuple(hold.resource_ids), hold.surgeon_id)


def hold_take(hold: SlotHold) -> SlotHold:
    """Inside a booking's transaction: the hold, locked, still held and not run out, with its
    stages deleted so the booking can have its time. Rolled back with the booking if it fails."""
    locked = SlotHold.objects.select_for_update().get(pk=hold.pk)
    if locked.status == SlotHoldStatus.BOOKED:
        raise SchedulingError(
            "hold_expired", "This hold was booked already; find a time and hold it again."
        )
    if locked.status != SlotHoldStatus.HELD or locked.expires_at <= timezone.now():
        raise SchedulingError(
            "hold_expired",
            "The hold on this time has run out or was released; find a time and hold it again.",
        )
    locked.stages.all().delete()
    return locked


def hold_booked(hold: SlotHold, case) -> None:
    hold.status = SlotHoldStatus.BOOKED
    hold.case = case
    hold.save(update_fields=["status", "case", "updated_at"])



def slot_holds_expire(*, now: datetime | None = None, day: date | None = None) -> int:
    """Let the holds past their time go (those of `day` only, when given): their stages are
    deleted and they are marked run out. The number let go."""
    now = now or timezone.now()
    with transaction.atomic():
        due = SlotHold.objects.select_for_update(skip_locked=True).filter(
            status=SlotHoldStatus.HELD, expires_at__lte=now
        )
        if day is not None:
            due = due.filter(day=day)
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        Stage.objects.filter(hold_id__in=ids).delete()
        SlotHold.objects.filter(pk__in=ids).update(status=SlotHoldStatus.EXPIRED, updated_at=now)
    return len(ids)

