"""Every endpoint needs a login and the right role."""

import pytest
from django.http import HttpRequest
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Case
from tests.conftest import CLEAR_SCREENING, case_payload, client_for

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/sites/",
    "/api/v1/procedure-types/",
    "/api/v1/availability/?site=main&procedure_type=vertebroplasty&date=2026-03-03",
    "/api/v1/cases/?site=main&date=2026-03-03",
]


@pytest.mark.parametrize("url", READS + ["/api/v1/cases/1/"])
def test_without_login_every_endpoint_answers_401(unit, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("url", READS)
def test_a_user_without_a_role_is_refused(unit, url):
    response = client_for().get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("role", roles.ALL_ROLES)
@pytest.mark.parametrize("url", READS)
def test_every_staff_role_may_read(unit, url, role):
    assert client_for(role).get(url).status_code == 200


@pytest.mark.parametrize("role", [roles.NURSE, roles.ADMIN])
def test_nurses_and_admins_cannot_book(unit, role):
    response = client_for(role).post("/api/v1/cases/", case_payload(), format="json")
    assert response.status_code == 403
    assert Case.objects.count() == 0


@pytest.mark.parametrize("action", ["cancel", "reschedule", "no-show"])
def test_a_nurse_cannot_change_a_case(unit, front_desk, nurse, action):
    case_id = front_desk.post("/api/v1/cases/", case_payload(), format="json").json()["id"]
    response = nurse.post(f"/api/v1/cases/{case_id}/{action}/", {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert Case.objects.get().status == "booked"


def test_a_clinician_may_override_screening_and_it_is_recorded(unit, clinician):
    payload = case_payload(
        screening=CLEAR_SCREENING | {"conservative_treatment_weeks": 1},
        override_reason="Severe pain, admitted for analgesia; discussed with the patient.",
    )
    response = clinician.post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 201, response.json()
    override = response.json()["screening_override"]
    assert override["reason"].startswith("Severe pain")
    assert override["by"] == clinician.user.username
    case = Case.objects.get()
    assert case.screening_overridden_by == clinician.user
    assert case.screening_overridden_at is not None


def test_front_desk_cannot_override_screening(unit, front_desk):
    payload = case_payload(
        screening=CLEAR_SCREENING | {"cement_allergy": True}, override_reason="Patient insists"
    )
    response = front_desk.post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "override_not_allowed"
    assert Case.objects.count() == 0


def test_a_token_is_issued_for_a_good_password_only(unit):
    user = client_for(roles.FRONT_DESK).user
    client = APIClient()
    bad = client.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_credentials"
    good = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "correct-horse-battery"}
    )
    assert good.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {good.json()['token']}")
    assert client.get("/api/v1/sites/").status_code == 200


def test_session_login_works_for_the_browsable_api(unit):
    user = client_for(roles.NURSE).user
    client = APIClient()
    # The login lockout (django-axes) checks every authentication against its request.
    assert client.login(request=HttpRequest(), username=user.username,
                        password="correct-horse-battery")
    assert client.get("/api/v1/sites/").status_code == 200


def test_the_schema_and_docs_are_served(db):
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/cases/{id}/reschedule/" in schema.content
    assert client.get("/api/docs/").status_code == 200
