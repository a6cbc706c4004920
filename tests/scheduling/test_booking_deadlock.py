"""Two bookings that wait on each other's new stages: PostgreSQL breaks the deadlock by failing
one of them, and that booking is tried again rather than answered with a 500.

Found by bench/load.py: two clerks' bookings each inserted a stage the other's exclusion check
had to wait for ("deadlock detected while checking exclusion constraint"). The test builds the
same cycle on purpose: a second transaction (this thread) holds an uncommitted stage that the
booking's recovery bay needs, and once the booking waits for it, asks for the room the booking
has just taken. This transaction waits longer before checking for deadlocks, so the booking is
the one PostgreSQL fails.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from scheduling.models import Case, Resource, Stage
from tests.factories import case_made
from tests.scheduling.test_concurrency_postgres import case_without_stages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
HOUR = timedelta(hours=1)


def stage_on(case: Case, kind: str, kind_of_resource: str, start: datetime, end: datetime):
    return Stage.objects.create(
        case=case, position=0, kind=kind, resource=Resource.objects.get(kind=kind_of_resource),
        planned_start=start, planned_end=end, held_until=end,
    )


def wait_until_someone_waits_for_a_transaction(timeout: float = 20) -> None:
    """Until a session of this test's database waits for another's transaction. pg_locks shows
    the whole server, where the other test workers' databases may have waits of their own.
    pg_stat_activity is read afresh each time: it is kept for the rest of a transaction."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                "WHERE locktype = 'transactionid' AND NOT granted "
                "AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("the booking never waited for the other transaction")


def test_a_booking_failed_by_a_deadlock_is_tried_again(tiny_unit):
    # Other cases for the other transaction to give stages on the booking's room and bay.
    elsewhere = case_made(site=tiny_unit, start=START + 3 * HOUR, driver_name="")
    holder, taker = case_without_stages(elsewhere), case_without_stages(elsewhere)
    outcome = {}

    def clerk():
        try:
            with transaction.atomic():  # as the API view does: patient and case together
                outcome["case"] = case_made(site=tiny_unit, start=START, driver_name="")
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc
        finally:
            connection.close()

    booking = threading.Thread(target=clerk, daemon=True)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '10s'")
        # The recovery bay from the booking's recovery on: the booking will wait for this.
        stage_on(holder, "recovery", "recovery_bay", START + 2 * HOUR, START + 4 * HOUR)
        booking.start()
        wait_until_someone_waits_for_a_transaction()
        # The room at the booking's procedure: now this waits for the booking, a cycle.
        stage_on(taker, "procedure", "procedure_room", START, START + HOUR)
        transaction.set_rollback(True)  # the other clerk gives up; the booking can go on
    booking.join(timeout=60)

    assert not booking.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["case"].procedure_start == START
    assert Stage.objects.filter(case=outcome["case"]).count() == 4
