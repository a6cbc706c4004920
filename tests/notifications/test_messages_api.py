from datetime import UTC, datetime

import pytest

from notifications import dispatch
from notifications.backends import locmem
from notifications.models import InboundMessage, Reminder
from scheduling import roles
from tests.conftest import case_payload, client_for
from tests.factories import case_made

pytestmark = pytest.mark.django_db
EIGHT_AM_NEW_YORK = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def booking_answer(client, **overrides):
    """A case booked through the API, and the API's answer: the booking answer's flags."""
    response = client.post("/api/v1/cases/", case_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_staff_see_every_message_of_a_case(unit, front_desk, nurse, clock):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    messages = nurse.get(f"/api/v1/cases/{case.pk}/messages/").json()
    by_kind = {m["kind"]: m for m in messages}
    assert by_kind["confirmation"]["status"] == "sent"
    assert by_kind["confirmation"]["sent_at"] == "2026-03-02T08:00:00-05:00"
    assert by_kind["arrival"]["status"] == "planned"
    assert by_kind["arrival"]["due_at"] == "2026-03-02T16:00:00-05:00"
    assert by_kind["driver_pickup"]["audience"] == "driver"


def test_messages_need_a_staff_login(unit, front_desk):
    from rest_framework.test import APIClient

    case = case_made(site=unit, by=front_desk.user)
    assert APIClient().get(f"/api/v1/cases/{case.pk}/messages/").status_code == 401
    assert client_for().get(f"/api/v1/cases/{case.pk}/messages/").status_code == 403
    assert front_desk.get("/api/v1/cases/999/messages/").status_code == 404


def test_a_resend_is_a_new_row_that_goes_out_and_records_who_asked(unit, front_desk, clock,
                                                                   outbox):
    case = case_made(site=unit, by=front_desk.user)
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    original = Reminder.objects.get(case_id=case.pk, kind="confirmation")
    response = front_desk.post(f"/api/v1/messages/{original.pk}/resend/")
    assert response.status_code == 201
    copy = Reminder.objects.get(pk=response.json()["id"])
    assert (copy.resend_of, copy.requested_by) == (original, front_desk.user)
    dispatch.reminders_dispatch()
    assert len([m for m in outbox if "booked" in m.text]) == 2


def test_a_message_of_a_cancelled_case_is_not_resent(unit, front_desk):
    case = case_made(site=unit, by=front_desk.user)
    reminder = Reminder.objects.filter(case_id=case.pk).first()
    cancel = front_desk.post(f"/api/v1/cases/{case.pk}/cancel/", {"reason": "Unwell"},
                             format="json")
    assert cancel.status_code == 200, cancel.json()
    response = front_desk.post(f"/api/v1/messages/{reminder.pk}/resend/")
    assert (response.status_code, response.json()["code"]) == (409, "case_not_changeable")
    assert not Reminder.objects.filter(resend_of=reminder).exists()


def test_a_nurse_cannot_resend(unit, front_desk, nurse):
    case = case_made(site=unit, by=front_desk.user)
    reminder = Reminder.objects.filter(case_id=case.pk).first()
    assert nurse.post(f"/api/v1/messages/{reminder.pk}/resend/").status_code == 403


def test_failed_messages_put_the_case_on_the_not_reached_list_and_flag_it(unit, front_desk,
                                                                          clock):
    case = case_made(site=unit, by=front_desk.user, patient={"email": ""})
    locmem.failing["+12125550100"] = True  # the number does not exist
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    listed = front_desk.get("/api/v1/messages/not-reached/", {"site": "main"}).json()
    assert [(row["case"], row["kind"], row["status"]) for row in listed] == [
        (case.pk, "confirmation", "failed")
    ]
    assert listed[0]["patient"] == "Whitfield, Margaret"
    assert "not_reached" in front_desk.get(f"/api/v1/cases/{case.pk}/").json()["flags"]


def test_a_patient_with_no_phone_or_email_is_booked_and_flagged(unit, front_desk):
    unreachable = case_payload()["patient"] | {"email": "", "phone": ""}
    case = booking_answer(front_desk, patient=unreachable, unit_will_call=True)
    assert "not_reachable" in case["flags"]
    assert not Reminder.objects.filter(case_id=case["id"], audience="patient").exists()


def test_flags_tell_the_front_desk_what_to_chase(unit, front_desk):
    case = booking_answer(front_desk, medications=["warfarin"], driver={"name": "", "phone": ""})
    assert set(case["flags"]) == {"driver_missing", "not_confirmed", "inr_check"}


def test_the_needs_a_call_list_and_marking_one_handled(unit, front_desk):
    message = InboundMessage.objects.create(
        from_phone="+12125550100", body="Can I bring my dog?", kind="other",
        provider_message_id="SM1",
    )
    InboundMessage.objects.create(from_phone="+12125550100", body="STOP", kind="stop",
                                  provider_message_id="SM2")
    listed = front_desk.get("/api/v1/messages/needs-call/").json()
    assert [row["body"] for row in listed] == ["Can I bring my dog?"]
    done = front_desk.post(f"/api/v1/messages/needs-call/{message.pk}/handled/")
    assert done.status_code == 200
    assert front_desk.get("/api/v1/messages/needs-call/").json() == []
    assert client_for(roles.NURSE).post(
        f"/api/v1/messages/needs-call/{message.pk}/handled/"
    ).status_code == 403
