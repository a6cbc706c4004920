"""Pain followed up: the patient is asked for their back pain (0-10) at booking and on the site's
follow-up days after the procedure; a reply is scored, retried once, or left for a call.

"7/10" is not taken as a 7: the patient is asked for one number, and "7/10" could as well be
two numbers or a date, so it gets the one retry like any other answer that is not a number."""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from notifications.dispatch import reminders_dispatch
from notifications.inbound import inbound_text_record
from notifications.links import patient_link
from notifications.models import InboundKind, Reminder, ReminderStatus, SmsOptOut
from notifications.pain_planning import plan_with_pain_followups
from notifications.planning import CaseFacts, RuleSpec
from scheduling.models import CaseStatus
from scheduling.pain_models import PainScore, PainSource
from scheduling.services import case_reschedule
from scheduling.services.pain import pain_score_record
from tests.factories import NOW, case_cancelled, case_made, case_tracked
from tests.notifications.twilio_fake import signed_post, twilio_settings

NEW_YORK = ZoneInfo("America/New_York")
PATIENT_PHONE = "+12125550100"
INBOUND = "/webhooks/twilio/inbound/"
BAD_REPLIES = ["ten", "7/10", "-1", "11", "\N{GRINNING FACE}", "7.5", "about 7", ""]


def ny(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK).astimezone(UTC)


# Planning (pure)


def facts(**overrides):
    values = {
        "zone": NEW_YORK,
        "booked_at": ny(2026, 3, 2, 10),
        "arrival_at": ny(2026, 3, 10, 7),
        "procedure_start": ny(2026, 3, 10, 8, 30),
        "discharge_at": ny(2026, 3, 10, 12, 30),
        "patient_phone": PATIENT_PHONE,
        "pain_followup_days": (1, 7, 30),
    }
    return CaseFacts(**(values | overrides))


BOOKING_ASK = RuleSpec(id=1, kind="pain_ask", audience="patient", anchor="booking",
                       offset_minutes=30, send_within_minutes=1440)
FOLLOWUP_ASK = RuleSpec(id=2, kind="pain_ask", audience="patient", anchor="pain_followup",
                        at_time=time(10), send_within_minutes=480)


def asks(case_facts, *, answered=frozenset(), rules=(BOOKING_ASK, FOLLOWUP_ASK)):
    planned = plan_with_pain_followups(
        case_facts, list(rules), ny(2026, 3, 2, 10), answered=answered
    )
    return [(message.note, message.due_at) for message in planned]


def test_it_asks_at_booking_and_at_ten_on_each_of_the_sites_days_after_the_procedure():
    assert asks(facts()) == [
        ("", ny(2026, 3, 2, 10, 30)),
        ("day:1", ny(2026, 3, 11, 10)),
        ("day:7", ny(2026, 3, 17, 10)),
        ("day:30", ny(2026, 4, 9, 10)),
    ]


def test_it_asks_on_the_days_the_site_chose_and_only_at_booking_with_none():
    assert [note for note, _ in asks(facts(pain_followup_days=(2, 14)))] == [
        "", "day:2", "day:14",
    ]
    assert [note for note, _ in asks(facts(pain_followup_days=()))] == [""]


def test_a_follow_up_ask_keeps_ten_oclock_across_the_spring_change():
    # 2026-03-08 is the spring-forward day in New York: day 1 is in EST, day 7 in EDT.
    planned = dict(asks(facts(
        arrival_at=ny(2026, 3, 6, 7), procedure_start=ny(2026, 3, 6, 8, 30),
        discharge_at=ny(2026, 3, 6, 12, 30), pain_followup_days=(1, 7),
    )))
    assert planned["day:1"] == datetime(2026, 3, 7, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert planned["day:7"] == datetime(2026, 3, 13, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert {due.astimezone(NEW_YORK).time() for due in planned.values()} >= {time(10)}


def test_an_answered_ask_is_not_asked_again_after_a_reschedule():
    assert [note for note, _ in asks(facts(), answered=frozenset({None, 1}))] == [
        "day:7", "day:30",
    ]


def test_a_follow_up_rule_with_no_time_of_day_counts_whole_days_from_the_start():
    rule = RuleSpec(id=3, kind="pain_ask", audience="patient", anchor="pain_followup",
                    send_within_minutes=480)
    assert asks(facts(pain_followup_days=(1,)), rules=[rule]) == [
        ("day:1", ny(2026, 3, 11, 8, 30)),
    ]


def test_the_booking_ask_is_not_sent_once_the_procedure_has_started():
    late = facts(booked_at=ny(2026, 3, 10, 9))
    planned = plan_with_pain_followups(late, [BOOKING_ASK], ny(2026, 3, 10, 9))
    assert planned == []


# Booking and sending



def dispatch_at(clock, when):
    clock.move_to(when)
    reminders_dispatch(now=when)


def pain_asks(case):
    return Reminder.objects.filter(case=case, kind="pain_ask").order_by("due_at")


@pytest.mark.django_db
def test_booking_plans_the_asks_on_the_sites_days(unit):
    unit.pain_followup_days = "2,14"
    unit.save(update_fields=["pain_followup_days"])

    case = case_made(site=unit)

    assert [(ask.note, ask.channel) for ask in pain_asks(case)] == [
        ("", "sms"), ("day:2", "sms"), ("day:14", "sms"),
    ]
    assert pain_asks(case).get(note="day:2").due_at == ny(2026, 3, 5, 10)


@pytest.mark.django_db
def test_the_ask_text_names_no_procedure_and_is_in_the_patients_language(unit, clock, outbox):
    case = case_made(site=unit, patient={"language": "es"})

    dispatch_at(clock, ny(2026, 3, 2, 9, 1))

    (ask,) = [message for message in outbox if message.reminder_id == pain_asks(case)[0].pk]
    assert "dolor de espalda, de 0 (nada) a 10 (el peor)? Responda con un número" in ask.text
    assert "vertebro" not in ask.text.lower()
    assert "kypho" not in ask.text.lower()


@pytest.mark.django_db
def test_a_follow_up_ask_goes_out_after_discharge(unit, clock, outbox):
    case = case_tracked(site=unit, through=CaseStatus.DISCHARGED)

    dispatch_at(clock, ny(2026, 3, 3, 10, 1))

    day_one = pain_asks(case).get(note="day:1")
    assert day_one.status == ReminderStatus.SENT
    assert [m.to for m in outbox if m.reminder_id == day_one.pk] == [PATIENT_PHONE]


@pytest.mark.django_db
def test_no_ask_goes_for_a_cancelled_case(unit, clock, outbox):
    case = case_cancelled(site=unit)

    dispatch_at(clock, ny(2026, 3, 4, 10, 1))

    assert not pain_asks(case).filter(status=ReminderStatus.SENT).exists()
    assert all(ask.status == ReminderStatus.CANCELLED for ask in pain_asks(case))


@pytest.mark.django_db
def test_a_reschedule_asks_again_only_what_was_not_answered(unit):
    case = case_made(site=unit)
    pain_score_record(case=case, followup_day=None, score=6, source=PainSource.SMS)

    case_reschedule(case=case, by=case.booked_by, day=date(2026, 3, 5))

    open_asks = pain_asks(case).filter(status=ReminderStatus.PLANNED)
    assert [ask.note for ask in open_asks] == ["day:1", "day:7", "day:30"]
    assert open_asks.first().due_at == ny(2026, 3, 6, 10)


# Replies by text


@pytest.fixture
def case(unit):
    return case_made(site=unit)


@pytest.fixture
def booking_asked(case, clock):
    """The booking's ask has gone out (09:00 in New York, two hours after the booking)."""
    dispatch_at(clock, ny(2026, 3, 2, 9, 1))
    return case


@pytest.fixture
def day_one_asked(case, clock):
    """Day 1 after Tuesday's procedure: its ask has gone out."""
    dispatch_at(clock, ny(2026, 3, 4, 10, 1))
    assert pain_asks(case).get(note="day:1").status == ReminderStatus.SENT
    return case


SIDS = iter(f"SM{n:032d}" for n in range(1, 10_000))


def text(body, *, phone=PATIENT_PHONE, sid=None):
    message, _ = inbound_text_record(
        provider_message_id=sid or next(SIDS), from_phone=phone, to_phone="", body=body
    )
    return message


def scores(case):
    return list(PainScore.objects.filter(case=case).values_list("followup_day", "score", "source"))


def waiting_for_a_call(message):
    message.refresh_from_db()
    return message.handled_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "score"), [("7", 7), ("7.", 7), (" 7 ", 7), ("0", 0), ("10", 10)])
def test_a_whole_number_answer_is_recorded_on_the_case(booking_asked, body, score):
    message = text(body)

    assert message.kind == InboundKind.PAIN
    assert message.case == booking_asked
    assert scores(booking_asked) == [(None, score, PainSource.SMS)]
    assert not waiting_for_a_call(message)


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_REPLIES)
def test_an_answer_that_is_not_a_number_from_0_to_10_gets_one_retry(booking_asked, body):
    message = text(body)

    assert message.kind == InboundKind.PAIN
    assert scores(booking_asked) == []
    assert not waiting_for_a_call(message)


@pytest.mark.django_db
def test_a_second_bad_answer_goes_to_the_needs_call_list(booking_asked, front_desk):
    first = text("ten")
    second = text("7/10")
    after = text("sorry, is it tomorrow?")

    assert not waiting_for_a_call(first)
    assert waiting_for_a_call(second)
    assert second.kind == InboundKind.PAIN
    assert after.kind == InboundKind.OTHER  # the ask is closed: an ordinary text
    listed = front_desk.get("/api/v1/messages/needs-call/").json()
    assert [(row["body"], row["kind"]) for row in listed] == [
        ("7/10", "pain"), ("sorry, is it tomorrow?", "other"),
    ]
    assert scores(booking_asked) == []


@pytest.mark.django_db
def test_a_good_answer_after_the_retry_is_recorded(booking_asked):
    text("-1")
    text("4")

    assert scores(booking_asked) == [(None, 4, PainSource.SMS)]


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["8", "9", "10"])
def test_a_high_score_after_the_procedure_goes_to_the_needs_call_list(day_one_asked, body):
    message = text(body)

    assert scores(day_one_asked) == [(1, int(body), PainSource.SMS)]
    assert waiting_for_a_call(message)


@pytest.mark.django_db
def test_a_high_score_before_the_procedure_is_recorded_without_a_call(booking_asked):
    message = text("9")

    assert scores(booking_asked) == [(None, 9, PainSource.SMS)]
    assert not waiting_for_a_call(message)


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "score"), [
    ("I have a fever", None),
    ("6, and the spot is red", 6),
    ("some drainage today", None),
    ("It feels hot", None),
    ("tengo fiebre", None),
    ("3 pero está roja", 3),
    ("enrojecimiento", None),
    ("supura un poco", None),
])
def test_a_reply_mentioning_fever_or_redness_goes_to_the_needs_call_list_at_once(
    day_one_asked, body, score
):
    message = text(body)

    assert message.kind == InboundKind.PAIN
    assert waiting_for_a_call(message)
    assert scores(day_one_asked) == ([(1, score, PainSource.SMS)] if score is not None else [])


@pytest.mark.django_db
def test_an_answered_ask_is_closed_and_the_next_text_is_ordinary(booking_asked):
    text("3")
    message = text("5")

    assert message.kind == InboundKind.OTHER
    assert scores(booking_asked) == [(None, 3, PainSource.SMS)]


@pytest.mark.django_db
def test_a_number_with_no_ask_open_waits_for_the_front_desk(case, clock):
    assert text("7").kind == InboundKind.OTHER
    dispatch_at(clock, ny(2026, 3, 2, 9, 1))
    clock.move_to(NOW + timedelta(days=1, hours=3))  # the procedure has started: the ask is over

    assert text("7").kind == InboundKind.OTHER
    assert scores(case) == []


@pytest.mark.django_db
def test_an_ask_left_unanswered_for_three_days_is_closed(day_one_asked, clock):
    clock.move_to(ny(2026, 3, 7, 10, 2))

    assert text("4").kind == InboundKind.OTHER


@pytest.mark.django_db
def test_stop_in_the_middle_of_a_follow_up_opts_out_and_no_more_asks_go_by_text(
    day_one_asked, clock, outbox
):
    stop = text("STOP")

    assert stop.kind == InboundKind.STOP
    assert SmsOptOut.objects.filter(phone=PATIENT_PHONE).exists()
    later = pain_asks(day_one_asked).filter(note__in=["day:7", "day:30"])
    assert {ask.status for ask in later} == {ReminderStatus.SUPPRESSED}
    sent_before = len(outbox)
    dispatch_at(clock, ny(2026, 3, 10, 10, 1))
    dispatch_at(clock, ny(2026, 4, 2, 10, 1))
    assert [m for m in outbox[sent_before:] if m.to == PATIENT_PHONE] == []


# The webhook's answer


@pytest.fixture
def twilio(settings):
    twilio_settings(settings)


def answer(client, body, sid):
    response = signed_post(client, INBOUND, {"MessageSid": sid, "From": PATIENT_PHONE,
                                             "Body": body, "To": "+15005550006"})
    assert response.status_code == 200
    return ElementTree.fromstring(response.content).findtext("Message")


@pytest.mark.django_db
def test_the_webhook_thanks_retries_then_says_someone_will_call(client, twilio, booking_asked):
    assert answer(client, "ten", "SM" + "1" * 32) == (
        "Riverside Spine Center: please reply with one number from 0 to 10: 0 is no pain, 10 is "
        "the worst pain."
    )
    assert answer(client, "\N{PILE OF POO}", "SM" + "2" * 32).startswith(
        "Riverside Spine Center: thank you. Someone from the clinic will call you. If it cannot "
        "wait, call +12125550142."
    )


@pytest.mark.django_db
def test_the_webhook_thanks_a_score_once_even_when_twilio_retries(client, twilio, booking_asked):
    sid = "SM" + "3" * 32
    first = answer(client, "6", sid)
    again = answer(client, "6", sid)

    assert first == again == "Riverside Spine Center: thank you, we have your answer."
    assert scores(booking_asked) == [(None, 6, PainSource.SMS)]


@pytest.mark.django_db
def test_the_webhook_answers_in_the_patients_language(client, twilio, unit, clock):
    case_made(site=unit, patient={"language": "es"})
    dispatch_at(clock, ny(2026, 3, 2, 9, 1))

    assert answer(client, "diez", "SM" + "4" * 32) == (
        "Riverside Spine Center: por favor, responda con un solo número del 0 al 10: 0 es nada de "
        "dolor y 10 es el peor dolor."
    )


# On the patient's page


def page_of(case):
    return urlsplit(patient_link(case)).path


@pytest.mark.django_db
def test_the_page_asks_for_the_pain_score_before_the_procedure(client, case):
    page = client.get(page_of(case)).content.decode()

    assert "Your back pain today (0-10)" in page
    assert page.count('name="score"') == 11


@pytest.mark.django_db
def test_a_score_sent_from_the_page_is_recorded_and_thanked(client, case):
    response = client.post(page_of(case) + "pain/", {"score": "4"})

    assert response.status_code == 302
    assert response["Location"].endswith("#pain")
    assert scores(case) == [(None, 4, PainSource.LINK)]
    page = client.get(page_of(case)).content.decode()
    assert "you told us your pain is 4 out of 10" in page
    assert 'name="score"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize("score", ["11", "-1", "ten", "", "7/10"])
def test_a_bad_score_from_the_page_is_refused_with_a_message(client, case, score):
    response = client.post(page_of(case) + "pain/", {"score": score})

    assert response.status_code == 302
    assert "pain=invalid" in response["Location"]
    assert scores(case) == []
    page = client.get(response["Location"]).content.decode()
    assert "Please choose one number from 0 to 10." in page


@pytest.mark.django_db
def test_a_high_score_on_the_page_after_the_procedure_waits_for_a_call(
    client, case, clock, front_desk
):
    clock.move_to(ny(2026, 3, 4, 12))

    client.post(page_of(case) + "pain/", {"score": "9"})

    assert scores(case) == [(1, 9, PainSource.LINK)]
    (listed,) = front_desk.get("/api/v1/messages/needs-call/").json()
    assert (listed["kind"], listed["case"]) == ("pain", case.pk)
    assert "will call you" in client.get(page_of(case)).content.decode()


@pytest.mark.django_db
def test_the_link_stays_open_for_the_day_thirty_ask(client, case, clock):
    link = page_of(case)
    clock.move_to(ny(2026, 4, 2, 10, 5))  # day 30 after Tuesday 3 March

    page = client.get(link)

    assert page.status_code == 200
    assert "Your back pain today (0-10)" in page.content.decode()


@pytest.mark.django_db
def test_nothing_is_recorded_for_a_cancelled_case_from_its_page(client, unit):
    cancelled = case_cancelled(site=unit)

    response = client.post(page_of(cancelled) + "pain/", {"score": "3"})

    assert response.status_code == 302
    assert scores(cancelled) == []
    assert 'name="score"' not in client.get(page_of(cancelled)).content.decode()


@pytest.mark.django_db
def test_a_tampered_link_cannot_record_a_score(client, case):
    response = client.post(page_of(case).replace("/p/", "/p/9") + "pain/", {"score": "3"})

    assert response.status_code == 404
    assert scores(case) == []


@pytest.mark.django_db
def test_the_pain_form_reads_in_spanish_for_a_spanish_reader(rf, case):
    with translation.override("es"):
        html = render_to_string(
            "notifications/patient/_pain.html", {"case": case, "token": "t"}, request=rf.get("/")
        )

    assert "Su dolor de espalda hoy (0-10)" in html
    assert "0 es nada de dolor; 10 es el peor dolor que pueda imaginar." in html
    assert "Enviar mi respuesta" in html
