"""One lock per case, shared by the writers of a case and the sender of its messages.

A reminder for the old time must never go out after a reschedule or cancel has committed, and a
change waits for a send in progress. On PostgreSQL a writer takes a transaction-level advisory
lock keyed by the case id; the dispatcher takes the same lock while it re-checks a batch's cases,
so a check never reads a change half made. No lock is held across the provider call (PgBouncer
in transaction pooling mode allows no session lock): the claimed reminder rows serve as the
send's lease: the writer waits for the case's rows with the provider, then, under its lock,
holds back those not yet handed over and waits for any handed over just before
(notifications.dispatch.reminders_held_back, reminders_in_flight_wait). A worker that dies
mid-call leaves a row that stops holding anything once it is stale; until then a change to its
case is refused (`message_being_sent`) after SEND_WAIT_SECONDS. SQLite runs on one machine and
serialises writes; there these do nothing.
"""

import time

from django.db import connection

from notifications.dispatch import reminders_held_back, reminders_in_flight_wait

from .errors import SchedulingError
from .models import Case

STALE_MESSAGE = "This case was changed by someone else; here it is as it is now."
SENDING_MESSAGE = (
    "A message to this patient is being sent and the provider has not answered yet; "
    "try again in a minute."
)
# A provider answers within seconds (Twilio's client gives up after 15). A change gives up (409)
# rather than hold a page longer: both waits together stay under this, well inside a web
# server's request timeout (deploy/gunicorn.conf.py: 30 s).
SEND_WAIT_SECONDS = 20.0


def case_lock_for_change(case_id: int) -> None:
    """Wait for any send of this case's messages; call inside the writer's transaction."""
    if connection.vendor != "postgresql":
        return
    # The sends under way are waited for before the lock, so that no batch being checked waits
    # on this change while a provider (or a dead worker's row) keeps it waiting.
    deadline = time.monotonic() + SEND_WAIT_SECONDS
    _sends_wait(case_id, deadline)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [case_id])
    reminders_held_back(case_id=case_id)
    _sends_wait(case_id, deadline)  # those handed over before the hold-back


def _sends_wait(case_id: int, deadline: float) -> None:
    left = max(0.0, deadline - time.monotonic())
    if not reminders_in_flight_wait(case_id=case_id, timeout=left):
        raise SchedulingError("message_being_sent", SENDING_MESSAGE)


def case_locked(case_id: int, *, expected_version: str | None = None) -> Case:
    """The case, locked for a change inside the writer's transaction.

    With `expected_version` (the version a page or client last saw), a case changed since is
    refused with `case_changed` rather than changed from a state nobody looked at; the check
    and the write share the transaction and the lock, so nothing slips in between."""
    case_lock_for_change(case_id)
    locked = Case.objects.select_for_update().get(pk=case_id)
    if expected_version is not None and locked.version != expected_version:
        raise SchedulingError("case_changed", STALE_MESSAGE)
    return locked
