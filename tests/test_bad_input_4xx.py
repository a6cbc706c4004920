"""Bad input answers a 4xx, never a 500, and under /api/ always in the error format: JSON nested
too deep, a body over the size limit, too many query parameters, an API token no one was given,
and what trying odd values on every staff page and admin list found. Dates are in
tests/test_bad_input_dates.py."""

import json
import logging

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Case
from tests.conftest import case_payload, client_for
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
TOKEN = "/api/v1/auth/token/"


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}, body
    assert body["code"] == code, body
    if field:
        assert field in body["errors"], body
    return body


# JSON nested too deep


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000,
                                  '{"a": ' * 100_000 + "1" + "}" * 100_000],
                         ids=["arrays", "objects"])
@pytest.mark.parametrize("path", [CASES, TOKEN, "/api/v1/waiting-list/"])
def test_json_nested_past_python_s_recursion_limit_is_invalid_json(manager, path, body):
    """Python's json raises RecursionError on these: it used to be a 500 page."""
    response = manager.generic("POST", path, body, content_type="application/json")

    assert_error(response, 400, "invalid_json")


def in_lists(value, depth: int):
    """`value` inside `depth` lists, one in the other: [[...["main"]...]]."""
    for _ in range(depth):
        value = [value]
    return value


def test_json_nested_deeper_than_32_levels_is_refused_before_any_field_is_read(manager):
    nested = json.dumps(case_payload(site=in_lists("main", 32)))

    assert_error(manager.generic("POST", CASES, nested, content_type="application/json"),
                 400, "invalid_json")
    assert not Case.objects.exists()


def test_json_nested_32_levels_deep_is_read_and_refused_field_by_field(manager):
    nested = json.dumps(case_payload(site=in_lists("main", 31)))

    assert_error(manager.generic("POST", CASES, nested, content_type="application/json"),
                 400, "invalid", "site")


def test_a_json_syntax_error_is_still_malformed_json(manager):
    response = manager.generic("POST", CASES, '{"site": "main",', content_type="application/json")

    assert_error(response, 400, "malformed_json")


# A body over the size limit


def over_the_limit(marker: str) -> str:
    return marker * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // len(marker) + 1)


@pytest.mark.parametrize(("path", "content_type"), [
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


# Found by trying odd values on every staff page


@pytest.mark.parametrize("refresh", ["²", "9" * 5000], ids=["superscript two", "5000 digits"])
@pytest.mark.parametrize("action", ["tell-late", "check-in"])
def test_a_board_button_posted_with_an_odd_refresh_goes_back_to_the_board(staff_page, unit,
                                                                          action, refresh):
    """"²".isdigit() is true but int("²") raises, and so does int() of over 4,300 digits: the way
    back to the board was a 500."""
    case = case_made(site=unit)

    response = staff_page.post(f"/board/cases/{case.pk}/{action}/",
                               {"site": "main", "date": case.day.isoformat(), "refresh": refresh})

    assert response.status_code == 302
    assert "refresh" not in response["Location"]


@pytest.fixture
def superuser_page(client, unit):
    user = UserFactory(roles=list(roles.ALL_ROLES), is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(("path", "query"), [
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
    assert superuser_page.get(path, dict.fromkeys(query, "")).status_code < 500


@pytest.mark.parametrize("kind", ["²", "9" * 5000, "x"],
                         ids=["superscript two", "5000 digits", "a letter"])
def test_the_change_log_filtered_by_a_kind_that_is_not_an_id_says_the_filter_is_wrong(
    superuser_page, unit, kind
):
    """auditlog's filter handed the value to the query as an id: int("²") raised (500)."""
    case_made(site=unit)  # the filter is shown, and applied, once there are changes to filter
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

