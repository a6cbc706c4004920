"""inbound_text_record: a text from a patient or driver is filed to its case and acted on, with
no webhook in between. The webhook itself is tested in test_twilio_webhooks.py."""

from datetime import date, timedelta

import pytest

from notifications.inbound import inbound_text_record
from notifications.models import InboundKind, InboundMessage, Reminder, ReminderStatus, SmsOptOut
from scheduling.models import Case, CaseStatus
from tests.factories import NOW, PatientFactory, case_cancelled, case_made

pytestmark = pytest.mark.django_db
PATIENT_PHONE = "+12125550100"
DRIVER_PHONE = "+12125550101"
SITE_NUMBER = "+15005550006"


def text(body, *, sid="SM" + "9" * 32, phone=PATIENT_PHONE, to=SITE_NUMBER, now=None):
    return inbound_text_record(
        provider_message_id=sid, from_phone=phone, to_phone=to, body=body, now=now
    )


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def test_a_confirm_confirms_the_earliest_upcoming_case(unit, case):
    later = case_made(site=unit, day=date(2026, 3, 10), patient=case.patient)

    message, created = text("C")

    assert created
    assert (message.kind, message.case, message.patient) == (
        InboundKind.CONFIRM, case, case.patient,
    )
    case.refresh_from_db()
    assert (case.status, case.confirmed_at) == (CaseStatus.CONFIRMED, NOW)
    assert Case.objects.get(pk=later.pk).status == CaseStatus.BOOKED


def test_a_confirm_counts_upcoming_from_the_time_it_is_given(unit, case):
    later = case_made(site=unit, day=date(2026, 3, 10), patient=case.patient)

    message, _ = text("YES", now=case.procedure_start + timedelta(minutes=1))

    assert message.case == later
    assert Case.objects.get(pk=later.pk).status == CaseStatus.CONFIRMED
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


def test_a_repeated_message_id_does_nothing_twice(case):
    first, created = text("STOP")
    text("START", sid="SM" + "8" * 32)

    again, created_again = text("STOP")

    assert (created, created_again) == (True, False)
    assert again == first
    assert InboundMessage.objects.count() == 2
    assert not SmsOptOut.objects.exists()


def test_a_repeated_confirm_returns_the_message_recorded(case):
    first, _ = text("C")

    again, created = text("C")

    assert not created
    assert (again.pk, again.kind, again.case) == (first.pk, InboundKind.CONFIRM, case)
    assert InboundMessage.objects.count() == 1


def test_stop_opts_the_number_out_and_start_in(case):
    planned = Reminder.objects.filter(case=case, channel="sms", recipient=PATIENT_PHONE,
                                      status=ReminderStatus.PLANNED)
    assert planned.exists()

    stop, _ = text("Stop.", sid="SM" + "1" * 32)

    assert stop.kind == InboundKind.STOP
    assert SmsOptOut.objects.filter(phone=PATIENT_PHONE).exists()
    assert not planned.exists()

    start, _ = text("unstop", sid="SM" + "2" * 32)

    assert start.kind == InboundKind.START
    assert not SmsOptOut.objects.exists()


def test_a_text_from_the_driver_is_filed_to_the_case_they_drive_for(case):
    message, _ = text("Running ten minutes behind", phone=DRIVER_PHONE)

    assert (message.kind, message.case, message.patient) == (
        InboundKind.OTHER, case, case.patient,
    )


def test_a_confirm_from_the_driver_confirms_nothing(case):
    message, _ = text("YES", phone=DRIVER_PHONE)

    assert (message.kind, message.case) == (InboundKind.OTHER, None)
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


def test_a_text_to_no_known_case_is_other_with_the_senders_patient(unit):
    cancelled = case_cancelled(site=unit)

    message, created = text("C")

    assert created
    assert (message.kind, message.case, message.patient) == (
        InboundKind.OTHER, None, cancelled.patient,
    )
    cancelled.refresh_from_db()
    assert cancelled.status == CaseStatus.CANCELLED


def test_a_text_from_a_number_without_a_case_names_the_patient_with_it(unit):
    patient = PatientFactory(phone="+13125550199")

    message, _ = text("Hello?", phone="+13125550199")

    assert (message.kind, message.case, message.patient) == (InboundKind.OTHER, None, patient)


def test_a_text_from_a_stranger_has_no_patient(case):
    message, _ = text("HELP", phone="+13125550198")

    assert (message.kind, message.case, message.patient) == (InboundKind.HELP, None, None)


def test_the_site_is_the_one_whose_sms_number_was_texted(unit, case):
    unit.sms_number = SITE_NUMBER
    unit.save(update_fields=["sms_number"])

    to_site, _ = text("hi", sid="SM" + "1" * 32)
    to_nobody, _ = text("hi", sid="SM" + "2" * 32, to="")

    assert (to_site.site, to_site.to_phone) == (unit, SITE_NUMBER)
    assert (to_nobody.site, to_nobody.to_phone) == (None, "")
