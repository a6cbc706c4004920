"""dispatch.py as the one writer of a reminder's status, called directly: the provider's delivery
reports up the status ladder, STOP and START texted back, and unsent messages withdrawn when the
case changes. The webhooks that call it are tested in test_twilio_webhooks.py."""

from datetime import timedelta

import pytest

from notifications.dispatch import (
    delivery_moves_forward,
    reminder_delivery_record,
    reminders_withdraw,
    sms_opt_in,
    sms_opt_out,
)
from notifications.models import Reminder, ReminderStatus, SmsOptOut
from tests.bookings import day_booked
from tests.conftest import NOW

pytestmark = pytest.mark.django_db
SID = "SM" + "4" * 32
PHONE = "+12125550100"
S = ReminderStatus


@pytest.fixture
def case(unit):
    [case] = day_booked(unit, 1)
    return case


@pytest.fixture
def sent(case):
    """The booking confirmation by SMS, handed to the provider as SID."""
    reminder = Reminder.objects.get(case=case, kind="confirmation", channel="sms")
    Reminder.objects.filter(pk=reminder.pk).update(
        status=S.SENT, provider_message_id=SID, sent_at=NOW
    )
    reminder.refresh_from_db()
    return reminder


@pytest.mark.parametrize(
    ("current", "reported", "moves"),
    [
        (S.SENDING, S.SENT, True),
        (S.UNKNOWN, S.SENT, True),
        (S.SENT, S.DELIVERED, True),
        (S.SENT, S.FAILED, True),
        (S.UNKNOWN, S.DELIVERED, True),
        (S.SENT, S.SENT, False),
        (S.DELIVERED, S.SENT, False),
        (S.DELIVERED, S.FAILED, False),
        (S.FAILED, S.DELIVERED, False),
        (S.PLANNED, S.SENT, False),
        (S.CANCELLED, S.DELIVERED, False),
        (S.SUPPRESSED, S.FAILED, False),
    ],
)
def test_a_status_only_moves_up_the_ladder(current, reported, moves):
    assert delivery_moves_forward(current, reported) is moves


def test_delivered_is_recorded_with_its_time(sent, clock):
    clock.shift(timedelta(seconds=30))

    recorded = reminder_delivery_record(provider_message_id=SID, status=S.DELIVERED)

    assert recorded == sent
    sent.refresh_from_db()
    assert (sent.status, sent.sent_at, sent.delivered_at) == (S.DELIVERED, NOW,
                                                              NOW + timedelta(seconds=30))


def test_a_failure_keeps_its_reason_and_goes_again_by_the_other_channel(sent):
    recorded = reminder_delivery_record(
        provider_message_id=SID, status=S.FAILED, error="No such handset." * 60
    )

    assert recorded == sent
    sent.refresh_from_db()
    assert sent.status == S.FAILED
    assert sent.failed_at == NOW
    assert sent.error == ("No such handset." * 60)[:500]
    again = Reminder.objects.get(case=sent.case, kind="confirmation", channel="email",
                                 status=S.PLANNED)
    assert again.recipient == sent.case.patient.email


def test_a_late_report_a_repeat_or_an_unknown_id_changes_nothing(sent):
    reminder_delivery_record(provider_message_id=SID, status=S.DELIVERED)
    sent.refresh_from_db()
    before = (sent.status, sent.delivered_at, sent.failed_at, sent.error)

    assert reminder_delivery_record(provider_message_id=SID, status=S.SENT) is None
    assert reminder_delivery_record(provider_message_id=SID, status=S.DELIVERED) is None
    assert reminder_delivery_record(provider_message_id=SID, status=S.FAILED) is None
    assert reminder_delivery_record(provider_message_id="SM" + "5" * 32, status=S.SENT) is None

    sent.refresh_from_db()
    assert (sent.status, sent.delivered_at, sent.failed_at, sent.error) == before


def test_an_early_report_marks_a_claimed_message_sent_and_keeps_an_earlier_time(case, clock):
    reminder = Reminder.objects.filter(case=case).first()
    Reminder.objects.filter(pk=reminder.pk).update(status=S.SENDING, provider_message_id=SID)
    clock.shift(timedelta(minutes=1))

    reminder_delivery_record(provider_message_id=SID, status=S.SENT)
    reminder_delivery_record(provider_message_id=SID, status=S.SENT)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == (S.SENT, NOW + timedelta(minutes=1))


def test_stop_suppresses_what_is_planned_for_the_number_and_start_lifts_it(case, sent):
    planned = Reminder.objects.filter(case=case, channel="sms", recipient=PHONE,
                                      status=S.PLANNED)
    assert planned.exists()
    by_email = list(Reminder.objects.filter(case=case, channel="email")
                    .values_list("pk", "status"))

    sms_opt_out(phone=PHONE)

    assert SmsOptOut.objects.filter(phone=PHONE).exists()
    assert not planned.exists()
    assert Reminder.objects.filter(case=case, status=S.SUPPRESSED,
                                   error="The recipient texted STOP.").exists()
    assert list(Reminder.objects.filter(case=case, channel="email")
                .values_list("pk", "status")) == by_email
    sent.refresh_from_db()
    assert sent.status == S.SENT

    sms_opt_in(phone=PHONE)

    assert not SmsOptOut.objects.exists()


def test_withdrawing_cancels_only_what_has_not_gone_out(case, sent):
    sending = Reminder.objects.filter(case=case, status=S.PLANNED).first()
    Reminder.objects.filter(pk=sending.pk).update(status=S.SENDING)
    unsent = Reminder.objects.filter(case=case, status__in=[S.PLANNED, S.SENDING]).count()

    withdrawn = reminders_withdraw(Reminder.objects.filter(case=case), reason="Moved.")

    assert withdrawn == unsent
    assert not Reminder.objects.filter(case=case, status__in=[S.PLANNED, S.SENDING]).exists()
    assert Reminder.objects.filter(case=case, status=S.CANCELLED, error="Moved.").count() == unsent
    sent.refresh_from_db()
    assert sent.status == S.SENT
