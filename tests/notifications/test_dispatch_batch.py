"""Reminders go in batches: a fixed number of statements per batch and two per reminder; a
change to a case that lands mid-batch stops the batch's messages not yet handed to the provider,
and a change gives up, with a clear refusal, rather than wait on a provider that never answers
(PostgreSQL, real transactions)."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import dispatch
from notifications.backends import locmem
from notifications.models import Reminder, ReminderRule, ReminderStatus
from scheduling import locks
from scheduling.errors import SchedulingError
from scheduling.services import case_cancel, case_reschedule
from tests.factories import case_made

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 in New York

entered = threading.Event()
release = threading.Event()


class FirstCallWaits(locmem.OutboxBackend):
    """The provider's first call of a test waits until the test lets it answer; the others take
    a third of a second."""

    def send(self, message):
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        else:
            time.sleep(0.3)
        return super().send(message)


@pytest.fixture
def first_call_waits(settings):
    from notifications import backends

    entered.clear()
    release.clear()
    settings.NOTIFICATIONS_SMS_BACKEND = f"{__name__}.FirstCallWaits"
    backends._cache.clear()
    yield
    release.set()
    backends._cache.clear()


def texts_due(case, count: int) -> list[int]:
    """`count` confirmation SMS of the case's plan, due now, one per number."""
    rule = ReminderRule.objects.get(kind="confirmation", audience="patient")
    return [
        Reminder.objects.create(
            case=case, rule=rule, kind="confirmation", audience="patient", channel="sms",
            recipient=f"+1646555{n:04d}", plan_version=case.plan_version, due_at=NOW,
            send_by=NOW + timedelta(days=1),
        ).pk
        for n in range(count)
    ]


def statements_to_send(count: int, cases) -> int:
    Reminder.objects.all().delete()
    rule = ReminderRule.objects.get(kind="confirmation", audience="patient")
    Reminder.objects.bulk_create(
        Reminder(case=cases[n % len(cases)], rule=rule, kind="confirmation", audience="patient",
                 channel="sms", recipient=f"+1646555{n:04d}", plan_version=1, due_at=NOW,
                 send_by=NOW + timedelta(days=1))
        for n in range(count)
    )
    with CaptureQueriesContext(connection) as queries:
        assert dispatch.reminders_dispatch(limit=count) == count
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == count
    return len(queries)


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_batch_costs_two_statements_a_reminder_and_a_fixed_few_besides(unit, front_desk,
                                                                        clock, outbox):
    clock.move_to(NOW)
    cases = [case_made(site=unit, by=front_desk.user, patient={"mrn": f"MRN-{n}"})
             for n in range(3)]
    five = statements_to_send(5, cases)
    fifteen = statements_to_send(15, cases)
    assert fifteen - five == 2 * 10  # provider_called_at before each call, sent after it
    # The claim, then BEGIN, the case locks, the re-check's four reads, COMMIT.
    assert five - 2 * 5 == 8


def test_a_reschedule_mid_batch_stops_the_texts_not_yet_handed_over(unit, front_desk, clock,
                                                                    outbox, first_call_waits):
    clock.move_to(NOW)
    case = case_made(site=unit, by=front_desk.user)
    Reminder.objects.filter(case=case).delete()
    first, *rest = texts_due(case, 3)
    claimed = dispatch.reminders_claim(now=NOW)
    assert claimed == [first, *rest]
    outcomes = {}
    sender = in_thread(lambda: outcomes.update(dispatch.reminders_send(claimed)))
    assert entered.wait(5)

    changer = in_thread(
        lambda: case_reschedule(case=case, day=date(2026, 3, 5), by=front_desk.user)
    )
    changer.join(0.5)
    assert changer.is_alive(), "the change must wait for the text with the provider"
    release.set()
    changer.join(10)
    sender.join(10)

    # The change waited for the first text, and for one handed over before it held the others
    # back; the last was withdrawn and never handed over.
    second, last = rest
    assert outcomes[first] == ReminderStatus.SENT
    assert outcomes[second] in (ReminderStatus.SENT, "cancelled")
    assert outcomes[last] == "cancelled"
    sent = [rid for rid in claimed if outcomes[rid] == ReminderStatus.SENT]
    assert [m.reminder_id for m in outbox] == sent
    assert Reminder.objects.get(pk=last).status == ReminderStatus.CANCELLED


def test_a_change_gives_up_on_a_provider_that_does_not_answer(unit, front_desk, clock,
                                                             monkeypatch):
    clock.move_to(NOW)
    case = case_made(site=unit, by=front_desk.user)
    (with_provider,) = texts_due(case, 1)
    Reminder.objects.filter(pk=with_provider).update(
        status=ReminderStatus.SENDING, claimed_at=NOW, provider_called_at=NOW
    )
    monkeypatch.setattr(locks, "SEND_WAIT_SECONDS", 0.2)

    with pytest.raises(SchedulingError) as refused:
        case_cancel(case=case, reason="Unwell", by=front_desk.user)
    assert refused.value.code == "message_being_sent"

    # A worker that died mid-call holds nothing once its row is stale; the row is left for the
    # sweeper (it may have gone out), not called withdrawn.
    clock.move_to(NOW + dispatch.STALE_SENDING + timedelta(seconds=1))
    case_cancel(case=case, reason="Unwell", by=front_desk.user)
    assert Reminder.objects.get(pk=with_provider).status == ReminderStatus.SENDING
    dispatch.reminders_sweep()
    assert Reminder.objects.get(pk=with_provider).status == ReminderStatus.UNKNOWN


def test_a_claim_given_back_by_the_sweeper_is_not_sent_by_the_batch_that_lost_it(
    unit, front_desk, clock, outbox, first_call_waits
):
    clock.move_to(NOW)
    case = case_made(site=unit, by=front_desk.user)
    Reminder.objects.filter(case=case).delete()
    first, second = texts_due(case, 2)
    claimed = dispatch.reminders_claim(now=NOW)
    outcomes = {}
    slow = in_thread(lambda: outcomes.update(dispatch.reminders_send(claimed)))
    assert entered.wait(5)

    later = NOW + dispatch.STALE_SENDING + timedelta(minutes=1)
    assert dispatch.reminders_sweep(now=later)["requeued"] == 1  # the second, never handed over
    assert dispatch.reminders_claim(now=later) == [second]  # another dispatcher has it now
    release.set()
    slow.join(10)

    assert outcomes == {first: ReminderStatus.SENT, second: ReminderStatus.SENDING}
    assert [m.reminder_id for m in outbox] == [first]
    assert dispatch.reminder_send(second) == ReminderStatus.SENT  # by the one that claimed it
    assert [m.reminder_id for m in outbox] == [first, second]


def test_recording_a_send_leaves_no_setting_on_the_connection(unit, front_desk, clock, outbox):
    clock.move_to(NOW)
    case = case_made(site=unit, by=front_desk.user)
    Reminder.objects.filter(case=case).delete()
    texts_due(case, 2)
    assert dispatch.reminders_dispatch() == 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)  # a pooled connection serves the next client as-is
    assert [m.reminder_id for m in outbox] == list(
        Reminder.objects.filter(status=ReminderStatus.SENT).values_list("id", flat=True)
    )
