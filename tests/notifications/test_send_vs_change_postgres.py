"""A reschedule or cancel that lands while a message is being sent: no message for the old time
goes out after the change has committed (PostgreSQL, real transactions, two threads)."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from notifications import dispatch
from notifications.backends import locmem
from notifications.models import Reminder, ReminderStatus
from scheduling.services import case_cancel, case_reschedule
from tests.factories import case_made

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
EIGHT_AM_NEW_YORK = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

entered = threading.Event()
release = threading.Event()


class SlowBackend(locmem.OutboxBackend):
    """The provider takes its time: the test decides when it answers."""

    def send(self, message):
        entered.set()
        assert release.wait(10)
        return super().send(message)


@pytest.fixture
def slow_provider(settings):
    from notifications import backends

    entered.clear()
    release.clear()
    settings.NOTIFICATIONS_SMS_BACKEND = f"{__name__}.SlowBackend"
    backends._cache.clear()
    yield
    release.set()
    backends._cache.clear()


def in_thread(target):
    outcome = {}

    def run():
        try:
            outcome["value"] = target()
        except Exception as exc:  # surfaced by the assertions below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def booked_case(unit, front_desk, clock):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)  # the confirmation is due
    return case


@pytest.mark.parametrize("change", ["reschedule", "cancel"])
def test_a_change_waits_for_a_send_in_progress(unit, front_desk, clock, outbox, slow_provider,
                                               change):
    case = booked_case(unit, front_desk, clock)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)
    sender, sent = in_thread(lambda: dispatch.reminder_send(claimed))
    assert entered.wait(5)

    def make_change():
        if change == "reschedule":
            return case_reschedule(case=case, day=datetime(2026, 3, 5).date(), by=front_desk.user)
        return case_cancel(case=case, reason="Unwell", by=front_desk.user)

    changer, changed = in_thread(make_change)
    time.sleep(0.5)
    assert changer.is_alive(), "the change must wait for the send that is under way"
    release.set()
    sender.join(5)
    changer.join(5)
    assert sent == {"value": ReminderStatus.SENT}
    assert "error" not in changed
    assert Reminder.objects.get(pk=claimed).status == ReminderStatus.SENT
    # Nothing planned for the old time is left to go out.
    assert not Reminder.objects.filter(
        case=case, plan_version=1, status__in=[ReminderStatus.PLANNED, ReminderStatus.SENDING]
    ).exclude(kind__in=["reschedule_notice", "cancellation_notice"]).exists()


def test_a_send_after_a_change_committed_does_not_go_out(unit, front_desk, clock, outbox):
    case = booked_case(unit, front_desk, clock)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)
    case_reschedule(case=case, day=datetime(2026, 3, 5).date(), by=front_desk.user)
    assert dispatch.reminder_send(claimed) == ReminderStatus.CANCELLED
    assert outbox == []


def test_two_dispatchers_never_claim_the_same_row(unit, front_desk, clock):
    for number in range(6):
        case_made(site=unit, by=front_desk.user, patient={"mrn": f"MRN-{number}"})
    clock.move_to(datetime(2026, 3, 2, 22, 0, tzinfo=UTC))  # 17:00: many messages due
    barrier = threading.Barrier(2)

    def claim():
        barrier.wait()
        return dispatch.reminders_claim(now=datetime(2026, 3, 2, 22, 0, tzinfo=UTC), limit=5)

    threads = [in_thread(claim) for _ in range(2)]
    for thread, _ in threads:
        thread.join(10)
    first, second = (outcome["value"] for _, outcome in threads)
    assert first
    assert second
    assert not set(first) & set(second)
