"""Dates in the API and on the staff pages: a day far outside the unit's horizon, a date of birth
no living patient has, and a control character or another script's digits inside a date or time
are a 4xx (under /api/ in the error format) or a message on the page, never a 500.

The clock is frozen at Monday 2 March 2026 (tests/conftest.py): cases are booked up to 1 March
2028, and pages and reports show 1 January 1900 to 1 March 2028."""

import re

import pytest

from scheduling.models import Case, Patient, WaitingListEntry
from tests.conftest import TUESDAY, case_payload
from tests.factories import case_made
from tests.scheduling.test_pages_booking import booking, shown_token
from tests.test_bad_input_4xx import CASES, assert_error

pytestmark = pytest.mark.django_db

LAST_BOOKABLE = "2028-03-01"  # today + BOOKING_HORIZON_DAYS (730)
FAR = ["2028-03-02", "9999-12-31"]
FAR_BACK = ["1899-12-31", "0001-01-01"]


def flash(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# Dates far outside the unit's horizon


@pytest.mark.parametrize("day", FAR)
def test_a_booking_past_the_horizon_is_date_out_of_range(manager, day):
    """Year 9999 overflowed in the booking's date arithmetic (500); 3 years ahead was booked."""
    assert_error(manager.post(CASES, case_payload(date=day), format="json"),
                 400, "date_out_of_range", "date")
    assert not Case.objects.exists()


def test_the_last_day_of_the_horizon_can_be_booked(manager):
    response = manager.post(CASES, case_payload(date=LAST_BOOKABLE), format="json")

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("change", [{"date": "9999-12-31"}, {"date": "2028-03-02"},
                                    {"start": "9999-12-31T10:00:00-05:00"}])
def test_a_reschedule_past_the_horizon_is_date_out_of_range(manager, unit, change):
    case = case_made(site=unit, by=manager.user)

    assert_error(manager.post(f"{CASES}{case.pk}/reschedule/", change, format="json"),
                 400, "date_out_of_range")
    case.refresh_from_db()
    assert case.day == TUESDAY


@pytest.mark.parametrize("day", FAR)
def test_availability_past_the_horizon_is_date_out_of_range(manager, day):
    query = {"site": "main", "procedure_type": "vertebroplasty", "date": day}

    assert_error(manager.get("/api/v1/availability/", query), 400, "date_out_of_range", "date")


def test_availability_on_the_last_day_of_the_horizon_is_answered(manager):
    query = {"site": "main", "procedure_type": "vertebroplasty", "date": LAST_BOOKABLE}

    assert manager.get("/api/v1/availability/", query).status_code == 200


@pytest.mark.parametrize("day", FAR + FAR_BACK)
@pytest.mark.parametrize("path", ["/api/v1/board/", CASES])
def test_the_board_and_the_day_s_cases_outside_the_days_shown_are_date_out_of_range(
    manager, path, day
):
    assert_error(manager.get(path, {"site": "main", "date": day}), 400, "date_out_of_range",
                 "date")


@pytest.mark.parametrize("day", ["1900-01-01", "2020-06-01", LAST_BOOKABLE])
@pytest.mark.parametrize("path", ["/api/v1/board/", CASES])
def test_the_board_and_the_day_s_cases_inside_the_days_shown_are_answered(manager, path, day):
    assert manager.get(path, {"site": "main", "date": day}).status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "2028-03-02"])
@pytest.mark.parametrize("step", ["plan/", "plan/apply/"])
def test_planning_a_day_past_the_horizon_is_date_out_of_range(manager, step, day):
    body = {"token": "x"} if step == "plan/apply/" else {}
    response = manager.post(f"/api/v1/sites/main/days/{day}/{step}", body, format="json")

    assert_error(response, 400, "date_out_of_range")


@pytest.mark.parametrize("day", FAR + FAR_BACK + ["1800-01-01"])
@pytest.mark.parametrize("path", ["/board/", "/day/", "/plan/"])
def test_a_page_given_a_day_outside_the_days_shown_says_so_and_shows_its_usual_day(
    staff_page, path, day
):
    """The board, day list and plan page overflowed on year 9999 and year 1 (500)."""
    response = staff_page.get(path, {"site": "main", "date": day})

    assert response.status_code == 200
    assert "outside the days" in flash(response)
    assert "1 January 1900 to 1 March 2028" in flash(response)
    assert response.context["day"] in (TUESDAY.replace(day=2), TUESDAY)


@pytest.mark.parametrize("day", FAR + FAR_BACK)
def test_telling_the_late_patients_of_a_day_outside_the_days_shown_tells_nobody(staff_page, day,
                                                                               outbox):
    """The board's "tell all" button read the day posted with it: year 9999 overflowed (500)."""
    response = staff_page.post("/board/tell-late/", {"site": "main", "date": day}, follow=True)

    assert response.status_code == 200
    assert "Nobody told" in flash(response)
    assert not outbox


@pytest.mark.parametrize("day", FAR)
def test_the_booking_page_refuses_a_day_past_the_horizon_next_to_the_date(staff_page, day):
    response = staff_page.post("/book/", booking(shown_token(staff_page), date=day))

    assert response.status_code == 200
    errors = response.context["form"].errors["date"]
    assert any("too far ahead" in error for error in errors), errors
    assert not Case.objects.exists()


@pytest.mark.parametrize("day", FAR)
def test_the_reschedule_page_refuses_a_day_past_the_horizon(staff_page, unit, day):
    case = case_made(site=unit)

    response = staff_page.get(f"/cases/{case.pk}/reschedule/", {"date": day})

    assert response.status_code == 200
    assert "too far ahead" in response.content.decode()


@pytest.mark.parametrize("day", FAR + FAR_BACK)
def test_the_board_s_refresh_given_a_day_outside_the_days_shown_answers_the_usual_day(
    staff_page, day
):
    response = staff_page.get("/board/partial/", {"site": "main", "date": day})

    assert response.status_code == 200
    assert response.context["day"] == TUESDAY.replace(day=2)


@pytest.mark.parametrize("day", FAR + FAR_BACK)
@pytest.mark.parametrize("which", ["start", "end"])
def test_a_report_outside_the_days_shown_says_so_next_to_the_date(staff_page, which, day):
    response = staff_page.get("/reports/", {"site": "main", which: day})

    assert response.status_code == 200
    errors = response.context["form"].errors[which]
    assert any("1 January 1900 to 1 March 2028" in error for error in errors), errors
    csv = staff_page.get("/reports/utilisation.csv", {"site": "main", which: day})
    assert csv.status_code == 400
    assert "1 January 1900 to 1 March 2028" in csv.content.decode()


def test_a_report_from_the_first_day_shown_is_answered(staff_page):
    response = staff_page.get("/reports/", {"site": "main", "start": "1900-01-01",
                                            "end": "1900-12-31"})

    assert response.status_code == 200
    assert not response.context["form"].errors


# A date of birth no living patient has


@pytest.mark.parametrize("born", ["1899-12-31", "1906-03-01", "0001-01-01"])
def test_a_date_of_birth_before_1900_or_more_than_120_years_ago_is_refused(manager, born):
    payload = case_payload()
    payload["patient"]["date_of_birth"] = born

    body = assert_error(manager.post(CASES, payload, format="json"), 400,
                        "date_of_birth_too_early", "patient.date_of_birth")
    assert "120 years" in body["detail"]
    assert not Patient.objects.exists()


def test_a_date_of_birth_120_years_ago_today_is_taken(manager):
    payload = case_payload()
    payload["patient"]["date_of_birth"] = "1906-03-02"

    assert manager.post(CASES, payload, format="json").status_code == 201


def test_the_waiting_list_refuses_a_date_of_birth_before_1900(manager):
    patient = case_payload()["patient"] | {"date_of_birth": "1850-01-01"}
    entry = {"site": "main", "patient": patient, "procedure_type": "vertebroplasty",
             "levels": 1, "earliest_date": "2026-03-03", "latest_date": "2026-03-20"}

    assert_error(manager.post("/api/v1/waiting-list/", entry, format="json"), 400,
                 "date_of_birth_too_early", "patient.date_of_birth")
    assert not WaitingListEntry.objects.exists()


def test_the_booking_page_refuses_a_date_of_birth_before_1900_next_to_the_field(staff_page):
    response = staff_page.post("/book/", booking(shown_token(staff_page),
                                                 date_of_birth="1850-01-01"))

    assert response.status_code == 200
    errors = response.context["form"].errors["date_of_birth"]
    assert any("120 years" in error for error in errors), errors
    assert not Case.objects.exists()


# A control character inside a date or time


ODD_DATES = ["2026-03-03\n", "2026-03-03\x00", "2026-03-03\t", "\x0b2026-03-03", "2026-03-03\x85",
             "٢٠٢٦-٠٣-٠٣", "2026-3-3"]
ODD_DATE_IDS = ["line feed", "NUL", "tab", "vertical tab", "next line", "Arabic-Indic digits",
                "no leading zeros"]


@pytest.mark.parametrize("day", ODD_DATES, ids=ODD_DATE_IDS)
@pytest.mark.parametrize("path", ["/api/v1/availability/", "/api/v1/board/", CASES])
def test_a_query_date_with_a_control_character_or_odd_digits_is_invalid(manager, path, day):
    """Django's date pattern ends in `$`, which matches before a final line feed, and its `\\d`
    takes any script's digits: "2026-03-03\\n" read as 3 March."""
    query = {"site": "main", "procedure_type": "vertebroplasty", "date": day}

    assert_error(manager.get(path, query), 400, "invalid", "date")


@pytest.mark.parametrize("day", ODD_DATES, ids=ODD_DATE_IDS)
def test_a_body_date_with_a_control_character_or_odd_digits_is_invalid(manager, day):
    born = case_payload()
    born["patient"]["date_of_birth"] = day.replace("2026", "1948")

    assert_error(manager.post(CASES, case_payload(date=day), format="json"), 400, "invalid",
                 "date")
    assert_error(manager.post(CASES, born, format="json"), 400, "invalid",
                 "patient.date_of_birth")
    assert not Case.objects.exists()


@pytest.mark.parametrize("start", ["2026-03-03T10:00:00\x0b-05:00", "2026-03-03T10:00:00-05:00\n",
                                   "2026-03-03T10:00\x00-05:00", "2026-03-03T10:00:00\t-05:00",
                                   "٢٠٢٦-٠٣-٠٣T10:00:00-05:00"],
                         ids=["vertical tab", "line feed", "NUL", "tab", "Arabic-Indic digits"])
def test_a_start_with_a_control_character_or_odd_digits_is_invalid(manager, unit, start):
    """Django's pattern allows any whitespace before the offset and a line feed at the end."""
    case = case_made(site=unit, by=manager.user)

    assert_error(manager.post(CASES, case_payload(start=start), format="json"), 400, "invalid",
                 "start")
    assert_error(manager.post(f"{CASES}{case.pk}/reschedule/", {"start": start}, format="json"),
                 400, "invalid", "start")
    assert Case.objects.count() == 1


@pytest.mark.parametrize("day", ODD_DATES[:5], ids=ODD_DATE_IDS[:5])
@pytest.mark.parametrize("path", ["/board/", "/day/", "/plan/"])
def test_a_page_given_a_date_with_a_control_character_says_it_is_not_a_date(staff_page, path,
                                                                           day):
    response = staff_page.get(path, {"site": "main", "date": day})

    assert response.status_code == 200
    assert "is not a date" in flash(response)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", flash(response))
