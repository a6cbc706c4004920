"""Answers that carry health data tell browsers and proxies to keep no copy: staff pages, API
answers, the patient's page and calendar file, and the CSV reports."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from notifications.links import patient_link, patient_token
from scheduling import roles
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db


def kept_by_nobody(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def logged_in(client, site, role):
    user = UserFactory(roles=[role])
    site.staff.add(user)
    client.force_login(user)
    return client


def test_a_staff_page_is_not_stored(client, unit, case):
    response = logged_in(client, unit, roles.FRONT_DESK).get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    assert "Whitfield" in response.content.decode()
    assert kept_by_nobody(response)


def test_an_api_answer_is_not_stored_nor_is_an_api_error(unit, case, front_desk):
    response = front_desk.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert kept_by_nobody(response)
    missing = front_desk.get(f"/api/v1/cases/{case.pk + 1000}/")
    assert missing.status_code == 404
    assert kept_by_nobody(missing)


def test_the_patients_page_and_calendar_file_are_not_stored(client, case):
    page = client.get(urlsplit(patient_link(case)).path)
    ics = client.get(reverse("patient-ics", args=[patient_token(case)]))
    assert (page.status_code, ics.status_code) == (200, 200)
    assert kept_by_nobody(page)
    assert kept_by_nobody(ics)


def test_a_csv_report_is_not_stored(client, unit, case):
    response = logged_in(client, unit, roles.ADMIN).get(
        "/reports/cancellations.csv", {"site": unit.code}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert kept_by_nobody(response)


def test_a_view_that_sets_its_own_policy_keeps_it(client, db):
    response = client.get("/healthz")  # never_cache, which says no-store and more
    assert "max-age=0" in response["Cache-Control"]
    assert "must-revalidate" in response["Cache-Control"]
    assert kept_by_nobody(response)



def test_a_fhir_answer_and_a_fhir_refusal_are_not_stored(unit, case, front_desk):
    response = front_desk.get(f"/fhir/R4/Appointment/{case.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert kept_by_nobody(response)
    found = front_desk.get("/fhir/R4/Patient", {"family": "Whitfield"})
    assert found.json()["total"] == 1
    assert kept_by_nobody(found)
    missing = front_desk.get(f"/fhir/R4/Patient/{case.patient_id + 1000}")
    assert missing.status_code == 404
    assert kept_by_nobody(missing)
