"""Booking plans the messages; dispatch sends what is due, once; changes move or stop them."""

from datetime import UTC, datetime, timedelta

import pytest

from notifications import dispatch
from notifications.backends import locmem
from notifications.dispatch import sms_opt_out
from notifications.models import Reminder, ReminderRule, ReminderStatus, SmsOptOut
from scheduling.models import Case
from tests.factories import case_made

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"
EIGHT_AM_NEW_YORK = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def kinds(case, status=None):
    rows = Reminder.objects.filter(case=case)
    if status:
        rows = rows.filter(status=status)
    return sorted(rows.values_list("kind", flat=True))


def test_booking_plans_the_messages_that_can_still_help(unit, front_desk):
    # Booked Monday 07:00 New York for Tuesday 08:30.
    case = case_made(site=unit, by=front_desk.user)
    assert kinds(case) == [
        "aftercare", "arrival", "confirmation", "driver_pickup", "fasting", "infection_check",
        *["pain_ask"] * 4,  # at booking, and on days 1, 7 and 30 after the procedure
    ]
    confirmation = Reminder.objects.get(case=case, kind="confirmation")
    assert confirmation.due_at == EIGHT_AM_NEW_YORK  # booked in quiet hours
    pickup = Reminder.objects.get(case=case, kind="driver_pickup")
    assert (pickup.audience, pickup.recipient) == ("driver", "+12125550101")


def test_nothing_is_sent_before_it_is_due_and_each_message_once(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    assert dispatch.reminders_dispatch() == 0
    clock.move_to(EIGHT_AM_NEW_YORK)
    assert dispatch.reminders_dispatch() == 1
    assert dispatch.reminders_dispatch() == 0
    (message,) = outbox
    assert message.to == "+12125550100"
    assert "Margaret" in message.text
    assert "07:00" in message.text
    row = Reminder.objects.get(case=case, kind="confirmation")
    assert row.status == ReminderStatus.SENT
    assert row.provider_message_id.startswith("locmem-")
    assert row.attempts == 1


def test_reschedule_moves_unsent_messages_and_tells_the_patient_the_new_time(
    unit, front_desk, clock, outbox
):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()  # the confirmation with the old time goes out
    response = front_desk.post(f"{CASES}{case.pk}/reschedule/", {"date": "2026-03-05"},
                               format="json")
    assert response.status_code == 200
    old = Reminder.objects.filter(case=case, plan_version=1)
    assert set(old.exclude(kind="confirmation").values_list("status", flat=True)) == {
        ReminderStatus.CANCELLED
    }
    new = Reminder.objects.filter(case=case, plan_version=2)
    assert "reschedule_notice" in new.values_list("kind", flat=True)
    assert new.get(kind="arrival").due_at == datetime(2026, 3, 4, 21, 0, tzinfo=UTC)
    dispatch.reminders_dispatch()
    assert "moved to Thursday 5 March" in outbox[-1].text


def test_cancel_stops_everything_but_the_cancellation_notice(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    front_desk.post(f"{CASES}{case.pk}/cancel/", {"reason": "Feeling unwell"}, format="json")
    for hour in range(14, 24):  # the rest of the day: only the notice goes out
        clock.move_to(datetime(2026, 3, 2, hour, 0, tzinfo=UTC))
        dispatch.reminders_dispatch()
    assert len(outbox) == 2
    assert "is cancelled" in outbox[-1].text
    assert not Reminder.objects.filter(case=case, status=ReminderStatus.PLANNED).exists()


def test_a_cancel_before_anything_went_out_sends_nothing(unit, front_desk, outbox, clock):
    case = case_made(site=unit, by=front_desk.user)
    front_desk.post(f"{CASES}{case.pk}/cancel/", {"reason": "Duplicate"}, format="json")
    clock.move_to(datetime(2026, 3, 10, tzinfo=UTC))
    dispatch.reminders_dispatch()
    assert outbox == []


def test_a_stop_reply_suppresses_sms_at_once_and_email_takes_over(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    sms_opt_out(phone="+12125550100")
    assert SmsOptOut.objects.filter(phone="+12125550100").exists()
    assert Reminder.objects.get(case=case, kind="confirmation").status == "suppressed"
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    assert outbox == []


def test_a_transient_failure_is_retried_with_backoff(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    locmem.failing["+12125550100"] = False
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    row = Reminder.objects.get(case=case, kind="confirmation")
    assert (row.status, row.attempts) == (ReminderStatus.PLANNED, 1)
    assert row.due_at == EIGHT_AM_NEW_YORK + timedelta(seconds=30)
    del locmem.failing["+12125550100"]
    clock.move_to(EIGHT_AM_NEW_YORK + timedelta(seconds=31))
    dispatch.reminders_dispatch()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (ReminderStatus.SENT, 2)


def test_a_permanent_failure_falls_back_to_email(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    locmem.failing["+12125550100"] = True
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    dispatch.reminders_dispatch()
    sms = Reminder.objects.get(case=case, kind="confirmation", channel="sms")
    email = Reminder.objects.get(case=case, kind="confirmation", channel="email")
    assert sms.status == ReminderStatus.FAILED
    assert email.status == ReminderStatus.SENT
    assert outbox[-1].to == "m.whitfield@example.org"


def test_a_broken_template_fails_its_row_after_retries_and_the_rest_go_out(
    unit, front_desk, clock, outbox
):
    ReminderRule.objects.filter(kind="arrival").update(sms_text="{% if %}")
    case = case_made(site=unit, by=front_desk.user, patient={"email": ""})
    clock.move_to(datetime(2026, 3, 2, 21, 0, tzinfo=UTC))  # 16:00: fasting and arrival due
    for _ in range(6):
        dispatch.reminders_dispatch()
        clock.shift(timedelta(minutes=10))
    arrival = Reminder.objects.get(case=case, kind="arrival")
    assert (arrival.status, arrival.attempts) == (ReminderStatus.FAILED, 5)
    assert "render failed" in arrival.error
    assert Reminder.objects.get(case=case, kind="fasting").status == ReminderStatus.SENT
    assert Reminder.objects.get(case=case, kind="confirmation").status == ReminderStatus.SENT
    assert any("no solid food" in message.text for message in outbox)


def test_a_reminder_that_missed_its_deadline_is_flagged_not_sent(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(datetime(2026, 3, 3, 14, 0, tzinfo=UTC))  # after the procedure started
    dispatch.reminders_sweep()
    fasting = Reminder.objects.get(case=case, kind="fasting")
    assert (fasting.status, fasting.late) == (ReminderStatus.FAILED, True)
    assert all(m.to != "+12125550100" or "solid" not in m.text for m in outbox)


def test_the_sweeper_requeues_unsent_claims_and_marks_calls_in_flight_unknown(unit, front_desk,
                                                                              clock):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)
    in_flight = Reminder.objects.filter(case=case, kind="arrival")
    in_flight.update(status="sending", claimed_at=EIGHT_AM_NEW_YORK,
                     provider_called_at=EIGHT_AM_NEW_YORK)
    result = dispatch.reminders_sweep(now=EIGHT_AM_NEW_YORK + timedelta(minutes=6))
    assert result["requeued"] == 1
    assert result["unknown"] == 1
    assert Reminder.objects.get(pk=claimed).status == ReminderStatus.PLANNED
    assert in_flight.get().status == ReminderStatus.UNKNOWN


def test_a_row_for_an_old_plan_is_not_sent(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)
    Case.objects.filter(pk=case.pk).update(plan_version=2)  # rescheduled meanwhile
    assert dispatch.reminder_send(claimed) == ReminderStatus.CANCELLED
    assert outbox == []


def test_a_claimed_row_already_handed_to_the_provider_is_not_sent_again(unit, front_desk, clock,
                                                                         outbox):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)
    Reminder.objects.filter(pk=claimed).update(provider_called_at=EIGHT_AM_NEW_YORK)
    assert dispatch.reminder_send(claimed) == ReminderStatus.SENDING
    assert outbox == []
    assert Reminder.objects.get(pk=claimed).case == case


def test_a_long_batch_is_not_mistaken_for_a_dead_worker(unit, front_desk, clock):
    case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    (claimed,) = dispatch.reminders_claim(now=EIGHT_AM_NEW_YORK)  # claimed 30 minutes ago ...
    later = EIGHT_AM_NEW_YORK + timedelta(minutes=30)
    just_called = later - timedelta(minutes=1)  # ... but handed to the provider just now
    Reminder.objects.filter(pk=claimed).update(provider_called_at=just_called)
    assert dispatch.reminders_sweep(now=later) == {"unknown": 0, "requeued": 0, "late": 0}
    assert Reminder.objects.get(pk=claimed).status == ReminderStatus.SENDING


def test_a_driver_added_later_gets_the_pickup_message_and_an_old_number_none(unit, front_desk):
    from scheduling.services.drivers import case_driver_set

    case = case_made(site=unit, by=front_desk.user, driver_name="", driver_phone="")
    assert not Reminder.objects.filter(case=case, audience="driver").exists()
    case_driver_set(case=case, name="Tom", phone="+12125550155", by=front_desk.user)
    first = Reminder.objects.get(case=case, audience="driver")
    assert (first.kind, first.recipient, first.status) == ("driver_pickup", "+12125550155",
                                                          "planned")
    case_driver_set(case=case, name="Tom", phone="+12125550155", by=front_desk.user)
    assert Reminder.objects.filter(case=case, audience="driver").count() == 1
    case_driver_set(case=case, name="Ann", phone="+12125550166", by=front_desk.user)
    first.refresh_from_db()
    assert first.status == ReminderStatus.CANCELLED
    assert Reminder.objects.get(case=case, audience="driver", status="planned").recipient == (
        "+12125550166"
    )
