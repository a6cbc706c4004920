"""What the interface refuses, always as an OperationOutcome with the project's stable code:
no token (401), a role that reads no cases (403), another site's patient, appointment, surgeon
or room (404, as for one that does not exist), and what it cannot read (400)."""

import pytest
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Resource
from tests.factories import UserFactory
from tests.fhir.conftest import FHIR_JSON, outcome_code
from tests.fhir.day import day_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return day_build()


@pytest.fixture
def desk(day, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[day.unit])


def test_no_token_or_a_wrong_one_is_401(day, corpus):
    anonymous = APIClient()
    response = anonymous.get(f"/fhir/R4/Appointment/{day.confirmed.pk}")
    assert response.status_code == 401
    assert outcome_code(response) == "not_authenticated"
    assert response.json()["issue"][0]["code"] == "login"
    anonymous.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert anonymous.get("/fhir/R4/Patient").status_code == 401
    assert "Okafor" not in response.content.decode()


def test_a_user_with_no_staff_role_is_403(day, corpus):
    client = APIClient()
    user = UserFactory(roles=[], sites=[day.unit])
    client.force_authenticate(user)
    response = client.get(f"/fhir/R4/Patient/{day.confirmed.patient_id}")
    assert response.status_code == 403
    assert outcome_code(response) == "permission_denied"


def test_another_sites_records_are_not_found_like_ones_that_do_not_exist(desk, day):
    north_room = Resource.objects.filter(site=day.north).first()
    north_only_surgeon = day.north_case.surgeon
    for path in (
        f"Patient/{day.north_patient.pk}",
        f"Appointment/{day.north_case.pk}",
        f"Location/site-{day.north.pk}",
        f"Location/resource-{north_room.pk}",
        f"Practitioner/{north_only_surgeon.pk}",
    ):
        response = desk.fhir(path)
        missing = desk.fhir(path.rsplit("/", 1)[0] + "/987654321")
        assert (response.status_code, outcome_code(response)) == (404, "not_found"), path
        assert response.content == missing.content.replace(b"987654321", b"") or (
            response.json() == missing.json()
        ), path
        assert "Zebulon" not in response.content.decode()


def test_a_search_never_includes_another_sites_records(desk, day):
    north = day.north_patient
    for path, query in [
        ("Patient", {"identifier": north.mrn}),
        ("Patient", {"family": "Zebulon", "birthdate": "1948-05-17"}),
        ("Patient", {"_id": str(north.pk)}),
        ("Appointment", {"patient": f"Patient/{north.pk}"}),
        ("Appointment", {"location": f"Location/site-{day.north.pk}"}),
        ("Appointment", {"date": "2026-03-03"}),
        ("Location", {}),
        ("Practitioner", {}),
    ]:
        body = desk.fhir(path, **query).json()
        found = str(body.get("entry", []))  # the self link repeats the query, as sent
        assert "Zebulon" not in found, (path, query)
        assert north.mrn not in found, (path, query)
        assert str(day.north_case.pk) not in [
            e["resource"]["id"] for e in body.get("entry", []) if path == "Appointment"
        ]
    assert desk.fhir("Patient", identifier=north.mrn).json()["total"] == 0


@pytest.mark.parametrize(("path", "query", "code"), [
    ("Observation", {}, "fhir_unknown_resource_type"),
    ("Observation/1", {}, "fhir_unknown_resource_type"),
    ("Appointment", {"colour": "red"}, "fhir_unknown_parameter"),
    ("Patient", {"family:exact": "Okafor"}, "fhir_unknown_parameter"),
    ("Appointment", {"date": "tomorrow"}, "fhir_invalid_parameter"),
    ("Appointment", {"date": "2026-02-30"}, "fhir_invalid_parameter"),
    ("Appointment", {"date": "xx2026-03-03"}, "fhir_invalid_parameter"),
    ("Appointment", {"status": "nonsense"}, "fhir_invalid_parameter"),
    ("Appointment", {"patient": "Practitioner/1"}, "fhir_invalid_parameter"),
    ("Appointment", {"patient": "Patient/../1"}, "fhir_invalid_parameter"),
    ("Appointment", {"_count": "-1"}, "fhir_invalid_parameter"),
    ("Appointment", {"_offset": "many"}, "fhir_invalid_parameter"),
    ("Patient", {"birthdate": "1948-05-17T10:00"}, "fhir_invalid_parameter"),
])
def test_what_cannot_be_read_is_400_with_a_stable_code(desk, path, query, code):
    response = desk.fhir(path, **query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith(FHIR_JSON)
    assert outcome_code(response) == code


def test_an_id_that_is_no_number_or_a_write_is_refused_without_a_500(desk, day):
    assert desk.fhir("Patient/abc").status_code == 404
    assert desk.fhir("Appointment/99999999999999999999999").status_code == 404
    assert desk.fhir("Location/site-x").status_code == 404
    for response in (
        desk.post("/fhir/R4/Patient", {}, format="json"),
        desk.put(f"/fhir/R4/Appointment/{day.confirmed.pk}", {}, format="json"),
        desk.options("/fhir/R4/Appointment"),
    ):
        assert (response.status_code, outcome_code(response)) == (405, "method_not_allowed")
