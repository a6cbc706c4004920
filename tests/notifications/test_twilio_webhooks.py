"""Twilio's webhooks: delivery status of what we sent, and SMS replies from patients."""

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from notifications.models import (
    InboundKind,
    InboundMessage,
    Reminder,
    ReminderStatus,
    SmsOptOut,
)
from scheduling.models import Case, CaseStatus
from tests.conftest import NOW
from tests.factories import case_made
from tests.notifications.twilio_fake import PUBLIC_BASE_URL, signed_post, twilio_settings

pytestmark = pytest.mark.django_db
STATUS = "/webhooks/twilio/status/"
INBOUND = "/webhooks/twilio/inbound/"
SID = "SM" + "1" * 32
PATIENT_PHONE = "+12125550100"


@pytest.fixture(autouse=True)
def twilio(settings):
    twilio_settings(settings)


@pytest.fixture
def case(unit, front_desk):
    return case_made(site=unit, by=front_desk.user)


@pytest.fixture
def sent(case):
    """The booking confirmation, handed to Twilio as SID."""
    reminder = Reminder.objects.get(case=case, kind="confirmation")
    reminder.status = ReminderStatus.SENT
    reminder.provider_message_id = SID
    reminder.sent_at = NOW
    reminder.save()
    return reminder


def status(client, message_status, sid=SID, **extra):
    return signed_post(client, STATUS, {"MessageSid": sid, "MessageStatus": message_status,
                                        "AccountSid": "AC" + "0" * 32, **extra})


def inbound(client, body, sid="SM" + "9" * 32, phone=PATIENT_PHONE):
    return signed_post(client, INBOUND, {"MessageSid": sid, "From": phone, "Body": body,
                                         "To": "+15005550006"})


def snapshot(reminder):
    reminder.refresh_from_db()
    return (reminder.status, reminder.sent_at, reminder.delivered_at, reminder.failed_at,
            reminder.error)


# Signatures


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_an_unsigned_request_is_refused(client, sent, path):
    before = snapshot(sent)

    response = client.post(path, {"MessageSid": SID, "MessageStatus": "failed",
                                  "From": PATIENT_PHONE, "Body": "STOP"})

    assert response.status_code == 403
    assert snapshot(sent) == before
    assert not SmsOptOut.objects.exists()
    assert not InboundMessage.objects.exists()


def test_a_forged_status_callback_changes_nothing(client, sent):
    before = snapshot(sent)

    response = signed_post(client, STATUS, {"MessageSid": SID, "MessageStatus": "failed"},
                           token="not-our-token")

    assert response.status_code == 403
    assert snapshot(sent) == before


def test_a_forged_stop_changes_nothing(client, case):
    response = signed_post(client, INBOUND,
                           {"MessageSid": SID, "From": PATIENT_PHONE, "Body": "STOP"},
                           token="not-our-token")

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()
    assert not InboundMessage.objects.exists()
    assert not Reminder.objects.filter(status=ReminderStatus.SUPPRESSED).exists()


def test_a_signature_for_other_fields_is_refused(client, case):
    from twilio.request_validator import RequestValidator

    signature = RequestValidator("test-auth-token").compute_signature(
        PUBLIC_BASE_URL + INBOUND, {"MessageSid": SID, "From": PATIENT_PHONE, "Body": "hello"}
    )

    response = client.post(INBOUND, {"MessageSid": SID, "From": PATIENT_PHONE, "Body": "STOP"},
                           HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_without_an_auth_token_every_webhook_is_refused(client, settings, case):
    settings.TWILIO_AUTH_TOKEN = ""

    response = signed_post(client, INBOUND, {"MessageSid": SID, "From": PATIENT_PHONE,
                                             "Body": "STOP"}, token="")

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_the_signature_covers_the_public_url_with_its_query(client, sent):
    response = signed_post(client, STATUS + "?attempt=2",
                           {"MessageSid": SID, "MessageStatus": "delivered"})

    assert response.status_code == 200
    assert snapshot(sent)[0] == ReminderStatus.DELIVERED


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_an_inbound_message_without_its_sender_or_id_is_refused(client, case, missing):
    params = {"MessageSid": SID, "From": PATIENT_PHONE, "Body": "STOP"}
    del params[missing]

    response = signed_post(client, INBOUND, params)

    assert response.status_code == 400
    assert not SmsOptOut.objects.exists()
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("MessageSid", "SM\x00" + "1" * 31),
    ("MessageSid", "SM" + "1" * 100),
    ("From", "+1212555\x000100"),
    ("From", "+1" + "2" * 30),
])
@pytest.mark.parametrize("path", [INBOUND, STATUS])
def test_an_id_or_number_with_a_nul_byte_or_too_long_is_refused(client, case, path, field, value):
    params = {"MessageSid": SID, "From": PATIENT_PHONE, "Body": "STOP", "MessageStatus": "sent"}
    params[field] = value

    response = signed_post(client, path, params)

    if path == STATUS and field == "From":
        assert response.status_code == 200  # a status report's sender is not read
    else:
        assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert not SmsOptOut.objects.exists()


def test_a_reply_with_a_nul_byte_is_kept_without_it(client, case):
    response = inbound(client, "Can I eat\x00 before?")

    assert response.status_code == 200
    (message,) = InboundMessage.objects.all()
    assert message.body == "Can I eat before?"
    assert message.kind == InboundKind.OTHER


def test_a_webhook_answers_only_post(client):
    assert client.get(STATUS).status_code == 405


# Delivery status


@pytest.mark.parametrize("message_status", ["queued", "sending", "sent"])
def test_an_early_status_marks_a_claimed_reminder_sent(client, sent, message_status):
    sent.status = ReminderStatus.SENDING
    sent.sent_at = None
    sent.save()

    response = status(client, message_status)

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.SENT
    assert sent.sent_at == NOW


@pytest.mark.parametrize("message_status", ["queued", "sending", "sent"])
def test_an_early_status_keeps_the_time_it_was_sent(client, sent, clock, message_status):
    clock.move_to(NOW + timedelta(seconds=5))

    status(client, message_status)

    sent.refresh_from_db()
    assert (sent.status, sent.sent_at) == (ReminderStatus.SENT, NOW)


def test_delivered_records_when(client, sent, clock):
    clock.move_to(NOW + timedelta(seconds=7))

    response = status(client, "delivered")

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.DELIVERED
    assert sent.delivered_at == NOW + timedelta(seconds=7)


@pytest.mark.parametrize("message_status", ["undelivered", "failed"])
def test_undelivered_or_failed_marks_it_failed_with_twilios_code(client, sent, message_status):
    response = status(client, message_status, ErrorCode="30003")

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.FAILED
    assert sent.failed_at == NOW
    assert "30003" in sent.error
    assert message_status in sent.error


def test_an_undelivered_sms_is_sent_again_by_email(client, sent):
    status(client, "undelivered", ErrorCode="30005")
    fallback = Reminder.objects.get(case=sent.case, rule=sent.rule, channel="email")
    assert fallback.status == ReminderStatus.PLANNED
    assert fallback.recipient == sent.case.patient.email


@pytest.mark.parametrize("late", ["queued", "sending", "sent"])
def test_a_late_early_status_never_undoes_delivered(client, sent, clock, late):
    status(client, "delivered")
    before = snapshot(sent)
    clock.move_to(NOW + timedelta(minutes=1))

    response = status(client, late)

    assert response.status_code == 200
    assert snapshot(sent) == before


@pytest.mark.parametrize("late", ["sent", "delivered"])
def test_a_failed_message_stays_failed(client, sent, late):
    status(client, "undelivered", ErrorCode="30005")
    before = snapshot(sent)

    status(client, late)

    assert snapshot(sent) == before


@pytest.mark.parametrize("message_status", ["delivered", "failed"])
def test_a_duplicate_callback_changes_nothing(client, sent, clock, message_status):
    status(client, message_status, ErrorCode="30003")
    before = snapshot(sent)
    clock.move_to(NOW + timedelta(minutes=5))

    response = status(client, message_status, ErrorCode="30006")

    assert response.status_code == 200
    assert snapshot(sent) == before


def test_an_unknown_sid_is_acknowledged_and_changes_nothing(client, sent):
    before = snapshot(sent)

    response = status(client, "delivered", sid="SM" + "f" * 32)

    assert response.status_code == 200
    assert snapshot(sent) == before


@pytest.mark.parametrize("row_status", [ReminderStatus.PLANNED, ReminderStatus.CANCELLED])
def test_an_unsent_reminder_is_not_moved(client, sent, row_status):
    sent.status = row_status
    sent.save()

    status(client, "delivered")

    assert snapshot(sent)[0] == row_status


def test_an_unknown_status_is_acknowledged_and_ignored(client, sent):
    before = snapshot(sent)

    response = status(client, "receiving")

    assert response.status_code == 200
    assert snapshot(sent) == before


# Inbound SMS


def twiml(response):
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


@pytest.mark.parametrize(
    "body", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
             "quit please", "Stop."],
)
def test_an_opt_out_word_stops_sms_at_once(client, case, body):
    planned = Reminder.objects.filter(case=case, channel="sms", recipient=PATIENT_PHONE,
                                      status=ReminderStatus.PLANNED)
    assert planned.exists()
    other = Reminder.objects.filter(case=case, channel="sms").exclude(recipient=PATIENT_PHONE)
    others_before = list(other.values_list("status", flat=True))

    response = inbound(client, body)

    assert response.status_code == 200
    assert len(twiml(response)) == 0  # an empty <Response/>
    assert SmsOptOut.objects.filter(phone=PATIENT_PHONE).exists()
    assert not planned.exists()
    assert Reminder.objects.filter(case=case, recipient=PATIENT_PHONE,
                                   status=ReminderStatus.SUPPRESSED).exists()
    assert list(other.values_list("status", flat=True)) == others_before  # the driver's
    message = InboundMessage.objects.get()
    assert (message.kind, message.from_phone, message.case) == (InboundKind.STOP, PATIENT_PHONE,
                                                                case)


@pytest.mark.parametrize("body", ["START", "unstop"])
def test_start_lets_sms_go_again(client, case, body):
    inbound(client, "STOP", sid="SM" + "2" * 32)

    response = inbound(client, body, sid="SM" + "3" * 32)

    assert response.status_code == 200
    assert not SmsOptOut.objects.exists()
    assert InboundMessage.objects.get(provider_message_id="SM" + "3" * 32).kind == InboundKind.START


def test_help_answers_with_the_clinics_name_and_phone(client, case):
    response = inbound(client, "help")

    (message,) = twiml(response)
    assert message.tag == "Message"
    assert "Riverside Spine Center" in message.text
    assert "+12125550142" in message.text
    assert InboundMessage.objects.get().kind == InboundKind.HELP


def test_help_from_the_driver_names_the_patients_clinic(client, case):
    response = inbound(client, "HELP", phone="+12125550101")

    (message,) = twiml(response)
    assert "+12125550142" in message.text


def test_help_from_a_stranger_gets_a_generic_answer(client, case):
    response = inbound(client, "HELP", phone="+13125550199")

    (message,) = twiml(response)
    assert message.text
    assert "+12125550142" not in message.text


@pytest.mark.parametrize("body", ["C", "c", "YES", "Yes!", "confirm", "CONFIRM thank you"])
def test_a_confirm_reply_confirms_the_next_case(client, case, body):
    response = inbound(client, body)

    assert response.status_code == 200
    assert len(twiml(response)) == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.CONFIRMED
    assert case.confirmed_at == NOW
    message = InboundMessage.objects.get()
    assert (message.kind, message.case) == (InboundKind.CONFIRM, case)


def test_a_confirm_reply_confirms_the_earliest_upcoming_case(client, unit, front_desk, case):
    later = case_made(site=unit, day=date(2026, 3, 10), patient=case.patient, by=front_desk.user)

    inbound(client, "C")

    case.refresh_from_db()
    assert case.status == CaseStatus.CONFIRMED
    assert Case.objects.get(pk=later.pk).status == CaseStatus.BOOKED


def test_a_confirm_reply_skips_a_cancelled_case(client, case):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CANCELLED)

    inbound(client, "C")

    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.confirmed_at is None
    assert InboundMessage.objects.get().kind == InboundKind.OTHER  # the front desk calls


def test_a_confirm_reply_from_the_driver_confirms_nothing(client, case):
    inbound(client, "YES", phone="+12125550101")

    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED
    assert InboundMessage.objects.get().kind == InboundKind.OTHER


@pytest.mark.parametrize("body", ["What time do I come in?", "", "Stopping by at 9", "CC"])
def test_other_text_waits_for_the_front_desk(client, case, body):
    response = inbound(client, body)

    assert response.status_code == 200
    assert len(twiml(response)) == 0
    message = InboundMessage.objects.get()
    assert (message.kind, message.body, message.case) == (InboundKind.OTHER, body, case)
    assert message.handled_at is None
    assert not SmsOptOut.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


def test_a_retried_inbound_webhook_is_recorded_once(client, case):
    first = inbound(client, "HELP")
    again = inbound(client, "HELP")

    assert again.status_code == 200
    assert again.content == first.content
    assert InboundMessage.objects.count() == 1


def test_a_retried_stop_after_start_does_not_opt_out_again(client, case):
    inbound(client, "STOP", sid="SM" + "4" * 32)
    inbound(client, "START", sid="SM" + "5" * 32)

    inbound(client, "STOP", sid="SM" + "4" * 32)

    assert not SmsOptOut.objects.exists()
    assert InboundMessage.objects.count() == 2


def test_an_inbound_message_is_never_logged(client, case, caplog):
    caplog.set_level("DEBUG")

    inbound(client, "My pain is worse, call me")

    assert "pain" not in caplog.text
    assert PATIENT_PHONE not in caplog.text
    assert "5550100" not in caplog.text


def test_stop_does_not_touch_messages_already_sent(client, case, sent):
    inbound(client, "STOP")

    sent.refresh_from_db()
    assert sent.status == ReminderStatus.SENT
