"""One lock per case, shared by the writers of a case and the sender of its messages.

A reminder for the old time must never go out after a reschedule or cancel has committed. The
dispatcher holds the case's lock from its last check of the case until the provider has
answered; reschedule and cancel take the same lock first, so they wait for a send in progress
and the next send sees their change. On PostgreSQL these are advisory locks keyed by the case
id (a session lock for the sender, a transaction lock for the writers), released by the server
if a worker dies. SQLite runs on one machine and serialises writes; there they do nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from .errors import SchedulingError
from .models import Case

STALE_MESSAGE = "This case was changed by someone else; here it is as it is now."


def case_lock_for_change(case_id: int) -> None:
    """Wait for any send of this case's messages; call inside the writer's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [case_id])


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


@contextmanager
def case_lock_for_send(case_id: int) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [case_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [case_id])
