"""The interface as an independent FHIR client library sees it: fhirpy's sync client against a
live server reads an Appointment, searches Patients and pages through Appointments by the
Bundles' `next` links."""

import json

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound
from rest_framework.authtoken.models import Token

from fhir import conf
from scheduling import roles
from tests.factories import UserFactory
from tests.fhir.day import day_build


@pytest.fixture
def day(transactional_db):
    return day_build()


@pytest.fixture
def fhirpy_client(live_server, day):
    user = UserFactory(roles=[roles.NURSE], sites=[day.unit])
    key = Token.objects.create(user=user).key
    return SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Token {key}")


def test_fhirpy_reads_an_appointment_and_searches_patients(fhirpy_client, day, corpus):
    case = day.confirmed
    appointment = fhirpy_client.get("Appointment", str(case.pk))
    assert appointment["status"] == "booked"
    assert appointment["participant"][0]["actor"]["reference"] == f"Patient/{case.patient_id}"
    patient = fhirpy_client.reference("Patient", str(case.patient_id)).to_resource()
    assert patient["identifier"][0]["value"] == case.patient.mrn
    found = fhirpy_client.resources("Patient").search(
        family="Okafor", birthdate="1948-05-17"
    ).fetch()
    assert [p["id"] for p in found] == [str(case.patient_id)]
    by_mrn = fhirpy_client.resources("Patient").search(
        identifier=f"{conf.mrn_system()}|{case.patient.mrn}"
    ).first()
    assert by_mrn["id"] == str(case.patient_id)
    for name, resource in (("appointment", appointment), ("patient", patient)):
        (corpus / f"fhirpy-{name}.json").write_text(json.dumps(resource, default=dict))


def test_fhirpy_pages_through_a_search_and_never_sees_another_site(fhirpy_client, day):
    every = fhirpy_client.resources("Appointment").limit(2).fetch_all()
    assert len(every) == 6
    assert str(day.north_case.pk) not in {a["id"] for a in every}
    with pytest.raises(ResourceNotFound):
        fhirpy_client.get("Appointment", str(day.north_case.pk))
