"""The case page and its actions, patient search and the printable day list, through the HTTP
client. Cases are booked through the booking services, as the booking pages book them."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from notifications.models import Reminder, ReminderStatus
from scheduling import roles, services
from scheduling.locks import STALE_MESSAGE
from scheduling.models import Case, CaseStatus, Patient, Site, Stage
from scheduling.pages.free_times import SLOT_LOST_MESSAGE
from scheduling.pages.search import SEARCH_HINT
from scheduling.services.drivers import case_driver_set
from tests.conftest import build_unit, client_for
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def book(clerk, mrn="MRN-1001", *, site="main", patient=None, **made):
    """A case booked through the booking services by `clerk` at the site coded `site`, for
    Margaret Whitfield under `mrn` unless `patient` says otherwise."""
    return case_made(site=Site.objects.get(code=site), by=clerk,
                     patient={"mrn": mrn} | (patient or {}), **made)


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    client.force_login(user)
    return user


def version(case):
    return Case.objects.get(pk=case.pk).version


def flashes(response):
    return [str(message) for message in response.context["messages"]]


def stage_starts(case):
    return list(Stage.objects.filter(case=case).values_list("planned_start", flat=True))


def ny(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), NEW_YORK)


# Who may open what

ANONYMOUS, NO_ROLE = "anonymous", "no role"
READ, CHANGE = "read", "change"
PAGES = {
    "case page": ("get", "/cases/{id}/", READ),
    "reschedule page": ("get", "/cases/{id}/reschedule/", CHANGE),
    "reschedule": ("post", "/cases/{id}/reschedule/", CHANGE),
    "cancel": ("post", "/cases/{id}/cancel/", CHANGE),
    "no-show": ("post", "/cases/{id}/no-show/", CHANGE),
    "driver": ("post", "/cases/{id}/driver/", CHANGE),
    "patient search": ("get", "/patients/?q=Whitfield", READ),
    "day list": ("get", "/day/", READ),
}
ROLE_TABLE = [
    (ANONYMOUS, {READ: 302, CHANGE: 302}),
    (NO_ROLE, {READ: 403, CHANGE: 403}),
    (roles.NURSE, {READ: 200, CHANGE: 403}),
    (roles.ADMIN, {READ: 200, CHANGE: 403}),
    (roles.FRONT_DESK, {READ: 200, CHANGE: 200}),
    (roles.CLINICIAN, {READ: 200, CHANGE: 200}),
]


@pytest.mark.parametrize(("role", "expected"), ROLE_TABLE, ids=[row[0] for row in ROLE_TABLE])
@pytest.mark.parametrize("page", PAGES)
def test_each_role_gets_what_it_may_on_each_page(client, unit, front_desk, role, expected, page):
    method, url, kind = PAGES[page]
    case = book(front_desk.user)
    if role == NO_ROLE:
        staff(client, unit)
    elif role != ANONYMOUS:
        staff(client, unit, role)
    data = {
        "version": version(case),
        "reason": "The patient asked to cancel.",
        "driver_name": "Ann Whitfield",
        "driver_phone": "",
        "start": "2026-03-03T10:00:00-05:00",
        "date": "2026-03-03",
    }
    response = getattr(client, method)(url.format(id=case.pk), data if method == "post" else None)

    status = expected[kind]
    if status == 200 and method == "post":
        # A change done: back to the case page (a no-show on the day before is refused there).
        assert response.status_code == 302
        assert response.url == f"/cases/{case.pk}/"
    else:
        assert response.status_code == status
    if status == 302:
        assert response.url.startswith("/accounts/login/")


def test_a_nurse_reads_the_case_without_the_actions(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.NURSE)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Whitfield" in html
    assert f"/cases/{case.pk}/cancel/" not in html
    assert f"/cases/{case.pk}/reschedule/" not in html


def test_actions_need_a_post(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    for action in ("cancel", "no-show", "driver"):
        assert client.get(f"/cases/{case.pk}/{action}/").status_code == 405


# Another site's case

CASE_URLS = [
    ("get", "/cases/{id}/"),
    ("get", "/cases/{id}/reschedule/"),
    ("post", "/cases/{id}/reschedule/"),
    ("post", "/cases/{id}/cancel/"),
    ("post", "/cases/{id}/no-show/"),
    ("post", "/cases/{id}/driver/"),
]


@pytest.mark.parametrize(("method", "url"), CASE_URLS)
def test_another_sites_case_is_not_found(client, unit, method, url):
    north = build_unit(code="north", name="North Clinic")
    api = client_for(roles.FRONT_DESK, sites=[north])
    theirs = book(api.user, site="north")
    staff(client, unit, roles.FRONT_DESK)
    data = {"version": version(theirs), "reason": "Mine now.", "driver_name": "X",
            "start": "2026-03-03T10:00:00-05:00", "date": "2026-03-03"}

    response = getattr(client, method)(url.format(id=theirs.pk), data)

    assert response.status_code == 404
    assert getattr(client, method)(url.format(id=2**63), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == CaseStatus.BOOKED
    assert theirs.cancel_reason == ""
    assert theirs.driver_name == "Tom Whitfield"


def test_another_sites_day_list_and_patients_are_not_shown(client, unit):
    north = build_unit(code="north", name="North Clinic")
    book(client_for(roles.FRONT_DESK, sites=[north]).user, site="north")
    staff(client, unit, roles.FRONT_DESK)
    assert client.get("/day/?site=north&date=2026-03-03").status_code == 404
    response = client.get("/patients/?q=Whitfield")
    assert response.context["patients"] == []
    assert "No patient at your sites matches" in response.content.decode()


# The case page


def test_the_case_page_shows_the_case_in_the_sites_time_zone(client, unit, front_desk):
    case = book(front_desk.user, medications=["warfarin"])
    Reminder.objects.filter(case=case, kind="confirmation").update(
        status=ReminderStatus.FAILED, failed_at=ny(case.day, 7), error="Unreachable handset"
    )
    staff(client, unit, roles.FRONT_DESK)

    response = client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    for shown in [
        "Whitfield", "MRN-1001", "05/17/1948", "+12125550100", "m.whitfield@example.org",
        "Booked", "Vertebroplasty, 1 level", "Tuesday, March 3, 2026",  # the en-US site's way
        "Tom Whitfield, +12125550101",
        "8:30 AM",  # the procedure, in New York (13:30 UTC)
        "7:00 AM",  # arrival
        "Warfarin", "Thu Feb 26, 2026",  # held 5 days before
        "Unreachable handset", "Failed", "Planned",
    ]:
        assert shown in html, shown
    assert "13:30" not in html
    assert "1:30 PM" not in html
    stages = response.context["stages"]
    assert [stage.kind for stage in stages] == ["pre_op", "procedure", "cement_set", "recovery"]
    assert len(response.context["reminders"]) == Reminder.objects.filter(case=case).count() > 1


def test_the_case_page_shows_a_screening_override(client, unit, clinician):
    screening = {"imaging_on_file": False}
    case = book(clinician.user, screening=screening, override_reason="Imaging reviewed at MDT.")
    staff(client, unit, roles.NURSE)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Pre-op imaging is not on file." in html
    assert "Imaging reviewed at MDT." in html
    assert clinician.user.username in html


# Reschedule


def test_the_reschedule_page_lists_the_free_times_of_the_date_chosen(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.get(f"/cases/{case.pk}/reschedule/?date=2026-03-04")
    assert response.status_code == 200
    values = [time.value for time in response.context["times"]]
    assert values[0] == "2026-03-04T08:30:00-05:00"
    assert 'value="2026-03-04T08:30:00-05:00"' in response.content.decode()


@pytest.mark.parametrize(("day", "message"), [
    ("2026-03-07", "closed on Saturday, March 7, 2026"),  # as the en-US site writes it
    ("2026-02-27", "has passed"),
    ("03/04/2026", "Enter a date as YYYY-MM-DD."),
])
def test_the_reschedule_page_explains_a_date_without_times(client, unit, front_desk, day, message):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.get(f"/cases/{case.pk}/reschedule/", {"date": day})
    assert response.status_code == 200
    assert response.context["times"] == []
    assert message in response.content.decode()


def test_a_reschedule_moves_the_case(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.post(
        f"/cases/{case.pk}/reschedule/",
        {"version": version(case), "date": "2026-03-04", "start": "2026-03-04T10:00:00-05:00"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.procedure_start == ny(case.day, 10)
    assert str(case.day) == "2026-03-04"
    assert flashes(response) == [
        "Rescheduled to Wednesday, March 4, 2026: arrival 8:30 AM, procedure 10:00 AM. "
        "Messages are re-planned."
    ]


def test_the_case_page_and_its_reschedule_follow_the_site_clock_24_h_en_gb_12_h_en_us(
        client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert '<dd id="case-procedure-start">8:30 AM</dd>' in html
    assert "<dd>Tue Mar 3, 12:30 AM</dd>" in html  # no solids from
    assert "10:00 AM</strong>" in client.get(
        f"/cases/{case.pk}/reschedule/?date=2026-03-04").content.decode()

    unit.locale = "en-GB"
    unit.save(update_fields=["locale"])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    moving = client.get(f"/cases/{case.pk}/reschedule/?date=2026-03-04").content.decode()

    assert '<dd id="case-day">Tuesday 3 March 2026</dd>' in html
    assert '<dd id="case-procedure-start">08:30</dd>' in html
    assert "<dd>Tue 3 Mar, 00:30</dd>" in html
    assert "17/05/1948" in html
    assert "Free times on Wednesday 4 March 2026" in moving
    assert "<strong>10:00</strong>" in moving
    for page in (html, moving):
        assert " AM" not in page
        assert " PM" not in page


def test_a_reschedule_to_a_time_just_taken_keeps_the_old_booking(client, tiny_unit, front_desk):
    case = book(front_desk.user, mrn="MRN-1")
    staff(client, tiny_unit, roles.FRONT_DESK)
    shown = client.get(f"/cases/{case.pk}/reschedule/?date=2026-03-04").context["times"]
    taken = shown[0].value
    # Another clerk books the only room at that time while this page is open.
    other = book(front_desk.user, mrn="MRN-2", day=date(2026, 3, 4))
    assert other.procedure_start == datetime.fromisoformat(taken)
    before = stage_starts(case)
    reminders_before = list(Reminder.objects.filter(case=case).values_list("pk", "status"))

    response = client.post(
        f"/cases/{case.pk}/reschedule/",
        {"version": version(case), "date": "2026-03-04", "start": taken},
    )

    assert response.status_code == 200
    assert SLOT_LOST_MESSAGE in response.content.decode()
    fresh = [time.value for time in response.context["times"]]
    assert fresh
    assert taken not in fresh
    case.refresh_from_db()
    assert stage_starts(case) == before
    assert str(case.day) == "2026-03-03"
    assert case.plan_version == 1
    assert list(Reminder.objects.filter(case=case).values_list("pk", "status")) == reminders_before


def test_a_reschedule_without_a_time_chosen_is_told(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.post(
        f"/cases/{case.pk}/reschedule/", {"version": version(case), "date": "2026-03-04"}
    )
    assert response.status_code == 200
    assert "Choose one of the free times." in response.content.decode()
    assert response.context["times"]


# A page drawn before someone else changed the case


def change_by_someone_else(case):
    other = UserFactory(roles=[roles.FRONT_DESK])
    case_driver_set(case=case, name="Someone Else", phone="", by=other)


@pytest.mark.parametrize(("action", "data"), [
    ("cancel", {"reason": "Patient unwell."}),
    ("no-show", {}),
    ("driver", {"driver_name": "Ann Whitfield"}),
    ("reschedule", {"date": "2026-03-04", "start": "2026-03-04T10:00:00-05:00"}),
])
def test_a_stale_page_is_refused(client, unit, front_desk, clock, action, data):
    case = book(front_desk.user)
    clock.move_to(ny(case.day, 9))  # the day itself: a no-show would be allowed
    staff(client, unit, roles.FRONT_DESK)
    shown = client.get(f"/cases/{case.pk}/").context["cancel_form"]["version"].value()
    change_by_someone_else(case)

    response = client.post(
        f"/cases/{case.pk}/{action}/", {"version": shown, **data}, follow=True
    )

    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert flashes(response) == [STALE_MESSAGE]
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED
    assert case.driver_name == "Someone Else"
    assert case.plan_version == 1
    assert "Someone Else" in response.content.decode()  # the case as it is now


def test_a_page_drawn_after_the_change_may_act(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    change_by_someone_else(case)
    shown = client.get(f"/cases/{case.pk}/").context["cancel_form"]["version"].value()
    response = client.post(f"/cases/{case.pk}/cancel/", {"version": shown, "reason": "Unwell."})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CANCELLED


# Cancel, no-show, driver


def test_cancel_needs_a_reason(client, unit, front_desk):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.post(f"/cases/{case.pk}/cancel/", {"version": version(case), "reason": " "})
    assert response.status_code == 200
    assert response.context["cancel_form"].errors == {"reason": ["Say why the case is cancelled."]}
    assert 'id="id_reason_errors"' in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED


def test_cancel_with_a_reason_cancels(client, unit, front_desk):
    case = book(front_desk.user)
    user = staff(client, unit, roles.FRONT_DESK)
    response = client.post(
        f"/cases/{case.pk}/cancel/",
        {"version": version(case), "reason": "Fracture healed."},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.cancel_reason == "Fracture healed."
    assert case.cancelled_by == user
    assert not Stage.objects.filter(case=case, active=True).exists()
    assert flashes(response) == ["The case is cancelled. Its rooms and bays are free again."]
    html = response.content.decode()
    assert "Fracture healed." in html
    assert f"/cases/{case.pk}/cancel/" not in html


def test_no_show_before_arrival_is_refused_with_the_services_message(
    client, unit, front_desk, clock
):
    case = book(front_desk.user)
    clock.move_to(ny(case.day, 6, 55))  # the day, five minutes before arrival at 07:00
    staff(client, unit, roles.FRONT_DESK)
    response = client.post(
        f"/cases/{case.pk}/no-show/", {"version": version(case)}, follow=True
    )
    assert flashes(response) == [
        "The patient is not due yet; a no-show can be recorded after the arrival time."
    ]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED


def test_no_show_after_arrival_is_recorded(client, unit, front_desk, clock):
    case = book(front_desk.user)
    clock.move_to(ny(case.day, 7, 30))
    staff(client, unit, roles.FRONT_DESK)
    assert "/no-show/" in client.get(f"/cases/{case.pk}/").content.decode()
    client.post(f"/cases/{case.pk}/no-show/", {"version": version(case)})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NO_SHOW


def test_the_missing_driver_is_added(client, unit, front_desk):
    case = book(front_desk.user, driver_name="", driver_phone="")
    staff(client, unit, roles.FRONT_DESK)
    assert "No driver yet" in client.get(f"/cases/{case.pk}/").content.decode()

    response = client.post(
        f"/cases/{case.pk}/driver/",
        {"version": version(case), "driver_name": " Ann Whitfield ",
         "driver_phone": "(212) 555-0199"},
        follow=True,
    )

    case.refresh_from_db()
    assert (case.driver_name, case.driver_phone) == ("Ann Whitfield", "+12125550199")
    assert flashes(response) == ["The driver is now Ann Whitfield."]


@pytest.mark.parametrize(("name", "phone", "field", "message"), [
    ("", "(212) 555-0199", "driver_name", "Enter the driver's name."),
    ("Ann", "555", "driver_phone", "“555” is not a valid phone number."),
])
def test_a_bad_driver_is_told_next_to_the_field(client, unit, front_desk, name, phone, field,
                                                message):
    case = book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.post(
        f"/cases/{case.pk}/driver/",
        {"version": version(case), "driver_name": name, "driver_phone": phone},
    )
    assert response.status_code == 200
    assert response.context["driver_form"].errors == {field: [message]}
    assert Case.objects.get(pk=case.pk).driver_name == "Tom Whitfield"


def test_a_cancelled_case_cannot_be_changed(client, unit, front_desk):
    case = book(front_desk.user)
    services.case_cancel(case=case, reason="Unwell.", by=front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.get(f"/cases/{case.pk}/reschedule/", follow=True)
    assert flashes(response) == ["The case is cancelled and can no longer be rescheduled."]
    response = client.post(
        f"/cases/{case.pk}/driver/", {"version": version(case), "driver_name": "Ann"}, follow=True
    )
    assert flashes(response) == ["The case is cancelled and can no longer be changed."]


# Patient search


@pytest.mark.parametrize("query", [
    "Whitfield", "whit", "Margaret Whitfield", "Whitfield, Margaret", "MRN-1001", "mrn-1001",
    "1948-05-17", "05/17/1948", "5/17/1948",
    "+1 212 555 0100", "(212) 555-0100", "212.555.0100", "2125550100",
])
def test_search_finds_the_patient_by_each_key(client, unit, front_desk, query):
    case = book(front_desk.user)
    book(front_desk.user, mrn="MRN-2002", patient={
        "first_name": "Harold", "last_name": "Okafor", "date_of_birth": date(1951, 1, 9),
        "phone": "+16465550177",
    })
    staff(client, unit, roles.NURSE)
    response = client.get("/patients/", {"q": query})
    assert response.status_code == 200
    assert [patient.mrn for patient in response.context["patients"]] == ["MRN-1001"]
    assert f'href="/cases/{case.pk}/"' in response.content.decode()


@pytest.mark.parametrize(("query", "hint"), [
    ("", SEARCH_HINT),
    ("W", SEARCH_HINT),
    ("   ", SEARCH_HINT),
    ("1948-02-30", "“1948-02-30” is not a date. Give a date of birth as YYYY-MM-DD."),
])
def test_search_answers_a_short_or_bad_query_with_a_hint(client, unit, front_desk, query, hint):
    book(front_desk.user)
    staff(client, unit, roles.FRONT_DESK)
    response = client.get("/patients/", {"q": query})
    assert response.status_code == 200
    assert response.context["hint"] == hint
    assert response.context["patients"] == []


# The day list


def test_the_day_list_groups_cases_by_room_in_start_order(client, front_desk):
    site = build_unit(surgeons=2)
    for number, start in enumerate(["11:00", "08:30", "08:30", "13:00"]):
        book(front_desk.user, mrn=f"MRN-{number}", start=f"2026-03-03T{start}:00-05:00")
    cancelled = book(front_desk.user, mrn="MRN-9", start="2026-03-03T13:30:00-05:00")
    services.case_cancel(case=cancelled, reason="Unwell.", by=front_desk.user)
    room_of = dict(
        Stage.objects.filter(kind="procedure").values_list("case__patient__mrn", "resource__name")
    )
    staff(client, site, roles.NURSE)

    response = client.get("/day/", {"site": "main", "date": "2026-03-03"})

    assert response.status_code == 200
    listed = [
        (room.name, f"{case.procedure_start.astimezone(NEW_YORK):%H:%M}", case.patient.mrn)
        for room in response.context["rooms"]
        for case in room.cases
    ]
    expected = sorted(
        (room_of[mrn], start, mrn)
        for mrn, start in [("MRN-0", "11:00"), ("MRN-1", "08:30"), ("MRN-2", "08:30"),
                           ("MRN-3", "13:00")]
    )
    assert listed == expected
    assert {room for room, _, _ in listed} == {"Room 1", "Room 2"}
    assert [case.patient.mrn for case in response.context["released"]] == ["MRN-9"]
    html = response.content.decode()
    assert html.index("Room 1") < html.index("Room 2") < html.index("Cancelled or no-show")
    assert "Tom Whitfield, +12125550101" in html


def test_the_printed_day_list_says_each_patients_allergies_and_other_medicines(
    client, unit, front_desk
):
    allergic = book(front_desk.user, start="2026-03-03T08:30:00-05:00")
    Patient.objects.filter(pk=allergic.patient.pk).update(
        allergy_contrast=True, allergy_latex=True, allergy_other="Penicillin"
    )
    Case.objects.filter(pk=allergic.pk).update(other_medicines="Vitamin D")
    book(front_desk.user, mrn="MRN-2", start="2026-03-03T11:00:00-05:00")
    staff(client, unit, roles.FRONT_DESK)

    html = client.get("/day/", {"site": "main", "date": "2026-03-03"}).content.decode()

    assert html.count("Contrast allergy</strong>") == 1
    assert html.count("Latex allergy</strong>") == 1
    assert "Allergies: Penicillin" in html
    assert "Other medicines: Vitamin D" in html


def test_the_day_list_writes_times_on_the_site_clock_24_h_en_gb_12_h_en_us(client, unit,
                                                                          front_desk):
    book(front_desk.user, start="2026-03-03T13:00:00-05:00")
    staff(client, unit, roles.FRONT_DESK)
    query = {"site": "main", "date": "2026-03-03"}
    html = client.get("/day/", query).content.decode()
    assert '<td class="time">1:00 PM</td>' in html
    assert "Tuesday, March 3, 2026" in html

    unit.locale = "en-GB"
    unit.save(update_fields=["locale"])
    html = client.get("/day/", query).content.decode()

    assert '<td class="time">13:00</td>' in html
    assert "Day list: Riverside Spine Center, Tuesday 3 March 2026" in html
    assert " PM" not in html
    assert " AM" not in html


def test_the_day_list_costs_the_same_queries_for_one_case_or_ten(client, front_desk):
    site = build_unit(rooms=4, pre_op_bays=4, recovery_bays=6, surgeons=2)
    book(front_desk.user, mrn="MRN-0", medications=["warfarin"])
    staff(client, site, roles.FRONT_DESK)

    def queries():
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/day/", {"site": "main", "date": "2026-03-03"})
        assert response.status_code == 200
        return len(captured), response.context["count"]

    one, count = queries()
    assert count == 1
    for number in range(1, 10):
        book(front_desk.user, mrn=f"MRN-{number}", medications=["clopidogrel"])
    ten, count = queries()
    assert count == 10
    assert ten == one


def test_the_day_list_defaults_to_the_users_first_site_and_today(client, unit):
    staff(client, unit, roles.NURSE)
    response = client.get("/day/")
    assert response.context["site"] == unit
    assert str(response.context["day"]) == "2026-03-02"  # 07:00 in New York


def test_the_day_list_tells_a_bad_date(client, unit):
    staff(client, unit, roles.NURSE)
    response = client.get("/day/", {"date": "2026-13-45"})
    assert response.status_code == 200
    assert flashes(response) == ["“2026-13-45” is not a date (YYYY-MM-DD); showing today."]
    assert str(response.context["day"]) == "2026-03-02"
