"""Reading the unit's day through /fhir/R4/ as its staff: each resource type read and searched,
the Appointment's times, status and participants, versions, paging and the audit trail."""

from datetime import timedelta

import pytest

from audit.models import AccessLog
from fhir import conf
from scheduling import roles
from scheduling.models import CaseStatus, Resource, StageKind
from scheduling.services.booking import case_reschedule
from tests.fhir.conftest import FHIR_JSON
from tests.fhir.day import day_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return day_build()


@pytest.fixture
def desk(day, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[day.unit])


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def test_the_capability_statement_lists_exactly_what_is_served(desk):
    response = desk.fhir("metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)
    rest = response.json()["rest"][0]
    served = {r["type"]: r for r in rest["resource"]}
    assert set(served) == {
        "Patient", "Practitioner", "Location", "Appointment", "Schedule", "Slot", "Encounter",
        "ServiceRequest", "OperationDefinition",
    }
    for name, resource in served.items():
        expected = ["read"] if name == "OperationDefinition" else ["read", "search-type"]
        created = ["create"] if name == "ServiceRequest" else []
        assert [i["code"] for i in resource["interaction"]] == [*expected, *created]
    appointment_params = {p["name"] for p in served["Appointment"]["searchParam"]}
    assert {"date", "patient", "status", "location", "_lastUpdated", "_count"} <= appointment_params
    slot_params = {p["name"]: p["type"] for p in served["Slot"]["searchParam"]}
    assert slot_params | {"_count": "number", "_offset": "number"} == {
        "schedule": "reference", "start": "date", "status": "token",
        "_count": "number", "_offset": "number",
    }
    encounter_params = {p["name"]: p["type"] for p in served["Encounter"]["searchParam"]}
    assert encounter_params["appointment"] == "reference"
    assert encounter_params["date"] == "date"
    assert "operation" not in rest
    operations = served["Appointment"]["operation"]
    assert [o["name"] for o in operations] == ["find", "hold", "book"]
    for operation in operations:  # each definition is served where the statement says
        path = operation["definition"].split("/fhir/R4/", 1)[1]
        definition = desk.fhir(path).json()
        assert (definition["resourceType"], definition["code"]) == (
            "OperationDefinition", operation["name"])
    find = desk.fhir("OperationDefinition/appointment-find").json()
    assert {"name": "levels", "use": "in", "min": 0, "max": "1", "type": "integer"}.items() <= (
        next(p for p in find["parameter"] if p["name"] == "levels").items())


def test_a_patient_is_read_with_the_mrn_under_the_configured_system(desk, day, settings):
    settings.VERTEBRO_FHIR_MRN_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14"
    patient = day.confirmed.patient
    response = desk.fhir(f"Patient/{patient.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["identifier"][0]["system"] == settings.VERTEBRO_FHIR_MRN_SYSTEM
    assert body["identifier"][0]["value"] == patient.mrn
    assert body["name"][0]["family"] == "Okafor"
    assert body["birthDate"] == "1948-05-17"
    assert {"system": "phone", "value": "+12125550100", "use": "mobile"} in body["telecom"]
    assert body["communication"][0]["language"]["coding"][0]["code"] == "en"
    assert response["Cache-Control"].count("no-store") == 1


def test_patients_are_found_by_identifier_and_by_family_and_birth_date(desk, day):
    patient = day.confirmed.patient
    by_mrn = desk.fhir("Patient", identifier=f"{conf.mrn_system()}|{patient.mrn}").json()
    assert by_mrn["type"] == "searchset"
    assert (by_mrn["total"], ids(by_mrn)) == (1, [str(patient.pk)])
    other_system = desk.fhir("Patient", identifier=f"urn:other|{patient.mrn}").json()
    assert other_system["total"] == 0
    found = desk.fhir("Patient", family="okaf", birthdate="1948-05-17").json()
    assert ids(found) == [str(patient.pk)]
    assert desk.fhir("Patient", family="Okafor", birthdate="1950").json()["total"] == 0
    assert desk.fhir("Patient", family="Okafor", birthdate="ge1948-05").json()["total"] == 1


def test_surgeons_and_the_sites_rooms_and_bays_are_read_and_searched(desk, day):
    surgeon = day.in_pre_op.surgeon
    practitioner = desk.fhir(f"Practitioner/{surgeon.pk}").json()
    assert practitioner["identifier"][0]["value"] == surgeon.code
    assert ids(desk.fhir("Practitioner").json()) == [str(surgeon.pk)]
    site = desk.fhir(f"Location/site-{day.unit.pk}").json()
    assert (site["name"], site["physicalType"]["coding"][0]["code"]) == (day.unit.name, "si")
    room = Resource.objects.get(site=day.unit, name="Room 1")
    location = desk.fhir(f"Location/resource-{room.pk}").json()
    assert location["partOf"] == {"reference": f"Location/site-{day.unit.pk}"}
    assert location["physicalType"]["coding"][0]["code"] == "ro"
    rooms = desk.fhir("Location", partof=f"Location/site-{day.unit.pk}").json()
    assert rooms["total"] == Resource.objects.filter(site=day.unit).count() == 7
    everything = desk.fhir("Location").json()
    assert everything["total"] == 8  # the site and its seven rooms and bays


def test_an_appointment_runs_from_pre_op_to_recovery_with_each_room_and_bay(desk, day):
    case = day.confirmed
    response = desk.fhir(f"Appointment/{case.pk}")
    assert response.status_code == 200
    body = response.json()
    stages = list(case.stages.order_by("position"))
    assert [s.kind for s in stages][0] == StageKind.PRE_OP
    assert body["status"] == "booked"
    assert body["start"] == stages[0].planned_start.isoformat().replace("+00:00", "Z")
    assert body["end"] == stages[-1].planned_end.isoformat().replace("+00:00", "Z")
    assert body["extension"] == [
        {"url": conf.arrival_extension_url(),
         "valueInstant": case.arrival_at.isoformat().replace("+00:00", "Z")},
        {"url": conf.levels_extension_url(), "valueInteger": case.levels},
    ]
    assert body["serviceType"][0]["coding"][0]["code"] == "vertebroplasty"
    actors = [p["actor"]["reference"] for p in body["participant"]]
    assert actors[:2] == [f"Patient/{case.patient_id}", f"Practitioner/{case.surgeon_id}"]
    assert actors[2:] == [f"Location/resource-{s.resource_id}" for s in stages]
    assert body["participant"][2]["period"]["start"] == body["start"]
    assert body["meta"]["versionId"] == case.version
    assert response["ETag"] == f'W/"{case.version}"'


def test_each_case_status_is_an_appointment_status(desk, day):
    statuses = {
        case.pk: desk.fhir(f"Appointment/{case.pk}").json()["status"]
        for case in (day.confirmed, day.cancelled, day.in_pre_op)
    }
    assert statuses == {
        day.confirmed.pk: "booked", day.cancelled.pk: "cancelled", day.in_pre_op.pk: "checked-in",
    }


def test_appointments_are_searched_by_date_patient_status_location_and_update(desk, day):
    tuesday = {str(c.pk) for c in [*day.tuesday, day.confirmed, day.cancelled]}
    assert set(ids(desk.fhir("Appointment", date="2026-03-03").json())) == tuesday
    assert set(ids(desk.fhir("Appointment", date="ge2026-03-03").json())) == tuesday
    assert ids(desk.fhir("Appointment", date="lt2026-03-03").json()) == [str(day.in_pre_op.pk)]
    between = desk.fhir("Appointment", date=["gt2026-03-02", "le2026-03-03"]).json()
    assert set(ids(between)) == tuesday
    assert desk.fhir("Appointment", date="eq2026-03-04").json()["total"] == 0
    mine = desk.fhir("Appointment", patient=f"Patient/{day.confirmed.patient_id}").json()
    assert ids(mine) == [str(day.confirmed.pk)]
    cancelled = desk.fhir("Appointment", status="cancelled").json()
    assert ids(cancelled) == [str(day.cancelled.pk)]
    booked_or_cancelled = desk.fhir("Appointment", status="booked,cancelled").json()
    assert booked_or_cancelled["total"] == len(tuesday)
    room = day.in_pre_op.stages.get(kind=StageKind.PRE_OP).resource_id
    in_room = ids(desk.fhir("Appointment", location=f"Location/resource-{room}").json())
    assert str(day.in_pre_op.pk) in in_room
    at_site = desk.fhir("Appointment", location=f"Location/site-{day.unit.pk}").json()
    assert at_site["total"] == len(tuesday) + 1
    assert desk.fhir("Appointment", _lastUpdated="ge2026-03-02").json()["total"] == len(tuesday) + 1
    assert desk.fhir("Appointment", _lastUpdated="lt2026-03-02").json()["total"] == 0
    surgeon = day.confirmed.surgeon_id
    by_surgeon = desk.fhir("Appointment", practitioner=f"Practitioner/{surgeon}").json()
    assert by_surgeon["total"] == len(tuesday) + 1
    procedure = f"{conf.procedure_system()}|vertebroplasty"
    assert desk.fhir("Appointment", **{"service-type": procedure}).json()["total"] == 6
    assert desk.fhir("Appointment", **{"service-type": "kyphoplasty"}).json()["total"] == 0


def test_a_search_pages_with_count_and_next_links(desk, day):
    seen, url = [], None
    first = desk.fhir("Appointment", _count="2").json()
    assert first["total"] == 6
    assert [link["relation"] for link in first["link"]] == ["self", "next"]
    page = first
    while True:
        seen += ids(page)
        assert all(entry["fullUrl"].endswith(f"/Appointment/{entry['resource']['id']}")
                   for entry in page["entry"])
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        if url is None:
            break
        page = desk.fhir(url.split("/fhir/R4/", 1)[1]).json()
    assert len(seen) == len(set(seen)) == 6
    assert desk.fhir("Appointment", _count="0").json()["total"] == 6


def test_a_reschedule_gives_a_new_version_and_etag(desk, day):
    case = day.tuesday[0]
    before = desk.fhir(f"Appointment/{case.pk}")
    moved = case_reschedule(case=case, by=case.booked_by, day=case.day + timedelta(days=7))
    after = desk.fhir(f"Appointment/{case.pk}")
    assert moved.plan_version == 2
    assert before["ETag"] != after["ETag"]
    assert after.json()["meta"]["versionId"] != before.json()["meta"]["versionId"]
    assert after.json()["start"] > before.json()["start"]


def test_every_record_read_is_a_record_access(desk, day):
    AccessLog.objects.all().delete()
    case = day.confirmed
    desk.fhir(f"Appointment/{case.pk}")
    desk.fhir(f"Patient/{case.patient_id}")
    desk.fhir("Appointment", patient=str(case.patient_id))
    desk.fhir(f"Location/site-{day.unit.pk}")
    rows = list(AccessLog.objects.order_by("id").values_list("url_name", "case_id", "patient_id"))
    assert rows == [
        ("fhir-appointment", case.pk, case.patient_id),
        ("fhir-patient", None, case.patient_id),
        ("fhir-appointment", case.pk, case.patient_id),
    ]
    assert AccessLog.objects.filter(username=desk.user.username).count() == 3


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_staff_role_that_reads_cases_reads_appointments(day, fhir_client_for, role):
    client = fhir_client_for(role, sites=[day.unit])
    assert client.fhir(f"Appointment/{day.confirmed.pk}").status_code == 200


def test_a_case_awaiting_review_is_pending(desk, day):
    case = day.tuesday[1]
    case.status = CaseStatus.NEEDS_REVIEW
    case.save(update_fields=["status"])
    assert desk.fhir(f"Appointment/{case.pk}").json()["status"] == "pending"
