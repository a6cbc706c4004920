"""One text where one will do: drugs that pause on the same day share one message; a reschedule
reaches the patient as one text carrying whatever was due at that moment; the driver we had
texted hears of a move or a cancel, once, on the number the case has; and no SMS ever names a
drug, the procedure or a diagnosis."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from notifications import dispatch
from notifications.backends import locmem
from notifications.models import MessageKind, Reminder, ReminderRule, ReminderStatus
from notifications.rendering import SMS_MAX_CHARS, render
from notifications.services import reminder_resend
from scheduling.models import Drug, ProcedureType
from scheduling.services import case_cancel, case_reschedule
from scheduling.services.drivers import case_driver_set
from tests.factories import case_made

pytestmark = pytest.mark.django_db

PATIENT = "+12125550100"
DRIVER = "+12125550101"
NEW_DRIVER = "+12125550166"
MONDAY_8AM = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # New York
MONDAY_5PM = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
# Besides every drug in the table and every procedure type: words that say what the visit is for.
CLINICAL_WORDS = ("fracture", "cement", "vertebra", "osteoporosis", "spine surgery", "fractura",
                  "anticoagulant", "blood thinner")


def never_clinical(texts):
    """The SMS among `texts` that name a drug, a procedure or a diagnosis (none, we hope)."""
    words = [
        *Drug.objects.values_list("name", flat=True),
        *Drug.objects.values_list("code", flat=True),
        *ProcedureType.objects.values_list("name", flat=True),
        "vertebroplastia", "cifoplastia", *CLINICAL_WORDS,
    ]
    return [(word, text) for text in texts for word in words
            if re.search(re.escape(word), text, flags=re.IGNORECASE)]


def sms_to(outbox, phone):
    return [message.text for message in outbox if message.channel == "sms" and message.to == phone]


def sent_at_once(outbox, clock, at):
    """What goes out when the dispatcher runs at `at`, new in the outbox."""
    clock.move_to(at)
    before = len(outbox)
    while dispatch.reminders_dispatch():
        pass
    return outbox[before:]


def told_case(clock, outbox, **made):
    """A case booked Monday 07:00 for Tuesday, whose confirmation went out at 08:00."""
    case = case_made(**made)
    assert sent_at_once(outbox, clock, MONDAY_8AM)
    return case


def due_with(case, kind):
    """The open rows of the case due at the same moment as its open `kind` row."""
    row = Reminder.objects.get(case=case, kind=kind, status=ReminderStatus.PLANNED)
    return Reminder.objects.filter(case=case, status=ReminderStatus.PLANNED, due_at=row.due_at)


# Held medicines -------------------------------------------------------------------------------

def test_it_sends_one_hold_text_for_two_drugs_that_pause_the_same_day(unit, front_desk, clock,
                                                                      outbox):
    # Warfarin and clopidogrel are both held 5 days: from Thursday 5 March for Tuesday 10 March.
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=["warfarin", "clopidogrel"])

    (hold,) = Reminder.objects.filter(case=case, kind="medication_hold")
    assert (hold.channel, hold.note, hold.drug_id) == ("sms", "hold:2026-03-05", None)
    sent = sent_at_once(outbox, clock, hold.due_at)  # Wednesday 18:00

    (text,) = sms_to(sent, PATIENT)
    assert "2 of your medicines pause from Thursday 5 March" in text
    assert never_clinical([text]) == []


def test_the_hold_email_names_every_drug_of_the_day(unit, front_desk, clock, outbox):
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=["warfarin", "clopidogrel"],
                     patient={"preferred_channel": "email"})

    (hold,) = Reminder.objects.filter(case=case, kind="medication_hold")
    (email,) = sent_at_once(outbox, clock, hold.due_at)

    assert email.channel == "email"
    assert "a pause in Clopidogrel and Warfarin before your procedure" in email.text
    assert "Thursday 5 March is the first day without them" in email.text
    assert email.subject.endswith("a reminder about your medicines")


def test_the_spanish_hold_texts_count_and_name_in_their_own_words(unit, front_desk):
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=["warfarin", "clopidogrel"],
                     patient={"language": "es", "preferred_channel": "email"})
    hold = Reminder.objects.get(case=case, kind="medication_hold")

    email = render(hold)
    hold.channel, hold.recipient = "sms", PATIENT
    sms = render(hold)

    assert "una pausa de Clopidogrel y Warfarin" in email.text
    assert "el jueves 5 de marzo es el primer día sin tomarlos" in email.text
    assert "2 medicamentos se pausan desde el jueves 5 de marzo. Vea cuáles" in sms.text
    assert never_clinical([sms.text]) == []


def test_drugs_that_pause_on_different_days_get_a_message_each(unit, front_desk):
    # Warfarin 5 days, apixaban 2 days before Tuesday 10 March.
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=["warfarin", "apixaban"])

    notes = Reminder.objects.filter(case=case, kind="medication_hold").values_list("note",
                                                                                   flat=True)
    assert sorted(notes) == ["hold:2026-03-05", "hold:2026-03-08"]


def test_a_move_replans_the_shared_hold_message_and_a_resend_repeats_it(unit, front_desk,
                                                                        clock, outbox):
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=["warfarin", "clopidogrel"])
    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 12))

    old = Reminder.objects.get(case=case, kind="medication_hold", plan_version=1)
    new = Reminder.objects.get(case=case, kind="medication_hold", plan_version=2)
    assert old.status == ReminderStatus.CANCELLED
    assert new.note == "hold:2026-03-07"
    sent = sent_at_once(outbox, clock, new.due_at)
    assert "2 of your medicines pause from Saturday 7 March" in sms_to(sent, PATIENT)[0]

    again = reminder_resend(reminder=new, by=front_desk.user)
    assert (again.note, again.kind) == ("hold:2026-03-07", "medication_hold")
    (text,) = sms_to(sent_at_once(outbox, clock, again.due_at), PATIENT)
    assert "2 of your medicines pause from Saturday 7 March" in text


# A reschedule ---------------------------------------------------------------------------------

def test_a_move_of_a_told_case_reaches_the_patient_as_one_text(unit, front_desk, clock, outbox):
    case = told_case(clock, outbox, site=unit, by=front_desk.user)
    clock.move_to(MONDAY_8AM + timedelta(hours=1))

    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 5))

    at_once = due_with(case, "reschedule_notice")
    assert [(r.kind, r.recipient) for r in at_once] == [("reschedule_notice", PATIENT)]
    sent = sent_at_once(outbox, clock, at_once[0].due_at)
    (text,) = sms_to(sent, PATIENT)
    assert "has moved to Thursday 5 March. Please arrive at 07:00" in text
    # The new date's reminders still go at their own times.
    later = Reminder.objects.filter(case=case, plan_version=2, status=ReminderStatus.PLANNED)
    assert {"what_to_bring", "fasting", "arrival", "driver_pickup", "aftercare"} <= set(
        later.values_list("kind", flat=True)
    )
    assert later.get(kind="arrival").due_at == datetime(2026, 3, 4, 21, 0, tzinfo=UTC)
    assert not later.filter(kind="confirmation").exists()


def test_a_move_to_tomorrow_evening_carries_the_fasting_times_in_the_one_text(
    unit, front_desk, clock, outbox
):
    # Booked for Wednesday, told on Monday morning, moved at 17:00 to Tuesday: the confirmation,
    # the fasting cut-offs and the arrival time of the day before are all due at once.
    case = told_case(clock, outbox, site=unit, by=front_desk.user, day=date(2026, 3, 4))
    clock.move_to(MONDAY_5PM)

    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 3))

    notice = Reminder.objects.get(case=case, kind="reschedule_notice")
    assert notice.note == "fasting"
    sent = sent_at_once(outbox, clock, MONDAY_5PM)
    (text,) = sms_to(sent, PATIENT)
    assert "moved to Tuesday 3 March. Please arrive at 07:00." in text
    assert "No solid food after 00:30; clear liquids until 06:30." in text
    assert len(text) <= SMS_MAX_CHARS
    # The driver, never texted yet, gets the pickup message for the new day: one text too.
    (pickup,) = sms_to(sent, DRIVER)
    assert "Tuesday 3 March" in pickup
    assert never_clinical([text, pickup]) == []


def test_a_move_by_email_sends_one_email_with_everything(unit, front_desk, clock, outbox):
    case = told_case(clock, outbox, site=unit, by=front_desk.user, day=date(2026, 3, 4),
                     medications=["apixaban"], patient={"preferred_channel": "email"})
    clock.move_to(MONDAY_5PM)

    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 5))  # apixaban from Tue 3

    sent = sent_at_once(outbox, clock, MONDAY_5PM)
    (email,) = [message for message in sent if message.to == "m.whitfield@example.org"]
    assert "moved to Thursday 5 March" in email.text
    assert "- Apixaban: Tuesday 3 March" in email.text
    assert "No solid food" in email.text
    assert "Photo ID" in email.text
    notice = Reminder.objects.get(case=case, kind="reschedule_notice")
    assert (notice.channel, notice.note) == ("email", "")  # the email always says it all


def test_a_notice_that_cannot_go_by_sms_goes_by_email_saying_the_same(unit, front_desk, clock,
                                                                    outbox):
    case = told_case(clock, outbox, site=unit, by=front_desk.user, day=date(2026, 3, 4))
    clock.move_to(MONDAY_5PM)
    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 3))
    locmem.failing[PATIENT] = True  # the number no longer exists

    sent = sent_at_once(outbox, clock, MONDAY_5PM)

    email = Reminder.objects.get(case=case, kind="reschedule_notice", channel="email")
    assert (email.note, email.status) == ("fasting", ReminderStatus.SENT)
    (message,) = [m for m in sent if m.channel == "email"]
    assert "moved to Tuesday 3 March" in message.text
    assert "No solid food, milk or milky drinks after 00:30" in message.text


CARRIED = {
    ("en", "fasting"): "No solid food after 00:30; clear liquids until 06:30.",
    ("es", "fasting"): "Nada sólido desde las 00:30; líquidos claros hasta las 06:30.",
    ("en", "hold:2026-02-26"): "2 of your medicines pause from Thursday 26 February.",
    ("es", "hold:2026-02-26"): "2 medicamentos se pausan desde el jueves 26 de febrero.",
    ("en", "bring"): "Bring photo ID, insurance card and medication list.",
    ("es", "bring"): "Traiga ID con foto, tarjeta del seguro y lista de medicinas.",
}


@pytest.mark.parametrize(("language", "note"), list(CARRIED))
def test_a_notice_that_takes_in_a_message_says_it_in_one_short_sms(unit, front_desk, language,
                                                                    note):
    # A long first name: the text must still fit two segments.
    case = case_made(site=unit, by=front_desk.user, medications=["warfarin", "clopidogrel"],
                     patient={"language": language, "first_name": "Maximiliana"})
    notice = Reminder.objects.create(
        case=case, rule=ReminderRule.objects.get(kind="reschedule_notice"),
        kind="reschedule_notice", audience="patient", channel="sms", recipient=PATIENT,
        note=note, plan_version=case.plan_version,
        due_at=MONDAY_8AM, send_by=MONDAY_8AM + timedelta(hours=1),
    )

    text = render(notice).text

    # Room to spare for a production address and a longer case number in the link.
    assert len(text) <= SMS_MAX_CHARS - 10, f"{len(text)}: {text}"
    assert CARRIED[language, note] in text
    assert never_clinical([text]) == []


# The driver -----------------------------------------------------------------------------------

def driver_told_case(clock, outbox, **made):
    """A case for Tuesday whose driver got the pickup text on Monday at 17:00."""
    case = case_made(**made)
    assert sms_to(sent_at_once(outbox, clock, MONDAY_5PM), DRIVER)
    return case


def test_a_driver_we_texted_is_told_once_of_a_cancel(unit, front_desk, clock, outbox):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    clock.move_to(MONDAY_5PM + timedelta(minutes=30))

    case_cancel(case=case, reason="Unwell", by=front_desk.user)

    sent = sent_at_once(outbox, clock, MONDAY_5PM + timedelta(minutes=30))
    (driver_text,) = sms_to(sent, DRIVER)
    assert "visit of Margaret on Tuesday 3 March is cancelled: no pickup is needed" in driver_text
    (patient_text,) = sms_to(sent, PATIENT)
    assert "cancelled" in patient_text
    assert sent_at_once(outbox, clock, MONDAY_5PM + timedelta(days=1)) == []


def test_a_driver_we_never_texted_is_not_told_of_a_cancel(unit, front_desk, clock, outbox):
    case = told_case(clock, outbox, site=unit, by=front_desk.user)

    case_cancel(case=case, reason="Unwell", by=front_desk.user)

    assert not Reminder.objects.filter(case=case, kind="driver_cancellation").exists()
    assert sms_to(sent_at_once(outbox, clock, MONDAY_8AM + timedelta(minutes=1)), DRIVER) == []


def test_a_driver_who_texted_stop_is_not_told(unit, front_desk, clock, outbox):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    dispatch.sms_opt_out(phone=DRIVER)

    case_cancel(case=case, reason="Unwell", by=front_desk.user)

    assert not Reminder.objects.filter(case=case, kind="driver_cancellation").exists()


def test_a_driver_we_texted_is_told_once_of_each_move_with_the_new_pickup(unit, front_desk,
                                                                         clock, outbox):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    clock.move_to(MONDAY_5PM + timedelta(minutes=30))

    # Later the same Tuesday: the new pickup message is due at once and rides on the notice.
    case = case_reschedule(case=case, by=front_desk.user,
                           start=datetime(2026, 3, 3, 16, 0, tzinfo=UTC))  # 11:00 New York

    at_once = due_with(case, "driver_reschedule")
    assert sorted((r.kind, r.recipient) for r in at_once) == [
        ("driver_reschedule", DRIVER), ("reschedule_notice", PATIENT)
    ]
    sent = sent_at_once(outbox, clock, at_once[0].due_at)
    (driver_text,) = sms_to(sent, DRIVER)
    assert "has moved to Tuesday 3 March. Planned pickup: 15:00" in driver_text
    assert len(sms_to(sent, PATIENT)) == 1

    case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 5))
    sent = sent_at_once(outbox, clock, MONDAY_5PM + timedelta(minutes=31))
    (driver_text,) = sms_to(sent, DRIVER)
    assert "has moved to Thursday 5 March. Planned pickup: 12:30" in driver_text
    assert Reminder.objects.filter(case=case, kind="driver_reschedule").count() == 2
    assert never_clinical(sms_to(outbox, DRIVER) + sms_to(outbox, PATIENT)) == []


def test_a_driver_changed_with_the_move_is_told_on_the_new_number(unit, front_desk, clock,
                                                                  outbox):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    clock.move_to(MONDAY_5PM + timedelta(minutes=30))

    with transaction.atomic():
        case = case_reschedule(case=case, by=front_desk.user, day=date(2026, 3, 5))
        case_driver_set(case=case, name="Ann Whitfield", phone=NEW_DRIVER, by=front_desk.user)

    sent = sent_at_once(outbox, clock, MONDAY_5PM + timedelta(minutes=30))
    assert sms_to(sent, DRIVER) == []
    (text,) = sms_to(sent, NEW_DRIVER)
    assert text.startswith("Hello Ann Whitfield")
    assert "moved to Thursday 5 March" in text


def test_a_pickup_the_move_notice_took_in_is_not_sent_again_when_the_driver_is_saved_again(
    unit, front_desk, clock, outbox
):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    clock.move_to(MONDAY_5PM + timedelta(minutes=30))
    with transaction.atomic():
        case = case_reschedule(case=case, by=front_desk.user,
                               start=datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
        case = case_driver_set(case=case, name="Ann Whitfield", phone=NEW_DRIVER,
                               by=front_desk.user)
    clock.move_to(MONDAY_5PM + timedelta(minutes=40))

    case_driver_set(case=case, name="Ann Whitfield", phone=NEW_DRIVER, by=front_desk.user)

    sent = sent_at_once(outbox, clock, MONDAY_5PM + timedelta(minutes=40))
    (text,) = sms_to(sent, NEW_DRIVER)
    assert "has moved to Tuesday 3 March. Planned pickup: 15:00" in text


def test_a_driver_changed_before_a_cancel_is_told_on_the_new_number(unit, front_desk, clock,
                                                                    outbox):
    case = driver_told_case(clock, outbox, site=unit, by=front_desk.user)
    case_driver_set(case=case, name="Ann Whitfield", phone=NEW_DRIVER, by=front_desk.user)

    case_cancel(case=case, reason="Unwell", by=front_desk.user)

    sent = sent_at_once(outbox, clock, MONDAY_5PM + timedelta(minutes=1))
    assert sms_to(sent, DRIVER) == []
    assert "is cancelled" in sms_to(sent, NEW_DRIVER)[0]


# No SMS names a drug, the procedure or a diagnosis --------------------------------------------

@pytest.mark.parametrize("language", ["en", "es"])
def test_no_sms_of_any_kind_names_a_drug_the_procedure_or_a_diagnosis(unit, front_desk,
                                                                      language):
    # Every drug of the table held, so any text that named one would name it here.
    case = case_made(site=unit, by=front_desk.user, day=date(2026, 3, 10),
                     medications=list(Drug.objects.all()), patient={"language": language})
    hold_days = sorted({held.hold_starts_on for held in case.held_medications.all()})
    notes = {
        MessageKind.MEDICATION_HOLD: [f"hold:{day.isoformat()}" for day in hold_days],
        MessageKind.RESCHEDULE_NOTICE: ["", "fasting", "bring",
                                        *(f"hold:{day.isoformat()}" for day in hold_days)],
        MessageKind.RUNNING_LATE: ["delay:30"],
    }
    texts = []
    for kind in MessageKind.values:
        rule = ReminderRule.objects.filter(kind=kind).order_by("pk").first()
        for note in notes.get(kind, [""]):
            row = Reminder(
                case=case, rule=rule, kind=kind, audience=rule.audience, channel="sms",
                recipient=DRIVER if rule.audience == "driver" else PATIENT, note=note,
                plan_version=case.plan_version, due_at=MONDAY_8AM, send_by=MONDAY_8AM,
            )
            texts.append(render(row).text)

    # One pause day for each number of days in the table (warfarin and the like, prasugrel,
    # the direct anticoagulants, the NSAIDs' 1 to 10 days).
    assert len(hold_days) == len({drug.hold_days for drug in Drug.objects.all()}) > 3
    assert never_clinical(texts) == []
    assert all(len(text) <= SMS_MAX_CHARS for text in texts)
