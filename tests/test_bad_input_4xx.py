"""Bad input answers a 4xx, never a 500, and under /api/ always in the error format: JSON nested
too deep and a body over the size limit."""

import json
import logging

import pytest
from django.conf import settings

from scheduling import roles
from scheduling.models import Case
from tests.conftest import case_payload, client_for
from tests.factories import UserFactory

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


# Too many query parameters


def test_too_many_query_parameters_answer_400_in_the_error_format(manager, staff_page):
    """Django refuses more than 1,000 (TooManyFieldsSent): it answered an API client with an
    HTML page."""
    query = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    assert_error(manager.get(f"{CASES}?site=main&{query}"), 400, "invalid")
    page = staff_page.get(f"/board/?{query}")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
