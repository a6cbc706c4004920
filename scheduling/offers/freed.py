"""The time a cancelled, no-show or moved case gives back, recorded in the same transaction as
the change, and its first wave asked for once that transaction commits.

The row is the promise (DESIGN.md decision 2): the task sent after commit only starts the first
wave sooner. If the broker is down or the worker dies, the periodic tick finds the row with no
wave yet and starts it. Booking imports this module, so it imports nothing that books.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from vertebro_site.celery import app

from ..models import Case, ResourceKind
from ..offer_models import FreedTime

log = logging.getLogger(__name__)

OFFERS_START_TASK = "scheduling.tasks.offers_start"


def freed_room_time(case: Case) -> tuple[datetime, datetime] | None:
    """The procedure-room time the case holds (or held): from its first room stage's start to
    the last one's release, turnover included."""
    stages = [s for s in case.stages.all() if s.resource.kind == ResourceKind.PROCEDURE_ROOM]
    if not stages:
        return None
    return min(s.planned_start for s in stages), max(s.held_until for s in stages)


def freed_time_record(*, case: Case) -> FreedTime | None:
    """Call inside the transaction that frees the case's time, before a move rewrites its
    stages. Records the time to offer when the site offers freed times and the time starts far
    enough ahead; None otherwise."""
    site = case.site
    freed = freed_room_time(case)
    if not site.offers_enabled or freed is None:
        return None
    if freed[0] < timezone.now() + timedelta(hours=site.offer_min_lead_hours):
        return None
    row = FreedTime.objects.create(
        site=site, case=case, day=case.day, starts_at=freed[0], ends_at=freed[1]
    )
    transaction.on_commit(lambda: _start_soon(row.pk))
    return row


def _start_soon(freed_time_id: int) -> None:
    try:
        app.send_task(OFFERS_START_TASK, args=[freed_time_id])
    except Exception as exc:  # the booking is done; the periodic tick starts the wave instead
        log.warning("freed time %s: could not queue its first wave: %s", freed_time_id,
                    type(exc).__name__)
