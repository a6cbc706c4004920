"""What the API fuzzer (tests/test_api_fuzz.py) found, each pinned by a test of its own: bad input
gets a 4xx in the error format, never a 500, and the schema describes what is really sent."""

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from scheduling import roles
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.fuzz.unit import fuzz_unit, wsgi_in_test_transaction  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
NOT_REACHED = "/api/v1/messages/not-reached/"


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert body["code"] == code, body
    if field:
        assert field in body["errors"], body
    return body


def schema() -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


# The token endpoint


def test_an_over_long_username_is_refused_before_the_login_is_tried():
    """On PostgreSQL the failed-login record (255 characters) used to fail with a 500."""
    user = UserFactory(roles=[roles.NURSE])
    response = APIClient().post(TOKEN, {"username": user.username + "x" * 1_000_000,
                                        "password": "wrong"}, format="json")

    assert_error(response, 400, "invalid", "username")
    assert not AccessAttempt.objects.exists()


def test_an_over_long_password_is_refused_before_it_is_hashed():
    user = UserFactory(roles=[roles.NURSE])
    response = APIClient().post(TOKEN, {"username": user.username, "password": "x" * 5000},
                                format="json")

    assert_error(response, 400, "invalid", "password")


def test_the_token_endpoint_documents_its_lockout_answer():
    responses = schema()["paths"][TOKEN]["post"]["responses"]

    assert responses["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    request = schema()["components"]["schemas"]["TokenInputRequest"]["properties"]
    assert request["username"]["maxLength"] == 150


# The not-reached list


def test_the_not_reached_list_refuses_a_nul_byte_in_its_site(unit, front_desk):
    """PostgreSQL refuses text with a NUL byte: the raw parameter used to reach it (500)."""
    assert_error(front_desk.get(NOT_REACHED, {"site": "ma\x00in"}), 400, "invalid", "site")


def test_the_not_reached_list_names_its_missing_site_and_documents_it(unit, front_desk):
    assert_error(front_desk.get(NOT_REACHED), 400, "invalid", "site")
    assert front_desk.get(NOT_REACHED, {"site": "main"}).status_code == 200
    parameters = schema()["paths"][NOT_REACHED]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("site", "query", True)]


# Addresses that name no operation


@pytest.mark.parametrize("path", ["/api/v1/cases/null,null/", "/api/v1/cases/-1/cancel/",
                                  "/api/v1/messages/abc/resend/", "/api/v1/nothing-here/"])
def test_an_api_address_that_names_no_operation_answers_404_in_the_error_format(unit, path):
    clerk = client_for(roles.FRONT_DESK)
    response = clerk.post(path) if path.endswith(("cancel/", "resend/")) else clerk.get(path)

    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, "not_found")


def test_a_page_address_that_names_nothing_is_still_a_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# Shapes the schema promised wrongly


def test_opening_hours_are_described_as_the_wall_clock_times_they_are(unit, front_desk):
    """OpenAPI's `time` format is RFC 3339's and needs an offset; "07:00:00" has none."""
    import re

    described = schema()["components"]["schemas"]["OpeningHours"]["properties"]["opens"]
    sent = front_desk.get("/api/v1/sites/").json()[0]["opening_hours"][0]["opens"]

    assert "format" not in described
    assert re.fullmatch(described["pattern"], sent)


# Query parameters given empty


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/api/v1/cases/", {"site": "main", "date": ""}, "date"),
    ("/api/v1/board/", {"site": "main", "date": ""}, "date"),
    ("/api/v1/availability/", {"site": "main", "procedure_type": "vertebroplasty",
                               "date": "2026-03-03", "levels": ""}, "levels"),
    ("/api/v1/availability/", {"site": "main", "procedure_type": "vertebroplasty",
                               "date": "2026-03-03", "surgeon": ""}, "surgeon"),
    ("/api/v1/waiting-list/", {"status": ""}, "status"),
])
def test_an_optional_query_parameter_given_empty_is_refused_not_read_as_absent(
    unit, path, query, field
):
    """The schema allows no empty value; read as absent, `?date=` silently meant today."""
    clerk = client_for(roles.FRONT_DESK, roles.ADMIN)
    assert_error(clerk.get(path, query), 400, "invalid", field)


# Times that look right but are not


@pytest.mark.parametrize("start", ["2026-03-03T10:61:00-05:00", "2026-02-30T10:00:00-05:00",
                                   "2026-03-03T25:00:00", "2026-03-03T10:00:00+25:00"])
def test_a_well_formed_but_impossible_start_is_refused(unit, front_desk, start):
    """Django's parser raises on these rather than saying "no": it used to be a 500."""
    from tests.conftest import case_payload

    booked = front_desk.post("/api/v1/cases/", case_payload(), format="json").json()

    assert_error(front_desk.post("/api/v1/cases/", case_payload(start=start), format="json"),
                 400, "invalid", "start")
    assert_error(front_desk.post(f"/api/v1/cases/{booked['id']}/reschedule/", {"start": start},
                                 format="json"), 400, "invalid", "start")


def test_every_operation_with_a_path_parameter_documents_its_404():
    """An address that does not fit the parameter (cases/abc/) answers 404 for every such one."""
    for path, operations in schema()["paths"].items():
        for method, operation in operations.items():
            if "{" in path:
                assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (method, path)


def test_the_board_is_described_by_its_schema_and_answers_as_described(
    fuzz_unit, wsgi_in_test_transaction  # noqa: F811 (the fixtures imported above)
):
    """The board's 200 used to document no body at all, so nothing checked its shape."""
    import schemathesis
    from werkzeug.test import Client

    from vertebro_site.wsgi import application

    client = Client(application)
    token = {"Authorization": f"Token {fuzz_unit.token}"}
    started = client.post(f"/api/v1/cases/{fuzz_unit.case_ids[0]}/stages/pre_op/start/",
                          headers=token)
    assert started.status_code == 200
    board = client.get("/api/v1/board/?site=main", headers=token)
    assert board.status_code == 200
    states = {stage["state"] for room in board.json["rooms"] for stage in room["stages"]}
    assert states == {"running", "projected"}

    ok = schema()["paths"]["/api/v1/board/"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Board"}
    described = schemathesis.openapi.from_wsgi("/api/schema/", application)
    described["/api/v1/board/"]["GET"].validate_response(board)


@pytest.mark.parametrize(("method", "path"), [("delete", "/api/v1/sites/"),
                                          ("put", "/api/v1/board/?site=main"),
                                          ("patch", "/api/v1/cases/1/")])
def test_a_method_an_operation_does_not_have_answers_405_not_403(unit, method, path):
    """The role check used to run first and refuse a method no one may use as if it were a
    question of role."""
    response = getattr(client_for(roles.NURSE), method)(path)

    assert_error(response, 405, "method_not_allowed")
    assert getattr(APIClient(), method)(path).status_code == 405


def test_the_api_takes_json_only_and_its_schema_says_so(unit, front_desk):
    """A form or multipart body used to be parsed too, and an unparseable one read as empty."""
    response = front_desk.post("/api/v1/cases/", {"site": "main", "levels": "1"},
                               format="multipart")

    assert_error(response, 415, "unsupported_media_type")
    document = schema()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if content and path != TOKEN:
                assert list(content) == ["application/json"], (method, path)
            if content:
                assert "415" in operation["responses"], (method, path)


def test_every_answer_with_a_body_documents_its_shape():
    """The board, backfill and plan-apply answers used to document no body, so nothing checked
    what they send (the fuzzer validates every answer against these shapes)."""
    for path, operations in schema()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status != "204":
                    assert "schema" in answer["content"]["application/json"], (method, path, status)


# Values of the wrong JSON type


@pytest.mark.parametrize(("overrides", "field"), [
    ({"levels": "1"}, "levels"),
    ({"levels": True}, "levels"),
    ({"site": 7}, "site"),
    ({"medications": [12]}, "medications"),
    ({"patient": {"first_name": 5}}, "patient.first_name"),
    ({"screening": {"traumatic": 0}}, "screening.traumatic"),
    (
        {"screening": {"conservative_treatment_weeks": "8"}},
        "screening.conservative_treatment_weeks",
    ),
    ({"date": 20260303}, "date"),
])
def test_a_value_of_the_wrong_json_type_is_refused_not_converted(unit, front_desk, overrides,
                                                                   field):
    from scheduling.models import Case
    from tests.conftest import case_payload

    payload = case_payload()
    for name, value in overrides.items():
        payload[name] = payload[name] | value if isinstance(value, dict) else value

    assert_error(front_desk.post("/api/v1/cases/", payload), 400, "invalid", field)
    assert not Case.objects.exists()


def test_a_cancel_reason_sent_as_a_number_is_refused_and_the_case_kept(unit, front_desk):
    from tests.conftest import case_payload

    case = front_desk.post("/api/v1/cases/", case_payload()).json()
    refused = front_desk.post(f"/api/v1/cases/{case['id']}/cancel/", {"reason": -5.2e16})

    assert_error(refused, 400, "invalid", "reason")
    assert front_desk.get(f"/api/v1/cases/{case['id']}/").json()["status"] == "booked"


def test_the_waiting_list_and_the_planner_take_json_types_too(unit, patient):
    manager = client_for(roles.FRONT_DESK, roles.ADMIN)
    entry = {"site": "main", "patient_id": patient.pk, "procedure_type": "vertebroplasty",
             "levels": "2", "earliest_date": "2026-03-03", "latest_date": "2026-03-20"}

    assert_error(manager.post("/api/v1/waiting-list/", entry), 400, "invalid", "levels")
    assert_error(manager.post("/api/v1/sites/main/days/2026-03-03/plan/", {"time_limit": "5"}),
                 400, "invalid", "time_limit")
