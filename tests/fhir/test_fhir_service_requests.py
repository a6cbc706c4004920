"""The waiting list as ServiceRequests through /fhir/R4/: read and searched by the staff who
keep it, and a ServiceRequest sent by the hospital put on the list through the waiting-list
service, with a refusal that names the element at fault and never another site's patient."""

from datetime import date

import pytest

from audit.models import AccessLog
from fhir import conf
from scheduling import roles
from scheduling.models import WaitingListEntry, WaitingPriority, WaitingStatus
from scheduling.plan.waiting import waiting_entry_add, waiting_entry_remove
from scheduling.selectors import procedure_type_get
from scheduling.services import case_cancel
from tests.factories import CLEAR_SCREENING, TUESDAY, PatientFactory, UserFactory, case_made
from tests.fhir.conftest import outcome_code
from tests.fhir.day import day_build
from tests.fhir.test_smart_backend import bearer, registered
from tests.scheduling.offer_helpers import DAYTIME, offered, text
from tests.scheduling.test_plan_day import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return day_build()


@pytest.fixture
def desk(day, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[day.unit])


@pytest.fixture
def entry(day, desk):
    return waiting_entry_add(
        site=day.unit, patient=day.confirmed.patient,
        procedure_type=procedure_type_get("vertebroplasty"), levels=2,
        earliest_date=date(2026, 3, 9), latest_date=date(2026, 3, 20),
        created_by=desk.user, priority=WaitingPriority.SOON, surgeon=day.confirmed.surgeon,
        note="Prefers mornings.",
    )


def order(day, **changes) -> dict:
    """A ServiceRequest as a hospital's order system sends one for the unit's waiting list."""
    body = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [{"system": conf.procedure_system(), "code": "vertebroplasty"}]},
        "quantityQuantity": {"value": 2, "unit": "vertebral levels"},
        "subject": {"reference": f"Patient/{day.confirmed.patient_id}"},
        "occurrencePeriod": {"start": "2026-03-09", "end": "2026-03-20"},
        "locationReference": [{"reference": f"Location/site-{day.unit.pk}"}],
        "performer": [{"reference": f"Practitioner/{day.confirmed.surgeon_id}"}],
        "note": [{"text": "Referred by Dr Osei."}],
    }
    for path, value in changes.items():
        body[path] = value
    return {name: value for name, value in body.items() if value is not None}


def issue(response) -> tuple[int, str, list[str]]:
    return (response.status_code, outcome_code(response),
            response.json()["issue"][0].get("expression", []))


def test_a_waiting_list_entry_is_read_as_an_active_order(desk, day, entry):
    response = desk.fhir(f"ServiceRequest/{entry.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["intent"], body["priority"]) == ("active", "order", "urgent")
    assert body["subject"] == {"reference": f"Patient/{day.confirmed.patient_id}"}
    assert body["code"]["coding"][0] == {
        "system": conf.procedure_system(), "code": "vertebroplasty", "display": "Vertebroplasty",
    }
    assert body["quantityQuantity"]["value"] == 2
    assert body["occurrencePeriod"] == {"start": "2026-03-09", "end": "2026-03-20"}
    assert body["performer"] == [{"reference": f"Practitioner/{day.confirmed.surgeon_id}"}]
    assert body["locationReference"] == [{"reference": f"Location/site-{day.unit.pk}"}]
    assert body["note"] == [{"text": "Prefers mornings."}]


def test_the_waiting_list_is_searched_by_patient_status_and_id(desk, day, entry):
    other = waiting_entry_add(
        site=day.unit, patient=day.tuesday[0].patient,
        procedure_type=procedure_type_get("vertebroplasty"), levels=1,
        earliest_date=date(2026, 3, 9), latest_date=date(2026, 3, 9), created_by=desk.user,
    )
    waiting_entry_remove(entry=other)
    found = desk.fhir("ServiceRequest").json()
    assert found["total"] == 2
    mine = desk.fhir("ServiceRequest", patient=f"Patient/{day.confirmed.patient_id}").json()
    assert [e["resource"]["id"] for e in mine["entry"]] == [str(entry.pk)]
    revoked = desk.fhir("ServiceRequest", status="revoked").json()
    assert [e["resource"]["id"] for e in revoked["entry"]] == [str(other.pk)]
    assert desk.fhir("ServiceRequest", status="active,revoked").json()["total"] == 2
    assert desk.fhir("ServiceRequest", status="completed").json()["total"] == 0
    assert desk.fhir("ServiceRequest", _id=str(other.pk)).json()["total"] == 1
    assert outcome_code(desk.fhir("ServiceRequest", status="waiting")) == (
        "fhir_invalid_parameter")


def test_an_entry_booked_from_an_offer_is_a_completed_order(tiny_unit, clock, fhir_client_for):
    clock.move_to(DAYTIME)  # offers are texted outside quiet hours
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[tiny_unit])
    entry = waiting_entry_add(
        site=tiny_unit, patient=PatientFactory(phone="+12125550260"),
        procedure_type=procedure_type_get("vertebroplasty"), levels=1,
        earliest_date=TUESDAY, latest_date=date(2026, 3, 20), created_by=clerk,
        screening=dict(CLEAR_SCREENING),
    )
    freed = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=freed, reason="Patient has a cold", by=clerk)
    offered(freed)
    text(entry.patient.phone, "YES")
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.SCHEDULED
    desk = fhir_client_for(roles.FRONT_DESK, sites=[tiny_unit])
    assert desk.fhir(f"ServiceRequest/{entry.pk}").json()["status"] == "completed"
    assert desk.fhir("ServiceRequest", status="completed").json()["total"] == 1
    assert desk.fhir("ServiceRequest", status="active").json()["total"] == 0


def test_each_read_is_a_record_access(desk, day, entry):
    AccessLog.objects.all().delete()
    desk.fhir(f"ServiceRequest/{entry.pk}")
    rows = list(AccessLog.objects.values_list("url_name", "patient_id", "site_id"))
    assert rows == [("fhir-servicerequest", entry.patient_id, day.unit.pk)]


def test_only_the_staff_who_keep_the_waiting_list_read_it(day, entry, fhir_client_for):
    nurse = fhir_client_for(roles.NURSE, sites=[day.unit])
    assert nurse.fhir(f"ServiceRequest/{entry.pk}").status_code == 403
    assert nurse.fhir("ServiceRequest").status_code == 403
    admin = fhir_client_for(roles.ADMIN, sites=[day.unit])
    assert admin.fhir(f"ServiceRequest/{entry.pk}").status_code == 200


def test_a_service_request_sent_is_put_on_the_waiting_list(desk, day):
    response = desk.fhir_post("ServiceRequest", order(day))
    assert response.status_code == 201, response.content
    body = response.json()
    entry = WaitingListEntry.objects.get(pk=int(body["id"]))
    assert response["Location"] == f"http://testserver/fhir/R4/ServiceRequest/{entry.pk}"
    assert (entry.site, entry.patient_id, entry.levels) == (day.unit, day.confirmed.patient_id, 2)
    assert (entry.earliest_date, entry.latest_date) == (date(2026, 3, 9), date(2026, 3, 20))
    assert (entry.priority, entry.surgeon_id) == (WaitingPriority.SOON, day.confirmed.surgeon_id)
    assert (entry.status, entry.note, entry.created_by) == (
        WaitingStatus.WAITING, "Referred by Dr Osei.", desk.user)
    assert desk.fhir(f"ServiceRequest/{entry.pk}").json() == body
    listed = desk.get("/api/v1/waiting-list/").json()
    assert [row["id"] for row in listed] == [entry.pk]


def test_a_service_request_with_a_single_site_and_no_extras_is_taken(desk, day):
    plain = order(day, locationReference=None, performer=None, note=None, priority=None,
                  quantityQuantity=None)
    response = desk.fhir_post("ServiceRequest", plain, content_type="application/json")
    assert response.status_code == 201, response.content
    entry = WaitingListEntry.objects.get(pk=int(response.json()["id"]))
    assert (entry.site, entry.levels, entry.priority, entry.surgeon) == (
        day.unit, 1, WaitingPriority.ROUTINE, None)


@pytest.mark.parametrize(("changes", "code", "expression"), [
    ({"resourceType": "Appointment"}, "fhir_invalid_resource", "ServiceRequest.resourceType"),
    ({"status": "draft"}, "fhir_invalid_resource", "ServiceRequest.status"),
    ({"intent": "proposal"}, "fhir_invalid_resource", "ServiceRequest.intent"),
    ({"priority": "whenever"}, "fhir_invalid_resource", "ServiceRequest.priority"),
    ({"priority": ["urgent"]}, "fhir_invalid_resource", "ServiceRequest.priority"),
    ({"subject": None}, "fhir_invalid_resource", "ServiceRequest.subject"),
    ({"subject": {"reference": "Group/4"}}, "fhir_invalid_resource", "ServiceRequest.subject"),
    ({"subject": "Patient/4"}, "fhir_invalid_resource", "ServiceRequest.subject"),
    ({"code": {"coding": [{"system": "http://snomed.info/sct", "code": "392010000"}]}},
     "fhir_invalid_resource", "ServiceRequest.code"),
    ({"code": {"coding": [{"system": conf.procedure_system(), "code": "sacroplasty"}]}},
     "unknown_procedure_type", "ServiceRequest.code"),
    ({"occurrencePeriod": {"start": "2026-03-09"}},
     "fhir_invalid_resource", "ServiceRequest.occurrencePeriod.end"),
    ({"occurrencePeriod": {"start": "2026-02-30", "end": "2026-03-20"}},
     "fhir_invalid_resource", "ServiceRequest.occurrencePeriod.start"),
    ({"occurrencePeriod": {"start": "2026-03-20", "end": "2026-03-09"}},
     "waiting_window_invalid", "ServiceRequest.occurrencePeriod.end"),
    ({"quantityQuantity": {"value": 9}},
     "levels_out_of_range", "ServiceRequest.quantityQuantity.value"),
    ({"quantityQuantity": {"value": "two"}},
     "fhir_invalid_resource", "ServiceRequest.quantityQuantity.value"),
    ({"performer": [{"reference": "Practitioner/999999"}]},
     "unknown_surgeon", "ServiceRequest.performer"),
    ({"note": [{"text": "x" * 241}]}, "fhir_invalid_resource", "ServiceRequest.note"),
    ({"locationReference": [{"reference": "Location/site-999999"}]},
     "fhir_invalid_resource", "ServiceRequest.locationReference"),
])
def test_a_malformed_service_request_is_refused_naming_the_element(
    desk, day, changes, code, expression
):
    response = desk.fhir_post("ServiceRequest", order(day, **changes))
    assert issue(response) == (400, code, [expression])
    assert not WaitingListEntry.objects.exists()


ODD_VALUES = [None, 7, 2.5, True, "", "x", [], [None], [7], {}, {"reference": 7},
              {"coding": "x"}, {"value": None}, [{"reference": None}], [{"text": 7}]]


@pytest.mark.parametrize("element", [
    "status", "intent", "priority", "code", "quantityQuantity", "subject", "occurrencePeriod",
    "locationReference", "performer", "note",
])
def test_no_odd_value_of_an_element_is_answered_with_a_server_error(desk, day, element):
    for value in ODD_VALUES:
        body = order(day)
        body[element] = value
        response = desk.fhir_post("ServiceRequest", body)
        assert response.status_code in (201, 400), (element, value, response.content)
        assert response.json()["resourceType"] in ("ServiceRequest", "OperationOutcome")


def test_a_body_that_is_no_resource_is_refused(desk, day):
    assert issue(desk.fhir_post("ServiceRequest", "{not json")) == (400, "malformed_json", [])
    assert issue(desk.fhir_post("ServiceRequest", [order(day)])) == (
        400, "fhir_invalid_resource", ["ServiceRequest.resourceType"])
    assert issue(desk.fhir_post("ServiceRequest", "")) == (
        400, "fhir_invalid_resource", ["ServiceRequest.resourceType"])
    assert not WaitingListEntry.objects.exists()


def test_another_sites_patient_is_answered_as_one_that_does_not_exist(desk, day):
    theirs = desk.fhir_post("ServiceRequest", order(
        day, subject={"reference": f"Patient/{day.north_patient.pk}"}))
    nobody = desk.fhir_post("ServiceRequest", order(
        day, subject={"reference": "Patient/2147483000"}))
    assert issue(theirs) == issue(nobody) == (400, "unknown_patient", ["ServiceRequest.subject"])
    assert theirs.json()["issue"][0]["diagnostics"] == (
        f"No patient has id {day.north_patient.pk}.")
    north_site = desk.fhir_post("ServiceRequest", order(
        day, locationReference=[{"reference": f"Location/site-{day.north.pk}"}]))
    assert issue(north_site) == (400, "fhir_invalid_resource", ["ServiceRequest.locationReference"])
    assert not WaitingListEntry.objects.exists()


def test_another_sites_staff_see_none_of_the_waiting_list(day, entry, fhir_client_for):
    outsider = fhir_client_for(roles.FRONT_DESK, sites=[day.north])
    assert outsider.fhir(f"ServiceRequest/{entry.pk}").status_code == 404
    assert outsider.fhir("ServiceRequest").json()["total"] == 0
    assert outsider.fhir("ServiceRequest", patient=str(entry.patient_id)).json()["total"] == 0


def test_staff_who_do_not_keep_the_waiting_list_may_not_add_to_it(day, fhir_client_for):
    nurse = fhir_client_for(roles.NURSE, sites=[day.unit])
    response = nurse.fhir_post("ServiceRequest", order(day))
    assert (response.status_code, outcome_code(response)) == (403, "permission_denied")
    assert not WaitingListEntry.objects.exists()


def test_a_system_client_creates_only_with_the_create_scope(client, corpus, day, tmp_path):
    ehr = registered(tmp_path, name="Orders", sites=["main"],
                     scopes="system/ServiceRequest.crs")
    reader = bearer(client, corpus, ehr, scope="system/ServiceRequest.rs")
    refused = reader.fhir_post("ServiceRequest", order(day))
    assert (refused.status_code, outcome_code(refused)) == (403, "insufficient_scope")
    assert not WaitingListEntry.objects.exists()
    writer = bearer(client, corpus, ehr, scope="system/ServiceRequest.c")
    made = writer.fhir_post("ServiceRequest", order(day))
    assert made.status_code == 201, made.content
    entry = WaitingListEntry.objects.get()
    assert entry.created_by == ehr.client.user
    assert writer.fhir(f"ServiceRequest/{entry.pk}").status_code == 403  # c is not r


def test_other_types_are_not_created_here(desk, day):
    assert desk.fhir_post("Patient", {"resourceType": "Patient"}).status_code == 405
    unknown = desk.fhir_post("Observation", {"resourceType": "Observation"})
    assert (unknown.status_code, outcome_code(unknown)) == (400, "fhir_unknown_resource_type")
