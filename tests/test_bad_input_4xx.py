"""Bad input answers a 4xx, never a 500, and under /api/ always in the error format: JSON nested
too deep, a body over the size limit, dates far outside the unit's horizon, a date of birth no
living patient has, and a control character inside a date or time.

The clock is frozen at Monday 2 March 2026 (tests/conftest.py): cases are booked up to 1 March
2028, and pages and reports show 1 January 1900 to 1 March 2028."""

import json
import logging
import re

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Case, Patient, WaitingListEntry
from tests.conftest import TUESDAY, case_booked, case_payload, client_for
from tests.factories import UserFactory
from tests.scheduling.test_pages_booking import booking, shown_token

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
TOKEN = "/api/v1/auth/token/"
LAST_BOOKABLE = "2028-03-01"  # today + BOOKING_HORIZON_DAYS (730)
FAR = ["2028-03-02", "9999-12-31"]
FAR_BACK = ["1899-12-31", "0001-01-01"]


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}, body
    assert body["code"] == code, body
    if field:
        assert field in body["errors"], body
    return body


@pytest.fixture
def manager(unit):
    """An API client who may book, read the board and plan the day."""
    return client_for(roles.FRONT_DESK, roles.NURSE, roles.ADMIN)


@pytest.fixture
def staff_page(client, unit):
    user = UserFactory(roles=list(roles.ALL_ROLES))
    unit.staff.add(user)
    client.force_login(user)
    return client


def flash(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# JSON nested too deep


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000,
                                  '{"a": ' * 100_000 + "1" + "}" * 100_000],
                         ids=["arrays", "objects"])
@pytest.mark.parametrize("path", [CASES, TOKEN, "/api/v1/waiting-list/"])
def test_json_nested_past_python_s_recursion_limit_is_invalid_json(manager, path, body):
    """Python's json raises RecursionError on these: it used to be a 500 page."""
    response = manager.generic("POST", path, body, content_type="application/json")

    assert_error(response, 400, "invalid_json")


def test_json_nested_deeper_than_32_levels_is_refused_before_any_field_is_read(manager):
    nested = json.dumps(case_payload(site=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["main"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]))

    assert_error(manager.generic("POST", CASES, nested, content_type="application/json"),
                 400, "invalid_json")
    assert not Case.objects.exists()


def test_json_nested_32_levels_deep_is_read_and_refused_field_by_field(manager):
    nested = json.dumps(case_payload(site=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["main"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]))

    assert_error(manager.generic("POST", CASES, nested, content_type="application/json"),
                 400, "invalid", "site")


def test_a_json_syntax_error_is_still_malformed_json(manager):
    response = manager.generic("POST", CASES, '{"site": "main",', content_type="application/json")

    assert_error(response, 400, "malformed_json")


# A body over the size limit


def over_the_limit(marker: str) -> str:
    return marker * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // len(marker) + 1)


@pytest.mark.parametrize("path, content_type", [
    (CASES, "application/json"),
    (TOKEN, "application/x-www-form-urlencoded"),
    ("/api/v1/cases/1/cancel/", "application/json"),
])
def test_an_api_body_over_the_limit_answers_413_body_too_large_logged_as_a_warning(
    manager, caplog, path, content_type
):
    """Django refuses the body when it is read (RequestDataTooBig): a 400 HTML page until now,
    logged as an error with its traceback."""
    with caplog.at_level(logging.INFO):
        response = manager.generic("POST", path, over_the_limit("Whitfield "),
                                   content_type=content_type)

    assert_error(response, 413, "body_too_large")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("too large" in message for message in warnings), warnings
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Whitfield" not in caplog.text


def test_a_page_body_over_the_limit_answers_a_plain_413_page(staff_page, caplog):
    with caplog.at_level(logging.INFO):
        response = staff_page.generic("POST", "/book/", over_the_limit("last_name=Whitfield&"),
                                      content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()
    assert "Whitfield" not in caplog.text


def test_a_body_within_the_limit_is_read_as_before(manager):
    assert manager.post(CASES, case_payload(), format="json").status_code == 201


def test_every_operation_with_a_body_documents_its_413():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert operation["responses"]["413"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (method, path)


# Too many query parameters


def test_too_many_query_parameters_answer_400_in_the_error_format(manager, staff_page):
    """Django refuses more than 1,000 (TooManyFieldsSent): it answered an API client with an
    HTML page."""
    query = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    assert_error(manager.get(f"{CASES}?site=main&{query}"), 400, "invalid")
    page = staff_page.get(f"/board/?{query}")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


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
def test_a_reschedule_past_the_horizon_is_date_out_of_range(manager, change):
    case = case_booked(manager)

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
def test_the_reschedule_page_refuses_a_day_past_the_horizon(staff_page, day):
    case = case_booked()

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
def test_a_start_with_a_control_character_or_odd_digits_is_invalid(manager, start):
    """Django's pattern allows any whitespace before the offset and a line feed at the end."""
    case = case_booked(manager)

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


# Found by trying odd values on every staff page


@pytest.mark.parametrize("refresh", ["²", "9" * 5000], ids=["superscript two", "5000 digits"])
@pytest.mark.parametrize("action", ["tell-late", "check-in"])
def test_a_board_button_posted_with_an_odd_refresh_goes_back_to_the_board(staff_page, action,
                                                                          refresh):
    """"²".isdigit() is true but int("²") raises, and so does int() of over 4,300 digits: the way
    back to the board was a 500."""
    case = case_booked()

    response = staff_page.post(f"/board/cases/{case.pk}/{action}/",
                               {"site": "main", "date": case.day.isoformat(), "refresh": refresh})

    assert response.status_code == 302
    assert "refresh" not in response["Location"]


@pytest.fixture
def superuser_page(client, unit):
    user = UserFactory(roles=list(roles.ALL_ROLES), is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("path, query", [
    ("/admin/scheduling/case/", {"status__exact": "\x00"}),
    ("/admin/scheduling/resource/", {"kind__exact": "x\x00"}),
    ("/admin/scheduling/waitinglistentry/", {"status": "\x00"}),
    ("/admin/notifications/reminder/", {"channel__exact": "\x00"}),
    ("/admin/notifications/inboundmessage/", {"kind__exact": "\x00"}),
    ("/admin/audit/accesslog/", {"url_name": "\x00"}),
    ("/admin/auditlog/logentry/", {"cid": "\x00"}),
    ("/admin/axes/accessattempt/", {"path_info": "\x00"}),
    ("/admin/autocomplete/", {"term": "\x00", "app_label": "scheduling", "model_name": "case",
                              "field_name": "patient"}),
])
def test_an_admin_address_holding_a_nul_byte_answers_400(superuser_page, path, query):
    """The admin's list filters reached PostgreSQL with the byte, which refuses it (500)."""
    response = superuser_page.get(path, query)

    assert response.status_code == 400
    assert superuser_page.get(path, {name: "" for name in query}).status_code < 500


@pytest.mark.parametrize("kind", ["²", "9" * 5000, "x"],
                         ids=["superscript two", "5000 digits", "a letter"])
def test_the_change_log_filtered_by_a_kind_that_is_not_an_id_says_the_filter_is_wrong(
    superuser_page, kind
):
    """auditlog's filter handed the value to the query as an id: int("²") raised (500)."""
    case_booked()  # the filter is shown, and applied, once there are changes to filter
    response = superuser_page.get("/admin/auditlog/logentry/", {"resource_type": kind})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize("key", ["\x00", "abc\x00def", "\x7f", "é" * 40, "x" * 41],
                         ids=["NUL", "NUL inside", "DEL", "not ASCII", "41 characters"])
def test_an_api_token_no_one_could_have_been_given_is_not_authenticated(unit, key):
    """A NUL byte in the key reached PostgreSQL's token lookup, which refuses it (500)."""
    client = client_for(roles.NURSE)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert_error(client.get("/api/v1/sites/"), 401, "not_authenticated")

