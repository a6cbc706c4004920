"""The booking screen's server side through the HTTP client: the day-load strip, the free-times
panel fetched alone, the patient finder, the usual procedure first, the site's locale, and a
booking posted after the session ended."""

import re
from datetime import date, time

import pytest

from scheduling import roles
from scheduling.day_load import days_load
from scheduling.models import Closure, SiteLocale
from scheduling.timing import clock_text, date_text, date_typed, spelled
from tests.conftest import TUESDAY
from tests.factories import (
    PatientFactory,
    ProcedureTypeFactory,
    UserFactory,
    build_unit,
    case_made,
)
from tests.scheduling.test_pages_booking import booking, shown_token

MONDAY = date(2026, 3, 2)
pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    client.force_login(user)
    return user


def test_the_strip_counts_each_open_days_room_minutes_against_its_open_minutes(unit):
    case = case_made(site=unit, day=TUESDAY)

    loads = days_load(site=unit, first_day=MONDAY, days=15)

    assert [load.day.weekday() for load in loads[:6]] == [0, 1, 2, 3, 4, 0]  # no weekend
    assert len(loads) == 15
    tuesday = loads[1]
    room = [stage for stage in case.stages.all() if stage.resource.kind == "procedure_room"]
    held = sum((s.held_until - s.planned_start).total_seconds() // 60 for s in room)
    assert (tuesday.cases, tuesday.booked_minutes) == (1, held)
    assert tuesday.open_minutes == 11 * 60 * 2  # 07:00-18:00, two rooms
    assert loads[0].cases == 0
    assert loads[0].percent == 0


def test_the_strip_leaves_out_a_day_the_whole_site_is_closed_but_not_a_room_closure(unit):
    # Shown as "0% full", a holiday invited a click that only answered "closed".
    Closure.objects.create(site=unit, start_date=TUESDAY, end_date=TUESDAY, reason="Holiday")
    room = unit.resources.filter(kind="procedure_room").first()
    wednesday = date(2026, 3, 4)
    Closure.objects.create(
        site=unit, start_date=wednesday, end_date=wednesday, reason="Servicing", resource=room
    )

    days = [load.day for load in days_load(site=unit, first_day=MONDAY, days=15)]

    assert TUESDAY not in days
    assert wednesday in days
    assert len(days) == 15


def test_the_panel_alone_opens_on_the_first_day_with_room_with_first_available(client, clerk):
    response = client.get(
        "/book/times/", {"site": "main", "procedure_type": "vertebroplasty", "levels": "1"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "Free times on Monday, March 2, 2026" in page  # today: it opens at 07:00
    assert "First available: <strong>8:30 AM</strong>" in page
    assert page.index("<h3 class=\"part-of-day\">Morning") < page.index("Afternoon")
    assert page.count('name="show_date"') == 15
    # Rooms and surgeon are said once for the day, not beside each of the times.
    assert page.count("Room 1") == 1
    assert "This field is required" not in page
    assert "error" not in page


def test_without_the_script_show_free_times_with_no_date_opens_the_first_day_with_room(
    client, clerk
):
    # The date field starts empty without the script: it used to answer "Enter the procedure date".
    response = client.post("/book/", {
        "token": shown_token(client), "action": "slots", "site": "main",
        "procedure_type": "vertebroplasty", "levels": "1", "surgeon": "", "date": "",
    })

    page = response.content.decode()
    assert response.status_code == 200
    assert "Free times on Monday, March 2, 2026" in page
    assert "First available: <strong>8:30 AM</strong>" in page
    assert 'role="alert"' not in page


def test_finding_by_mrn_books_for_the_patient_and_shows_no_other_error(client, clerk, unit):
    patient = case_made(site=unit, day=TUESDAY).patient
    token = shown_token(client)

    response = client.post("/book/", {"token": token, "find_mrn": patient.mrn, "action": "find"})

    page = response.content.decode()
    assert f"MRN {patient.mrn}" in page
    assert "Booking for" in page
    assert "error-summary" not in page
    assert "Or register a new patient" not in page


def test_finding_by_name_or_date_of_birth_lists_the_patients_to_choose(client, clerk, unit):
    found = case_made(site=unit, day=TUESDAY, patient=PatientFactory(
        first_name="Edna", last_name="Quirke", date_of_birth=date(1944, 3, 17))).patient
    token = shown_token(client)

    for typed in ["Quirke", "quirke, edna", "03/17/1944"]:
        response = client.post("/book/", {"token": token, "find_mrn": typed, "action": "find"})
        page = response.content.decode()
        assert f'name="use_patient" value="{found.pk}"' in page, typed
        assert "born 03/17/1944" in page
        assert "error-summary" not in page


def test_the_procedure_starts_on_the_one_the_site_books_most(client, clerk, unit):
    ProcedureTypeFactory(code="kyphoplasty", name="Kyphoplasty")  # first by name
    case_made(site=unit, day=TUESDAY)

    page = client.get("/book/").content.decode()

    assert re.search(r'<option value="vertebroplasty" selected>', page)


def test_a_date_of_birth_is_read_as_the_sites_locale_writes_it(client, clerk, unit):
    token = shown_token(client)
    typed = {"date_of_birth": "03/17/1944", "action": "slots", "start": None}
    page = client.post("/book/", booking(token, **typed)).content.decode()
    assert 'value="03/17/1944"' in page
    assert "Enter the date of birth" not in page

    page = client.post("/book/", booking(token, **{**typed, "date_of_birth": "17/03/1944"}))
    assert "Enter the date of birth as MM/DD/YYYY." in page.content.decode()

    unit.locale = SiteLocale.EN_GB
    unit.save(update_fields=["locale"])
    page = client.post("/book/", booking(token, **{**typed, "date_of_birth": "17/03/1944"}))
    page = page.content.decode()
    assert "Enter the date of birth" not in page
    assert "Free times on Tuesday 3 March 2026" in page
    assert "First available: <strong>08:30</strong>" in page  # a 24-hour clock
    assert "Has a tumour spread" in page


def test_en_us_pages_spell_and_write_times_the_american_way(client, clerk):
    page = client.get("/book/").content.decode()
    assert "Has a tumor spread into the spinal canal?" in page
    assert clock_text(time(7, 30), locale="en-US") == "7:30 AM"
    assert clock_text(time(17, 5), locale="en-US") == "5:05 PM"
    assert clock_text(time(17, 5), locale="es") == "17:05"
    assert date_text(TUESDAY, locale="en-US", style="short") == "03/03/2026"
    assert date_text(date(1944, 3, 17), locale="es", style="short") == "17/03/1944"
    assert date_typed("03/17/1944", locale="en-US") == date(1944, 3, 17)
    assert date_typed("17/03/1944", locale="es") == date(1944, 3, 17)
    assert date_typed("17/03/1944", locale="en-US") is None
    assert spelled("No jewellery", locale="en-GB") == "No jewellery"


def test_a_booking_posted_after_the_session_ended_goes_to_a_login_that_says_why(client, unit):
    response = client.post("/book/", {"first_name": "Margaret", "action": "book"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/book/%3Fresume%3D1"
    login = client.get(response["Location"]).content.decode()
    assert "Your session ended; log in again to finish the booking" in login
    assert "what you typed is kept" in login
    # Nothing typed is kept on the server: the browser's tab keeps it (static/js/booking.js).
    assert "Margaret" not in login


def test_the_panel_asked_after_the_session_ended_answers_401_for_the_script(client, unit):
    response = client.get("/book/times/", {"site": "main"}, HTTP_X_REQUESTED_WITH="booking.js")
    assert response.status_code == 401
    assert client.get("/book/times/").status_code == 302  # a person: to the login page


@pytest.mark.parametrize("query", [
    {"site": "nowhere", "procedure_type": "vertebroplasty", "levels": "1"},
    {"site": "main", "procedure_type": "?", "levels": "x", "date": "2026-02-30"},
    {"site": "main", "procedure_type": "vertebroplasty", "levels": "99", "surgeon": "\x00"},
    {"site": "main", "procedure_type": "vertebroplasty", "levels": "1", "date": "1999-01-01"},
    {"site": "main", "procedure_type": "vertebroplasty", "levels": "1", "start": "not-a-time"},
])
def test_the_panel_answers_bad_input_with_the_panel_and_keeps_no_copy(client, clerk, query):
    response = client.get("/book/times/", query)

    assert response.status_code == 200
    assert 'id="free-times"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_another_sites_free_times_are_not_shown(client, clerk):
    build_unit(code="north", name="North Spine Clinic")
    response = client.get(
        "/book/times/", {"site": "north", "procedure_type": "vertebroplasty", "levels": "1"}
    )
    assert "North" not in response.content.decode()
    assert "Free times on" not in response.content.decode()


def test_the_panel_says_why_it_has_no_times_for_a_closed_day(client, clerk):
    response = client.get("/book/times/", {
        "site": "main", "procedure_type": "vertebroplasty", "levels": "1", "date": "2026-03-07",
    })
    page = response.content.decode()
    assert "Procedure date: Riverside Spine Center is closed on Saturday, March 7, 2026." in page
    assert 'role="alert"' in page


def test_a_procedure_marked_usual_comes_first_whatever_is_booked_most(client, clerk, unit):
    case_made(site=unit, day=TUESDAY)  # a vertebroplasty
    ProcedureTypeFactory(code="kyphoplasty", name="Kyphoplasty", usual=True)

    page = client.get("/book/").content.decode()

    assert re.search(r'<option value="kyphoplasty" selected>', page)
