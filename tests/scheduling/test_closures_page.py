"""The closures page (/closures/?site=<code>): every member of the site's staff reads the
site's closures; the front desk and admins add and lift them; adding one lists the cases
already booked on its days (unmoved); bad input is a form error, never a 500; another site's
closures are not found."""

from datetime import date

import pytest

from scheduling import roles
from scheduling.models import Closure, Resource, Surgeon
from scheduling.services.closures import closure_create
from tests.factories import TUESDAY, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db
URL = "/closures/"
CHRISTMAS = {"site": "main", "start_date": "2026-12-25", "end_date": "2026-12-25",
             "reason": "Christmas Day", "resource": "", "surgeon": ""}


def logged_in(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    client.force_login(user)
    client.user = user
    return client


def closed(site, start, end=None, reason="Power works", **kwargs):
    closure, _ = closure_create(site=site, start_date=start, end_date=end or start,
                                reason=reason, created_by=UserFactory(), **kwargs)
    return closure


@pytest.mark.parametrize("role", list(roles.ALL_ROLES))
def test_every_staff_role_reads_the_sites_closures_from_today_on(client, unit, role):
    room = Resource.objects.filter(site=unit, name="Room 1").get()
    closed(unit, date(2026, 2, 2), reason="Snow day")  # before today (2 March 2026)
    closed(unit, TUESDAY, reason="Power works")
    closed(unit, date(2026, 3, 9), date(2026, 3, 13), reason="C-arm service", resource=room)
    closed(unit, date(2026, 4, 6), reason="Annual leave", surgeon=Surgeon.objects.get())
    response = logged_in(client, unit, role).get(URL, {"site": "main"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Snow day" not in page
    assert "Power works" in page
    assert "Whole site" in page
    assert "C-arm service" in page
    assert "Room 1" in page
    assert "Mon 9 Mar 2026 to Fri 13 Mar 2026" in page
    assert "Annual leave" in page
    assert f"{Surgeon.objects.get().name} (leave)" in page
    shows_forms = role in (roles.FRONT_DESK, roles.ADMIN)
    assert ("Add a closure" in page) is shows_forms
    assert (">Lift</button>" in page) is shows_forms
    past = client.get(URL, {"site": "main", "past": "1"}).content.decode()
    assert "Snow day" in past


def test_the_front_desk_adds_a_closure_and_is_told_which_booked_cases_to_move(client, unit):
    first = case_made(site=unit)
    second = case_made(site=unit, patient={"last_name": "Okonkwo"})
    other_day = case_made(site=unit, day=date(2026, 3, 4), patient={"last_name": "Farrow"})
    desk = logged_in(client, unit, roles.FRONT_DESK)
    response = desk.post(URL, {**CHRISTMAS, "start_date": "2026-03-03", "end_date": "2026-03-03",
                               "reason": "Burst pipe"}, follow=True)
    assert response.status_code == 200
    closure = Closure.objects.get()
    assert (closure.site, closure.start_date, closure.end_date) == (unit, TUESDAY, TUESDAY)
    assert closure.reason == "Burst pipe"
    assert closure.created_by == desk.user
    assert closure.resource is None
    assert closure.surgeon is None
    page = response.content.decode()
    assert "2 cases already booked on those days, to move; nothing was moved" in page
    assert f'href="/cases/{first.pk}/"' in page
    assert f'href="/cases/{second.pk}/"' in page
    assert "Okonkwo" in page
    assert f'href="/cases/{other_day.pk}/"' not in page
    # Nothing was moved.
    first.refresh_from_db()
    assert first.day == TUESDAY


def test_a_closure_with_no_booked_cases_says_there_is_nothing_to_move(client, unit):
    response = logged_in(client, unit, roles.ADMIN).post(URL, CHRISTMAS, follow=True)
    assert "No case is booked on those days; nothing to move." in response.content.decode()
    assert Closure.objects.get().reason == "Christmas Day"


def test_a_room_or_a_surgeon_alone_is_closed(client, unit):
    room = Resource.objects.get(site=unit, name="Room 2")
    surgeon = Surgeon.objects.get()
    desk = logged_in(client, unit, roles.FRONT_DESK)
    assert desk.post(URL, {**CHRISTMAS, "resource": room.pk}).status_code == 302
    assert desk.post(URL, {**CHRISTMAS, "surgeon": surgeon.pk}).status_code == 302
    assert {(c.resource, c.surgeon) for c in Closure.objects.all()} == {
        (room, None), (None, surgeon)
    }


def test_the_front_desk_lifts_a_closure(client, unit):
    closure = closed(unit, TUESDAY, reason="Burst pipe")
    response = logged_in(client, unit, roles.FRONT_DESK).post(
        f"{URL}{closure.pk}/lift/", follow=True
    )
    assert response.status_code == 200
    assert not Closure.objects.exists()
    assert "Lifted: Site closed: 2026-03-03 (Burst pipe)" in response.content.decode()


@pytest.mark.parametrize("role", [roles.NURSE, roles.CLINICIAN])
def test_nurses_and_clinicians_may_neither_add_nor_lift(client, unit, role):
    closure = closed(unit, TUESDAY)
    logged_in(client, unit, role)
    assert client.post(URL, CHRISTMAS).status_code == 403
    assert client.post(f"{URL}{closure.pk}/lift/").status_code == 403
    assert list(Closure.objects.all()) == [closure]


def test_staff_without_a_role_and_visitors_are_kept_out(client, unit):
    assert client.get(URL).status_code == 302  # to the login page
    logged_in(client, unit)
    assert client.get(URL).status_code == 403


def test_another_sites_closures_are_not_found(client, unit):
    closure = closed(unit, TUESDAY, reason="Burst pipe")
    north = build_unit(code="north", name="North Clinic")
    logged_in(client, north, roles.FRONT_DESK, roles.ADMIN)
    assert client.get(URL, {"site": "main"}).status_code == 404
    assert client.get(URL, {"site": "no-such-site"}).status_code == 404
    assert client.post(URL, CHRISTMAS).status_code == 404
    assert client.post(f"{URL}{closure.pk}/lift/").status_code == 404
    assert client.post(f"{URL}{closure.pk + 1000}/lift/").status_code == 404
    assert list(Closure.objects.all()) == [closure]
    # Their own site's page does not show it.
    own = client.get(URL).content.decode()
    assert "North Clinic" in own
    assert "Burst pipe" not in own


def test_a_user_of_several_sites_chooses_the_site(client, unit):
    north = build_unit(code="north", name="North Clinic")
    closed(north, TUESDAY, reason="North flood")
    logged_in(client, unit, roles.FRONT_DESK)
    north.staff.add(client.user)
    page = client.get(URL, {"site": "north"}).content.decode()
    assert 'id="closures-site"' in page
    assert "North flood" in page
    assert "North flood" not in client.get(URL, {"site": "main"}).content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_date": "25/12/2026"}, "Give the first day as a date (YYYY-MM-DD)."),
        ({"end_date": "2026-02-30"}, "Give the last day as a date (YYYY-MM-DD)."),
        ({"start_date": ""}, "Give the first day closed."),
        ({"end_date": "2026-12-24"}, "The last day (2026-12-24) is before the first"),
        ({"reason": ""}, "Say why"),
        ({"reason": "x" * 201}, "at most 200 characters"),
        ({"resource": "999999"}, "That room or bay is not at this site."),
        ({"resource": "Room 1"}, "That room or bay is not at this site."),
        ({"surgeon": "abc"}, "That surgeon does not work at this site."),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_saved(client, unit, change, message):
    response = logged_in(client, unit, roles.FRONT_DESK).post(URL, {**CHRISTMAS, **change})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The closure was not added" in page
    assert message.replace("“", "&ldquo;") in page or message in page
    assert not Closure.objects.exists()


def test_a_room_and_a_surgeon_at_once_meet_the_services_error(client, unit):
    room = Resource.objects.get(site=unit, name="Room 1")
    response = logged_in(client, unit, roles.FRONT_DESK).post(
        URL, {**CHRISTMAS, "resource": room.pk, "surgeon": Surgeon.objects.get().pk}
    )
    assert response.status_code == 200
    assert "not both at once: add two closures" in response.content.decode()
    assert not Closure.objects.exists()


def test_a_room_or_surgeon_of_another_site_is_a_form_error(client, unit):
    north = build_unit(code="north", name="North Clinic", surgeons=0)
    north_room = Resource.objects.get(site=north, name="Room 1")
    north_surgeon = Surgeon.objects.create(name="Dr North", code="dr-north")
    north_surgeon.sites.add(north)
    desk = logged_in(client, unit, roles.FRONT_DESK)
    for change in ({"resource": north_room.pk}, {"surgeon": north_surgeon.pk}):
        response = desk.post(URL, {**CHRISTMAS, **change})
        assert response.status_code == 200
        assert "is not at this site" in response.content.decode() or (
            "does not work at this site" in response.content.decode()
        )
    assert not Closure.objects.exists()


def test_the_nav_links_the_page_for_the_front_desk_and_admins_only(client, unit):
    link = f'href="{URL}">Closures</a>'
    assert link in logged_in(client, unit, roles.FRONT_DESK).get("/day/").content.decode()
    assert link in logged_in(client, unit, roles.ADMIN).get("/day/").content.decode()
    assert link not in logged_in(client, unit, roles.NURSE).get("/day/").content.decode()


def test_a_surgeons_leave_lists_only_the_cases_the_clerk_may_see(client, unit):
    surgeon = Surgeon.objects.get()
    north = build_unit(code="north", name="North Clinic", surgeons=0)
    surgeon.sites.add(north)
    here = case_made(site=unit, surgeon=surgeon)
    there = case_made(site=north, surgeon=surgeon, patient={"last_name": "Northcote"})
    response = logged_in(client, unit, roles.FRONT_DESK).post(
        URL, {**CHRISTMAS, "start_date": "2026-03-03", "end_date": "2026-03-03",
              "reason": "Annual leave", "surgeon": surgeon.pk}, follow=True,
    )
    page = response.content.decode()
    assert "1 case already booked on those days, to move; nothing was moved" in page
    assert f'href="/cases/{here.pk}/"' in page
    assert f'href="/cases/{there.pk}/"' not in page
    assert "Northcote" not in page


def test_the_page_is_not_stored(client, unit):
    response = logged_in(client, unit, roles.NURSE).get(URL, {"site": "main"})
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives
