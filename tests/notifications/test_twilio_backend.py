"""The Twilio SMS backend against a stand-in for Twilio's HTTP API, and one message end to end:
booked, sent through Twilio, reported delivered."""

from datetime import UTC, datetime

import pytest
import requests
from twilio.base.exceptions import TwilioException

from notifications import backends, dispatch
from notifications.backends import DeliveryError, OutgoingMessage
from notifications.backends.twilio import TwilioBackend
from notifications.models import Reminder, ReminderStatus
from tests.factories import case_made
from tests.notifications.twilio_fake import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    FakeTwilioHttp,
    FakeWiredTwilioBackend,
    message_json,
    signed_post,
    twilio_settings,
)

EIGHT_AM_NEW_YORK = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
MESSAGE = OutgoingMessage(channel="sms", to="+12125550100", text="See you Tuesday at 07:00.")


@pytest.fixture(autouse=True)
def twilio(settings):
    twilio_settings(settings)


@pytest.fixture
def http():
    return FakeTwilioHttp()


@pytest.fixture
def backend(http):
    return TwilioBackend(http_client=http)


def twilio_error(status, code, message="Refused"):
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def test_it_posts_the_message_to_twilio_and_returns_its_sid(backend, http):
    http.reply(201, message_json("SM" + "a" * 32, to=MESSAGE.to, body=MESSAGE.text))

    assert backend.send(MESSAGE) == "SM" + "a" * 32

    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["url"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    )
    assert request["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    assert request["data"]["To"] == "+12125550100"
    assert request["data"]["From"] == FROM_NUMBER
    assert request["data"]["Body"] == "See you Tuesday at 07:00."
    assert request["data"]["StatusCallback"] == (
        "https://vertebro.example.org/webhooks/twilio/status/"
    )


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21612, 21408, 21606])
def test_a_refused_recipient_is_a_permanent_failure(backend, http, code):
    http.reply(400, twilio_error(400, code))

    with pytest.raises(DeliveryError) as raised:
        backend.send(MESSAGE)

    assert raised.value.permanent
    assert f"error {code}" in str(raised.value)


def test_an_invalid_number_is_explained_to_the_front_desk(backend, http):
    http.reply(400, twilio_error(400, 21211, "The 'To' number +12125550100 is not valid."))

    with pytest.raises(DeliveryError) as raised:
        backend.send(MESSAGE)

    assert "not a valid phone number" in str(raised.value)
    assert "+12125550100" not in str(raised.value)


def test_a_problem_details_answer_is_classified_by_its_status(backend, http):
    http.reply(400, {"type": "https://www.twilio.com/docs/errors/21211", "title": "Invalid To",
                     "status": 400, "code": 21211})

    with pytest.raises(DeliveryError) as raised:
        backend.send(MESSAGE)

    assert raised.value.permanent


@pytest.mark.parametrize(
    ("status", "code"), [(500, 20500), (503, 20503), (429, 20429)], ids=["500", "503", "429"]
)
def test_a_busy_or_broken_twilio_is_a_transient_failure(backend, http, status, code):
    http.reply(status, twilio_error(status, code, "Try again"))

    with pytest.raises(DeliveryError) as raised:
        backend.send(MESSAGE)

    assert not raised.value.permanent


@pytest.mark.parametrize(
    "exc",
    [requests.ConnectionError("refused"), requests.ConnectTimeout("slow"), TwilioException("?")],
    ids=["connection", "connect-timeout", "twilio-exception"],
)
def test_twilio_out_of_reach_is_a_transient_failure(backend, http, exc):
    http.fail_with(exc)

    with pytest.raises(DeliveryError) as raised:
        backend.send(MESSAGE)

    assert not raised.value.permanent


def test_no_answer_after_the_request_went_is_not_retried_blindly(backend, http):
    http.fail_with(requests.ReadTimeout("no answer"))

    with pytest.raises(requests.ReadTimeout):  # dispatch records the reminder as `unknown`
        backend.send(MESSAGE)


@pytest.fixture
def wired_backend(settings, http, monkeypatch):
    monkeypatch.setattr(FakeWiredTwilioBackend, "http", http)
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.twilio_fake.FakeWiredTwilioBackend"
    backends._cache.clear()
    yield
    backends._cache.clear()


@pytest.mark.django_db
def test_a_booking_confirmation_goes_out_through_twilio_and_is_delivered(
    unit, front_desk, clock, http, wired_backend, client
):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)  # booked in quiet hours: the confirmation waits for 08:00
    http.reply(201, message_json("SM" + "e" * 32))

    dispatch.reminders_dispatch()

    (request,) = http.requests
    assert request["data"]["To"] == "+12125550100"
    assert "Margaret" in request["data"]["Body"]
    reminder = Reminder.objects.get(case=case, kind="confirmation")
    assert reminder.status == ReminderStatus.SENT
    assert reminder.provider_message_id == "SM" + "e" * 32

    callback = signed_post(client, "/webhooks/twilio/status/",
                           {"MessageSid": "SM" + "e" * 32, "MessageStatus": "delivered"})

    assert callback.status_code == 200
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.DELIVERED
    assert reminder.delivered_at == EIGHT_AM_NEW_YORK


@pytest.mark.django_db
def test_a_refused_number_fails_the_reminder_without_a_retry(
    unit, front_desk, clock, http, wired_backend
):
    case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    http.reply(400, twilio_error(400, 21614, "Not a mobile number"))

    dispatch.reminders_dispatch()

    reminder = Reminder.objects.get(kind="confirmation", channel="sms")
    assert reminder.status == ReminderStatus.FAILED
    assert "not a mobile number" in reminder.error
    assert reminder.attempts == 1
