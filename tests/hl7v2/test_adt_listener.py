"""ADT in: the MLLP listener, run for real on a spare local port, takes A08 and A31 patient
updates from python-hl7's MLLP client, applies them through the patient service as the
hl7-listener account and answers each with its acknowledgement; anything else is refused and
nothing is written to the patient."""

import asyncio
import logging
import threading
import time
from datetime import date

import hl7
import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from audit.models import AccessLog
from fhir.conf import mrn_system
from hl7v2.listener import listen
from hl7v2.models import InboundMessage, InboundStatus
from scheduling.models import Patient
from tests.factories import PatientFactory, build_unit, case_made
from tests.hl7v2.peer import run_apart

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "MSH|^~\\&|ENGINE|HOSPITAL|VERTEBRO|SPINE_UNIT|20260302120000||{type}|{control_id}|P|2.5"
# A patient as the hospital now has them: new name, birth date, mobile phone, email, Spanish.
UPDATED_PID = (
    "PID|1||123-45-6789^^^SSA^SS~mrn-1001^^^HOSPITAL^MR||Whitfield-Ortiz^Margarita^J||19480518|F"
    "|||||^PRN^PH^^1^212^5550100~^PRN^CP^^1^646^5550142~^NET^Internet^m.ortiz@example.org"
    "||spa^Spanish^ISO639"
)


def er7(*segments: str, type: str = "ADT^A08^ADT_A01", control_id: str = "CTRL0001") -> str:
    return "\r".join([HEADER.format(type=type, control_id=control_id), *segments])


@pytest.fixture
def registered():
    return PatientFactory(
        first_name="Margaret", last_name="Whitfield", mrn="MRN-1001",
        date_of_birth=date(1948, 5, 17), phone="+12125550100", email="m.whitfield@example.org",
        language="en",
    )


class Served:
    """A listener running in a thread of its own, with its own event loop."""

    def __init__(self):
        self.ready, self.thread = threading.Event(), None

    def start(self):
        async def serve():
            self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()

            def started(address):
                self.address = address
                self.ready.set()

            await listen(host="127.0.0.1", port=0, stop=self.stop_event, started=started)

        self.thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the listener did not start"
        return self.address

    def stop(self):
        """As SIGTERM stops it: its stop event set."""
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.stopped(timeout=15)

    def stopped(self, *, timeout):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the listener did not stop"


@pytest.fixture
def listener():
    """The listener serving on a free port of 127.0.0.1; stopped at the end."""
    served = Served()
    yield served.start()
    served.stop()


def sent(address, *messages: str) -> list[hl7.Message]:
    """The messages sent over one MLLP connection, one after the other; their ACKs."""

    async def exchange():
        reader, writer = await hl7.mllp.open_hl7_connection(*address, encoding="utf-8")
        answers = []
        try:
            for message in messages:
                writer.writemessage(message)
                await writer.drain()
                answers.append(await asyncio.wait_for(reader.readmessage(), 20))
        finally:
            writer.close()
            await writer.wait_closed()
        return answers

    return run_apart(exchange())


def as_before(patient: Patient) -> dict:
    fields = ["first_name", "last_name", "date_of_birth", "phone", "email", "language"]
    return {name: getattr(patient, name) for name in fields}


def test_an_a08_updates_the_patient_and_is_acknowledged_aa_with_its_control_id(
    listener, registered
):
    [ack] = sent(listener, er7(UPDATED_PID, control_id="A08-0001"))

    assert str(ack.segment("MSA")(1)) == "AA"
    assert str(ack.segment("MSA")(2)) == "A08-0001"
    assert str(ack.segment("MSH")(9)) == "ACK^A08^ACK"
    assert [str(ack.segment("MSH")(n)) for n in (3, 4, 5, 6)] == [
        "VERTEBRO", "SPINE_UNIT", "ENGINE", "HOSPITAL"]
    registered.refresh_from_db()
    assert as_before(registered) == {
        "first_name": "Margarita", "last_name": "Whitfield-Ortiz",
        "date_of_birth": date(1948, 5, 18), "phone": "+16465550142",  # the mobile, in E.164
        "email": "m.ortiz@example.org", "language": "es",
    }
    [row] = InboundMessage.objects.all()
    assert (row.message_type, row.control_id, row.status, row.patient) == (
        "ADT^A08", "A08-0001", InboundStatus.APPLIED, registered)


def test_an_a31_updates_the_patient_under_the_hospital_mrn_system(listener, registered):
    other = PatientFactory(mrn="OTHER-7")
    pid = (f"PID|1||OTHER-7^^^CLINIC^PI~MRN-1001^^^HOSP&{mrn_system()}&URI^PI||Whitfield^Meg"
           "||19480517||||||(212) 555-0177")
    [ack] = sent(listener, er7(pid, type="ADT^A31^ADT_A05", control_id="A31-9"))

    assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AA", "A31-9")
    registered.refresh_from_db()
    assert (registered.first_name, registered.phone) == ("Meg", "+12125550177")
    other.refresh_from_db()
    assert other.first_name == "Margaret"


def test_the_legal_name_is_taken_over_an_alias(listener, registered):
    pid = "PID|1||MRN-1001^^^HOSPITAL^MR||Peg^Whitty^^^^^A~Whitfield^Margaret^^^^^L||19480517"
    [ack] = sent(listener, er7(pid))

    assert str(ack["MSA.F1"]) == "AA"
    registered.refresh_from_db()
    assert (registered.first_name, registered.last_name) == ("Margaret", "Whitfield")


def test_an_mrn_two_patients_hold_in_other_letter_cases_is_refused(listener, registered):
    PatientFactory(mrn="mrn-1001")
    [ack] = sent(listener, er7(UPDATED_PID.replace("mrn-1001", "Mrn-1001")))

    assert str(ack["MSA.F1"]) == "AE"
    assert "more than one patient" in str(ack["MSA.F3"])
    assert sorted(Patient.objects.values_list("first_name", flat=True)) == ["Margaret"] * 2


def test_a_message_for_an_mrn_nobody_holds_is_acknowledged_and_changes_nothing(
    listener, registered
):
    before = as_before(registered)
    [ack] = sent(listener, er7(UPDATED_PID.replace("mrn-1001", "MRN-9999"), control_id="X1"))

    assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AA", "X1")
    registered.refresh_from_db()
    assert as_before(registered) == before
    [row] = InboundMessage.objects.all()
    assert (row.status, row.patient, row.control_id) == (InboundStatus.IGNORED, None, "X1")


@pytest.mark.parametrize(
    ("message", "reason", "location"),
    [
        ("PID|1||mrn-1001||Doe^Jane||19480517", "does not start with an MSH", "MSH"),
        ("BHS|^~\\&|ENGINE\r" + er7(UPDATED_PID) + "\rBTS|1", "A batch", "MSH"),
        (er7("EVN|A08"), "No PID segment", "PID"),
        (er7("PID|1||||Doe^Jane||19480517"), "PID-3: no patient identifier", "PID^1^3"),
        (er7("PID|1||mrn-1001||Doe^Jane||1948-05-17"), "PID-7: not a date of birth", "PID^1^7"),
        (er7("PID|1||mrn-1001||Doe^Jane||19481317"), "PID-7: not a date of birth", "PID^1^7"),
        (er7("PID|1||mrn-1001||Doe^Jane||20300101"), "PID-7: the date of birth is in the future",
         "PID^1^7"),
        (er7("PID|1||mrn-1001||Doe^Jane||19480517||||||^PRN^CP^^^^^^^^^12"),
         "PID-13: not a valid phone number", "PID^1^13"),
        (er7("PID|1||mrn-1001||Doe^Jane||19480517||||||^NET^Internet^not-an-address"),
         "PID-13: not a valid email address", "PID^1^13"),
    ],
    ids=["no-msh", "batch", "no-pid", "no-mrn", "date-format", "month-13", "born-later", "phone",
         "email"],
)
def test_a_malformed_message_is_answered_ae_with_the_reason_and_changes_nothing(
    listener, registered, message, reason, location
):
    before = as_before(registered)
    [ack] = sent(listener, message)

    assert str(ack["MSA.F1"]) == "AE"
    assert str(ack["MSA.F2"]) == ("" if location == "MSH" else "CTRL0001")
    assert reason in str(ack["MSA.F3"])
    assert reason in str(ack["ERR.F8"])
    assert str(ack.segment("ERR")(2)) == location
    registered.refresh_from_db()
    assert as_before(registered) == before
    [row] = InboundMessage.objects.all()
    assert row.status == InboundStatus.REJECTED
    assert reason in row.reason
    assert row.patient is None


@pytest.mark.parametrize(
    ("message_type", "error"),
    [("ORU^R01^ORU_R01", "200^Unsupported message type"), ("ADT^A04^ADT_A01", "201^Unsupported"),
     ("ADT^A40^ADT_A39", "201^Unsupported")],
)
def test_other_messages_are_refused_ar_and_change_nothing(
    listener, registered, message_type, error
):
    before = as_before(registered)
    [ack] = sent(listener, er7(UPDATED_PID, type=message_type, control_id="T1"))

    assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AR", "T1")
    assert str(ack.segment("ERR")(3)).startswith(error)
    registered.refresh_from_db()
    assert as_before(registered) == before
    assert InboundMessage.objects.get().status == InboundStatus.REJECTED


def test_messages_on_one_connection_are_answered_in_order(listener, registered):
    first = er7(UPDATED_PID, control_id="M1")
    second = er7("PID|1||MRN-1001^^^HOSPITAL^MR||Whitfield^Margaret||19480517", control_id="M2")
    answers = sent(listener, first, "MSH|^~\\&|broken", second)

    assert [(str(a["MSA.F1"]), str(a["MSA.F2"])) for a in answers] == [
        ("AA", "M1"), ("AE", ""), ("AA", "M2")]
    registered.refresh_from_db()
    assert (registered.first_name, registered.phone) == ("Margaret", "+16465550142")


def test_the_audit_trail_shows_the_change_by_the_listener_account(listener, registered):
    sent(listener, er7(UPDATED_PID))

    [change] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Patient), object_pk=str(registered.pk),
        action=LogEntry.Action.UPDATE,
    )
    assert change.actor.username == "hl7-listener"
    assert change.changes_dict["last_name"] == ["Whitfield", "Whitfield-Ortiz"]
    assert change.changes_dict["phone"] == ["+12125550100", "+16465550142"]
    [access] = AccessLog.objects.filter(patient_id=registered.pk)
    assert (access.username, access.url_name) == ("hl7-listener", "patient-update")
    assert not access.user.has_usable_password()


def test_the_log_names_the_messages_never_the_patient(listener, registered, caplog):
    caplog.set_level(logging.DEBUG)
    sent(listener, er7(UPDATED_PID, control_id="LOG-1"),
         er7(UPDATED_PID.replace("19480518", "1948x518"), control_id="LOG-2"),
         er7(UPDATED_PID.replace("mrn-1001", "MRN-4242"), control_id="LOG-3"))

    text = caplog.text
    for said in ["ADT^A08 LOG-1 applied", "ADT^A08 LOG-2 refused (AE): PID-7",
                 "ADT^A08 LOG-3 ignored"]:
        assert said in text
    for patient_data in ["Whitfield", "Margarita", "Ortiz", "1001", "4242", "1948", "5550142",
                         "646", "example.org", "123-45-6789"]:
        assert patient_data not in text, patient_data


def test_stopping_closes_an_idle_connection_at_once_and_answers_no_more(registered):
    served = Served()
    address = served.start()

    async def idle_until_closed():
        reader, writer = await hl7.mllp.open_hl7_connection(*address)
        writer.writemessage(er7(UPDATED_PID))
        await writer.drain()
        ack = await asyncio.wait_for(reader.readmessage(), 20)
        served.loop.call_soon_threadsafe(served.stop_event.set)
        try:
            return ack, await asyncio.wait_for(reader.read(), 5)  # b"": the listener closed it
        finally:
            writer.close()

    started = time.monotonic()
    ack, rest = run_apart(idle_until_closed())
    assert (str(ack["MSA.F1"]), rest) == ("AA", b"")
    served.stopped(timeout=5)
    assert time.monotonic() - started < 8  # not the grace given to a message being applied
    with pytest.raises(ConnectionRefusedError):
        sent(address, er7(UPDATED_PID))


def test_a_new_phone_replans_the_messages_of_the_patients_booked_case(listener, registered):
    case = case_made(site=build_unit(), patient=registered)
    planned = case.reminders.filter(audience="patient", channel="sms", status="planned")
    assert set(planned.values_list("recipient", flat=True)) == {"+12125550100"}

    sent(listener, er7(UPDATED_PID))

    assert set(planned.values_list("recipient", flat=True)) == {"+16465550142"}
