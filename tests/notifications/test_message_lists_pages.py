"""The front desk's call lists as pages (issue 15, item 7): "patients to call" (texts that need a
call, and patients nothing reaches) and "not reached" (messages that failed), each with its
one-click actions through the services the messages API uses."""

import re
from datetime import UTC, datetime

import pytest

from notifications import dispatch
from notifications.backends import locmem
from notifications.models import InboundMessage, Reminder
from scheduling import roles
from tests.conftest import client_for
from tests.factories import UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db
EIGHT_AM_NEW_YORK = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def staff_of(site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    return user


@pytest.fixture
def desk(client, unit):
    client.force_login(staff_of(unit, roles.FRONT_DESK))
    return client


@pytest.fixture
def failed(unit, clock):
    """A case whose confirmation text failed: the number does not exist."""
    case = case_made(site=unit, patient={"email": ""})
    locmem.failing["+12125550100"] = True
    clock.move_to(EIGHT_AM_NEW_YORK)
    dispatch.reminders_dispatch()
    locmem.failing.clear()
    return Reminder.objects.get(case=case, status="failed")


def test_the_not_reached_page_lists_failed_messages_and_resends_one_in_one_click(failed, desk):
    page = desk.get("/messages/not-reached/").content.decode()
    assert "Whitfield, Margaret" in page
    assert "Booking confirmation" in page

    answer = desk.post(f"/messages/{failed.pk}/resend/", follow=True)

    assert answer.redirect_chain[-1][0] == "/messages/not-reached/?site=main"
    copy = Reminder.objects.get(resend_of=failed)
    assert copy.status == "planned"
    assert "Sent again 1 time" in answer.content.decode()


def test_marking_a_message_handled_takes_it_off_the_page_and_the_api(failed, desk):
    desk.post(f"/messages/{failed.pk}/handled/")

    failed.refresh_from_db()
    assert failed.handled_at is not None
    assert "Whitfield, Margaret" not in desk.get("/messages/not-reached/").content.decode()
    api = client_for(roles.FRONT_DESK)
    assert api.get("/api/v1/messages/not-reached/", {"site": "main"}).json() == []


def test_the_api_marks_a_message_handled_through_the_same_service(unit, failed):
    api = client_for(roles.FRONT_DESK)
    answer = api.post(f"/api/v1/messages/{failed.pk}/handled/")
    assert answer.status_code == 200
    assert answer.json()["handled_at"] is not None
    assert api.get("/api/v1/messages/not-reached/", {"site": "main"}).json() == []


def test_the_needs_call_page_lists_texts_and_marks_one_handled(desk, unit):
    text = InboundMessage.objects.create(
        from_phone="+12125550100", body="Can I bring my dog?", kind="other",
        provider_message_id="SM1", site=unit,
    )
    page = desk.get("/messages/needs-call/").content.decode()
    assert "Can I bring my dog?" in page

    answer = desk.post(f"/messages/texts/{text.pk}/handled/", follow=True)

    assert "Can I bring my dog?" not in answer.content.decode()
    text.refresh_from_db()
    assert text.handled_at is not None


def test_the_needs_call_page_lists_patients_the_unit_calls_and_marks_one_called(desk, unit):
    case = case_made(site=unit, patient={"phone": "", "email": ""}, unit_will_call=True)
    page = desk.get("/messages/needs-call/").content.decode()
    assert "Whitfield, Margaret" in page

    answer = desk.post(f"/messages/calls/{case.pk}/called/", follow=True)

    case.refresh_from_db()
    assert case.unit_called_at is not None
    assert "marked as called" in answer.content.decode()
    assert "Whitfield, Margaret" not in desk.get("/messages/needs-call/").content.decode()


def test_another_site_s_rows_are_not_shown_nor_acted_on(client, unit, failed):
    other = build_unit(code="north", name="North", sms_number="+12125550199")
    client.force_login(staff_of(other, roles.FRONT_DESK))
    text = InboundMessage.objects.create(
        from_phone="+12125550100", body="Call me", kind="other", provider_message_id="SM9",
        case=failed.case,
    )

    assert "Whitfield" not in client.get("/messages/not-reached/").content.decode()
    assert client.get("/messages/not-reached/", {"site": "main"}).status_code == 404
    assert "Call me" not in client.get("/messages/needs-call/").content.decode()
    assert client.post(f"/messages/{failed.pk}/resend/").status_code == 404
    assert client.post(f"/messages/{failed.pk}/handled/").status_code == 404
    assert client.post(f"/messages/texts/{text.pk}/handled/").status_code == 404
    assert client.post(f"/messages/calls/{failed.case.pk}/called/").status_code == 404
    assert not Reminder.objects.filter(resend_of=failed).exists()


def test_a_nurse_reads_the_lists_but_has_no_buttons_and_may_not_act(client, unit, failed):
    client.force_login(staff_of(unit, roles.NURSE))
    page = client.get("/messages/not-reached/").content.decode()
    assert "Whitfield, Margaret" in page
    assert "Send again" not in page
    assert client.post(f"/messages/{failed.pk}/resend/").status_code == 403


@pytest.mark.parametrize("path", ["/messages/needs-call/", "/messages/not-reached/"])
def test_the_lists_need_a_login_and_are_not_stored(client, desk, path):
    assert desk.get(path)["Cache-Control"].startswith("no-store")
    desk.logout()
    assert desk.get(path).status_code == 302


@pytest.mark.parametrize(
    "path", ["/messages/99999999999999999999/resend/", "/messages/0/handled/"]
)
def test_bad_ids_are_not_found_not_a_500(desk, path):
    assert desk.post(path).status_code == 404


def test_get_on_an_action_is_refused(failed, desk):
    assert desk.get(f"/messages/{failed.pk}/resend/").status_code == 405


def test_the_nav_links_the_lists_for_the_front_desk(desk):
    page = desk.get("/messages/needs-call/").content.decode()
    assert 'href="/messages/needs-call/"' in page
    assert 'href="/messages/not-reached/"' in page


@pytest.mark.parametrize(("locale", "shown"), [
    ("en-US", r"\d{1,2}:\d\d [AP]M"), ("en-GB", r"\d\d:\d\d"),
])
def test_the_call_lists_write_times_on_the_site_clock(failed, desk, unit, locale, shown):
    """12 h in an en-US unit, 24 h in an en-GB one: the arrival of the patient to call, the start
    of the failed message's case (08:30)."""
    unit.locale = locale
    unit.save(update_fields=["locale"])
    case_made(site=unit, patient={"phone": "", "email": "", "mrn": "MRN-2"}, unit_will_call=True)

    to_call = desk.get("/messages/needs-call/").content.decode()
    not_reached = desk.get("/messages/not-reached/").content.decode()

    assert re.search(rf"<td>{shown}</td>", to_call)
    assert ("8:30 AM" if locale == "en-US" else "08:30") in not_reached
    if locale == "en-GB":
        assert " AM" not in to_call + not_reached
        assert " PM" not in to_call + not_reached
