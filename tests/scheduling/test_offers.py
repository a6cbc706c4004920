"""Freed times offered by text: waves from the backfill ranking, replies, expiry, the next wave,
and the times not offered (site off, too close, nobody textable)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import InboundKind, SmsOptOut
from scheduling.models import (
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    EventSource,
    WaitingStatus,
)
from scheduling.offer_models import FreedTime, FreedTimeStatus, Offer, OfferSendStatus, OfferStatus
from scheduling.offers import sending
from scheduling.offers.freed import OFFERS_START_TASK
from scheduling.offers.waves import freed_time_offers_start
from scheduling.services import case_cancel, case_mark_no_show, case_reschedule
from scheduling.tasks import offers_tick
from tests.factories import UserFactory, case_made
from tests.scheduling.offer_helpers import DAYTIME, offer_of, offered, text, waiting
from tests.scheduling.test_plan_day import at
from vertebro_site.celery import app

pytestmark = pytest.mark.django_db
WEDNESDAY = at(0).date() + timedelta(days=1)


@pytest.fixture(autouse=True)
def daytime(clock):
    clock.move_to(DAYTIME)



def freed_case(site, start=None):
    case = case_made(site=site, start=start or at(10, 45), driver_name="")
    case_cancel(case=case, reason="Patient has a cold", by=UserFactory())
    return case


@pytest.fixture
def four(tiny_unit):
    """One urgent and three routine patients waiting, in the order they joined."""
    return [
        waiting(tiny_unit, first_name="Routine1"),
        waiting(tiny_unit, priority="urgent", first_name="Urgent"),
        waiting(tiny_unit, first_name="Routine2"),
        waiting(tiny_unit, first_name="Routine3"),
    ]


def test_it_texts_the_first_wave_of_the_ranking_when_a_case_is_cancelled(
    tiny_unit, four, outbox, django_capture_on_commit_callbacks
):
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    outbox.clear()
    with django_capture_on_commit_callbacks() as queued:
        case_cancel(case=case, reason="Patient has a cold", by=UserFactory())
    assert len(queued) == 1  # the first wave is asked for once the cancel commits
    freed = offered(case)
    routine1, urgent, routine2, routine3 = four
    assert freed.waves == 1
    offers = Offer.objects.filter(freed_time=freed)
    # The three best of the ranking: the urgent patient, then the routine ones by age.
    assert {o.entry_id for o in offers} == {urgent.pk, routine1.pk, routine2.pk}
    assert {o.wave for o in offers} == {1}
    assert all(o.send_status == OfferSendStatus.SENT for o in offers)
    assert all(o.expires_at == o.created_at + timedelta(minutes=120) for o in offers)
    texts = {m.to: m.text for m in outbox}
    assert set(texts) == {e.patient.phone for e in (urgent, routine1, routine2)}
    message = texts[urgent.patient.phone]
    assert message.startswith("Urgent, a time is free at Riverside Spine Center: Tuesday 3 March, "
                              "arrive 09:15. To take it reply YES or tap http")
    assert "/o/" in message
    assert "Open until 10:00; first to answer gets it." in message  # 08:00 New York + 2 h
    assert "vertebro" not in message.lower()
    assert "procedure" not in message.lower()
    assert offer_of(urgent).slot_start == at(10, 45)


def test_a_spanish_speaker_gets_the_offer_in_spanish(tiny_unit, outbox):
    entry = waiting(tiny_unit, language="es", first_name="María")
    offered(freed_case(tiny_unit))
    (message,) = [m.text for m in outbox if m.to == entry.patient.phone]
    assert "hay una cita libre en Riverside Spine Center: el martes 3 de marzo" in message
    assert "llegada a las 09:15" in message
    assert "Para tomarla responda S" in message
    assert "hasta las 10:00" in message


def test_it_offers_the_next_wave_when_the_first_ends_with_no_taker(
    tiny_unit, four, clock, outbox
):
    tiny_unit.offer_min_lead_hours = 12
    tiny_unit.save()
    freed = offered(freed_case(tiny_unit))
    routine3 = four[3]
    clock.shift(timedelta(minutes=119))
    offers_tick()
    assert not Offer.objects.filter(entry=routine3).exists()  # still open: nobody else asked
    clock.shift(timedelta(minutes=1))
    offers_tick()
    assert set(Offer.objects.filter(wave=1).values_list("status", flat=True)) == {"expired"}
    assert offer_of(routine3).wave == 2
    assert outbox[-1].to == routine3.patient.phone
    clock.shift(timedelta(minutes=120))
    offers_tick()
    freed.refresh_from_db()
    assert freed.status == FreedTimeStatus.CLOSED  # nobody left to ask
    assert "Nobody left" in freed.closed_reason


def test_a_yes_books_the_time_and_a_later_yes_is_told_it_has_gone(tiny_unit, four):
    freed = offered(freed_case(tiny_unit))
    _, urgent, routine2, _ = four
    message, reply = text(urgent.patient.phone, "Yes")
    assert message.kind == InboundKind.OFFER
    assert reply.startswith("Thank you, Urgent: the time is yours. Riverside Spine Center, "
                            "Tuesday 3 March, arrive at 09:15.")
    offer = offer_of(urgent)
    assert offer.status == OfferStatus.ACCEPTED
    case = Case.objects.get(pk=offer.case_id)
    assert (case.patient, case.procedure_start, case.status, case.booked_by) == (
        urgent.patient, at(10, 45), CaseStatus.BOOKED, None)
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.source) == (CaseAction.OFFER_ACCEPT, EventSource.PATIENT_SMS)
    urgent.refresh_from_db()
    assert (urgent.status, urgent.case_id) == (WaitingStatus.SCHEDULED, case.pk)
    freed.refresh_from_db()
    assert freed.status == FreedTimeStatus.FILLED
    assert offer_of(routine2).status == OfferStatus.TAKEN
    _, reply = text(routine2.patient.phone, "YES")
    assert reply.startswith("Sorry, Routine2: someone answered first")
    assert Case.objects.filter(patient=routine2.patient).count() == 0
    offers_tick()  # a filled time has no next wave
    assert not Offer.objects.filter(wave=2).exists()


def test_no_declines_and_the_next_wave_starts_once_all_have_answered(tiny_unit, four):
    offered(freed_case(tiny_unit))
    for entry in four[:3]:
        _, reply = text(entry.patient.phone, "no")
        assert reply.startswith("Thank you")
    assert set(Offer.objects.values_list("status", flat=True)) == {"declined"}
    offers_tick()
    assert offer_of(four[3]).wave == 2


def test_stop_during_an_offer_opts_out_and_withdraws_it(tiny_unit, outbox):
    entry = waiting(tiny_unit)
    offered(freed_case(tiny_unit))
    message, reply = text(entry.patient.phone, "STOP")
    assert message.kind == InboundKind.STOP
    assert reply == ""
    assert SmsOptOut.objects.filter(phone=entry.patient.phone).exists()
    offer = offer_of(entry)
    assert (offer.status, offer.outcome) == (OfferStatus.DECLINED, "Texted STOP.")
    # A YES after STOP books nothing: the offer is no longer open.
    text(entry.patient.phone, "YES")
    assert not Case.objects.filter(patient=entry.patient).exists()


def test_a_stop_before_the_offer_went_out_means_it_is_never_sent(tiny_unit, outbox):
    entry = waiting(tiny_unit)
    case = freed_case(tiny_unit)
    freed = FreedTime.objects.get(case=case)
    freed_time_offers_start(freed_time_id=freed.pk)
    text(entry.patient.phone, "STOP")
    sending.offers_dispatch()
    assert outbox == []
    assert offer_of(entry).send_status == OfferSendStatus.WITHDRAWN


def test_a_yes_from_a_number_with_two_open_offers_asks_which(tiny_unit):
    entry = waiting(tiny_unit, first_name="Rosa")
    tuesday = freed_case(tiny_unit)
    wednesday = freed_case(tiny_unit, start=at(14, 0, day=WEDNESDAY))
    offered(tuesday)
    offered(wednesday)
    first, second = Offer.objects.filter(entry=entry).order_by("id")
    assert (first.reply_number, second.reply_number) == (1, 2)
    _, reply = text(entry.patient.phone, "YES")
    assert reply == ("Rosa, you have 2 offers open. Reply YES 1 for Tuesday 3 March at 09:15, "
                     "YES 2 for Wednesday 4 March at 12:30; or NO for none.")
    assert not Case.objects.filter(patient=entry.patient).exists()
    _, reply = text(entry.patient.phone, "yes 2")
    assert "Wednesday 4 March, arrive at 12:30" in reply
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == OfferStatus.ACCEPTED
    assert (first.status, first.outcome) == (OfferStatus.DECLINED, "Booked from another offer.")
    # Booked: the next YES confirms the new visit, not an old offer.
    message, reply = text(entry.patient.phone, "YES")
    assert message.kind == InboundKind.CONFIRM
    assert Case.objects.get(patient=entry.patient).status == CaseStatus.CONFIRMED


def test_the_second_offer_says_which_number_to_reply(tiny_unit, outbox):
    entry = waiting(tiny_unit)
    offered(freed_case(tiny_unit))
    offered(freed_case(tiny_unit, start=at(14, 0, day=WEDNESDAY)))
    assert "reply YES or tap" in outbox[0].text
    assert "reply YES 2 or tap" in outbox[1].text
    assert outbox[1].to == entry.patient.phone


def test_a_late_yes_is_told_politely_the_offer_has_ended(tiny_unit, clock):
    entry = waiting(tiny_unit)
    offered(freed_case(tiny_unit))
    clock.shift(timedelta(hours=3))
    offers_tick()
    message, reply = text(entry.patient.phone, "YES")
    assert message.kind == InboundKind.OFFER
    assert reply.startswith("Sorry, Ana: that offer from Riverside Spine Center has ended.")
    assert offer_of(entry).status == OfferStatus.EXPIRED
    assert not Case.objects.filter(patient=entry.patient).exists()
    # Answered once; a second YES is an ordinary text again.
    message, _ = text(entry.patient.phone, "YES")
    assert message.kind == InboundKind.OTHER


def test_a_yes_after_the_time_but_before_the_tick_is_expired_too(tiny_unit, clock):
    entry = waiting(tiny_unit)
    offered(freed_case(tiny_unit))
    clock.shift(timedelta(minutes=121))
    _, reply = text(entry.patient.phone, "YES")
    assert "has ended" in reply
    assert offer_of(entry).status == OfferStatus.EXPIRED


def test_a_site_with_offers_off_texts_nobody(tiny_unit, outbox):
    tiny_unit.offers_enabled = False
    tiny_unit.save()
    waiting(tiny_unit)
    case = freed_case(tiny_unit)
    assert not FreedTime.objects.filter(case=case).exists()
    offers_tick()
    assert outbox == []


def test_a_site_that_turns_offers_off_stops_the_next_wave(tiny_unit, clock):
    waiting(tiny_unit)
    later = waiting(tiny_unit)
    tiny_unit.offer_wave_size = 1
    tiny_unit.save()
    freed = offered(freed_case(tiny_unit))
    tiny_unit.offers_enabled = False
    tiny_unit.save()
    clock.shift(timedelta(hours=3))
    offers_tick()
    freed.refresh_from_db()
    assert freed.status == FreedTimeStatus.CLOSED
    assert freed.closed_reason == "The site does not offer freed times."
    assert not Offer.objects.filter(entry=later).exists()


def test_a_time_too_close_is_not_offered(tiny_unit):
    waiting(tiny_unit)
    tiny_unit.offer_min_lead_hours = 48
    tiny_unit.save()
    case = freed_case(tiny_unit)  # Tuesday 10:45 is 27 h 45 min away
    assert not FreedTime.objects.filter(case=case).exists()


def test_a_move_offers_the_time_it_leaves(tiny_unit, outbox):
    entry = waiting(tiny_unit)
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_reschedule(case=case, start=at(10, 45, day=WEDNESDAY), by=UserFactory())
    freed = offered(case)
    assert (freed.day, freed.starts_at) == (at(0).date(), at(10, 45))
    assert offer_of(entry).slot_start == at(10, 45)


def test_a_no_show_offers_what_is_left_when_far_enough_ahead(tiny_unit, clock):
    entry = waiting(tiny_unit)
    tiny_unit.offer_min_lead_hours = 0
    tiny_unit.save()
    case = case_made(site=tiny_unit, start=at(11, 0), driver_name="")
    clock.move_to(at(9, 35))
    case_mark_no_show(case=case, by=UserFactory())
    offered(case)
    assert offer_of(entry).slot_start > at(9, 35)


def test_patients_who_cannot_be_texted_are_skipped(tiny_unit):
    no_phone = waiting(tiny_unit, phone="")
    opted_out = waiting(tiny_unit)
    SmsOptOut.objects.create(phone=opted_out.patient.phone)
    textable = waiting(tiny_unit)
    offered(freed_case(tiny_unit))
    assert list(Offer.objects.values_list("entry_id", flat=True)) == [textable.pk]
    assert no_phone.status == WaitingStatus.WAITING


def test_an_offer_is_texted_once_when_a_worker_dies(tiny_unit, clock, outbox):
    entry = waiting(tiny_unit)
    case = freed_case(tiny_unit)
    freed_time_offers_start(freed_time_id=FreedTime.objects.get(case=case).pk)
    sending.offers_claim(now=timezone.now())  # claimed, then the worker died before sending
    assert sending.offers_dispatch() == 0  # nobody else sends a claimed offer
    clock.shift(timedelta(minutes=6))
    assert sending.offers_sweep() == {"unknown": 0, "requeued": 1}
    assert sending.offers_dispatch() == 1
    assert sending.offers_dispatch() == 0
    assert [m.to for m in outbox] == [entry.patient.phone]
    # A worker that died after calling the provider: never sent again blindly.
    offer = offer_of(entry)
    Offer.objects.filter(pk=offer.pk).update(
        send_status=OfferSendStatus.SENDING, provider_called_at=timezone.now())
    clock.shift(timedelta(minutes=6))
    assert sending.offers_sweep() == {"unknown": 1, "requeued": 0}
    assert sending.offers_dispatch() == 0
    assert len(outbox) == 1


def test_a_yes_to_a_text_that_is_not_an_offer_still_confirms_a_case(unit):
    case = case_made(site=unit)
    message, reply = text(case.patient.phone, "YES")
    assert message.kind == InboundKind.CONFIRM
    assert reply == ""


def test_no_wave_starts_in_quiet_hours_the_tick_starts_it_in_the_morning(tiny_unit, clock):
    entry = waiting(tiny_unit)
    clock.move_to(DAYTIME - timedelta(hours=1))  # 07:00 in New York
    freed = offered(freed_case(tiny_unit))
    assert (freed.status, freed.waves) == (FreedTimeStatus.OPEN, 0)
    offers_tick()
    assert not Offer.objects.exists()
    clock.move_to(DAYTIME)
    offers_tick()
    assert offer_of(entry).wave == 1


def test_the_task_queued_after_commit_and_the_beats_tick_are_registered_tasks():
    app.loader.import_default_modules()  # what a worker does at start: finds every app's tasks
    assert OFFERS_START_TASK in app.tasks
    assert app.conf.beat_schedule["offers-tick"]["task"] in app.tasks


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_offer_fits_in_two_sms_segments_with_a_long_clinic_name(
    tiny_unit, outbox, settings, language
):
    settings.PUBLIC_BASE_URL = "https://vertebro.riverside-hospital.example.org"
    tiny_unit.name = "Riverside Spine and Pain Center, East Wing"
    tiny_unit.save()
    entry = waiting(tiny_unit, language=language, first_name="Maximiliana")
    offered(freed_case(tiny_unit))
    assert offer_of(entry).send_status == OfferSendStatus.SENT
    (message,) = outbox
    assert len(message.text) <= 306
    assert ("Open until 10:00" if language == "en" else "hasta las 10:00") in message.text
