"""The interface as an independent FHIR client library sees it: fhirpy's sync client against a
live server reads an Appointment, searches Patients, pages through Appointments by the Bundles'
`next` links, and books, moves and cancels a case through the IHE scheduling operations."""

import json
from datetime import date

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, ResourceNotFound
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fhir import conf
from notifications.models import Reminder
from scheduling import roles
from scheduling.models import Case
from tests.factories import CLEAR_SCREENING, UserFactory, case_made
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


def test_fhirpy_finds_holds_books_moves_and_cancels_a_case(live_server, day, corpus):
    """A hospital's record system books through the IHE operations with fhirpy: the case is on
    the unit's board and its messages are planned as for a booking at the front desk; it is then
    moved with If-Match (a stale version is refused) and cancelled."""
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[day.unit])
    key = Token.objects.create(user=clerk).key
    ehr = SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Token {key}")
    patient = day.tuesday[0].patient

    found = ehr.execute("Appointment/$find", method="get", params={
        "start": "2026-03-04", "service-type": f"{conf.procedure_system()}|vertebroplasty",
        "patient": f"Patient/{patient.pk}", "_count": 5})
    assert found["resourceType"] == "Bundle"
    offered = [entry["resource"] for entry in found["entry"]]
    assert len(offered) == 5
    assert all(a["status"] == "proposed" for a in offered)
    held = ehr.execute("Appointment/$hold", data={"resourceType": "Parameters", "parameter": [
        {"name": "appointment-reference",
         "valueReference": {"reference": f"Appointment/{offered[0]['id']}"}}]})
    assert held["status"] == "pending"
    screening = {"url": conf.screening_extension_url(), "extension": [
        {"url": name.replace("_", "-"),
         ("valueInteger" if name == "conservative_treatment_weeks" else "valueBoolean"): value}
        for name, value in CLEAR_SCREENING.items()]}
    booked = ehr.execute("Appointment/$book", data={"resourceType": "Parameters", "parameter": [
        {"name": "appointment-resource", "resource": {
            "resourceType": "Appointment", "id": held["id"], "status": "pending",
            "extension": [screening],
            "participant": [{"actor": {"reference": f"Patient/{patient.pk}"},
                             "status": "accepted"}]}}]})
    assert booked["status"] == "booked"
    case = Case.objects.get(pk=int(booked["id"]))
    assert (case.patient_id, case.booked_by_id) == (patient.pk, clerk.pk)

    read = ehr.get("Appointment", booked["id"])
    assert (read["start"], read["meta"]["versionId"]) == (held["start"], case.version)
    board = APIClient()
    board.force_authenticate(UserFactory(roles=[roles.NURSE], sites=[day.unit]))
    on_board = board.get("/api/v1/board/", {"site": "main", "date": "2026-03-04"}).json()
    assert case.pk in {line["id"] for line in on_board["cases"]}
    planned = set(Reminder.objects.filter(case=case).values_list("kind", flat=True))
    desk_case = case_made(site=day.unit, day=date(2026, 3, 4), patient=day.tuesday[1].patient,
                          by=clerk, driver_name="", driver_phone="")
    # (the same day's next case, booked at the front desk with no driver named yet, as $book)
    assert planned == set(Reminder.objects.filter(case=desk_case).values_list("kind", flat=True))

    later = ehr.execute("Appointment/$find", method="get", params={
        "start": "2026-03-05", "service-type": "vertebroplasty", "_count": 1})["entry"][0]
    move = {"resourceType": "Parameters", "parameter": [
        {"name": "appointment-reference",
         "valueReference": {"reference": f"Appointment/{later['resource']['id']}"}},
        {"name": "appointment-resource", "resource": {**read, "status": "booked"}}]}
    mover = SyncFHIRClient(f"{live_server.url}/fhir/R4", authorization=f"Token {key}",
                           extra_headers={"If-Match": f'W/"{read["meta"]["versionId"]}"'})
    moved = mover.execute("Appointment/$book", data=move)
    assert moved["start"] == later["resource"]["start"]
    with pytest.raises(MultipleResourcesFound):  # fhirpy's name for 412: the version is stale
        mover.execute("Appointment/$book", data=move)
    cancel = {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource",
              "resource": {**moved, "status": "cancelled",
                           "cancelationReason": {"text": "Treated elsewhere"}}}]}
    assert ehr.execute("Appointment/$book", data=cancel)["status"] == "cancelled"
    assert ehr.get("Appointment", booked["id"])["status"] == "cancelled"
    for name, resource in (("found", found), ("held", held), ("booked", booked),
                           ("moved", moved)):
        (corpus / f"fhirpy-{name}.json").write_text(json.dumps(resource, default=dict))
