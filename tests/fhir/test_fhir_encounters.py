"""A case's visit as an Encounter through /fhir/R4/: none before check-in, then arrived, in
progress with each room and bay as the nurses start and finish its stage, finished at discharge;
searched by patient, date, status and appointment; each read a record access."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AccessLog
from scheduling import roles
from scheduling.models import CaseStatus, StageKind
from scheduling.services.tracking import (
    case_check_in,
    case_discharge,
    stage_finish,
    stage_start,
)
from tests.factories import (
    UserFactory,
    build_unit,
    case_cancelled,
    case_made,
    case_ready_for_discharge,
    case_ready_for_procedure,
    case_tracked,
)
from tests.fhir.conftest import outcome_code

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the tests' clock (tests/conftest.py)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


@pytest.fixture
def unit():
    return build_unit(code="main", name="Main Street Spine Center")


@pytest.fixture
def desk(unit, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[unit])


@pytest.fixture
def nurse(unit):
    return UserFactory(roles=[roles.NURSE], sites=[unit])


def test_a_case_has_its_encounter_from_check_in_and_each_room_as_it_is_used(
    desk, unit, nurse, clock
):
    case = case_made(site=unit, day=NOW.date(), start="2026-03-02T09:00-05:00")
    stages = {stage.kind: stage for stage in case.stages.all()}
    assert desk.fhir(f"Encounter/{case.pk}").status_code == 404  # booked: not yet a visit

    case_check_in(case=case, by=nurse)
    arrived = desk.fhir(f"Encounter/{case.pk}").json()
    assert arrived["status"] == "arrived"
    assert arrived["period"] == {"start": z(NOW)}
    assert arrived["class"]["code"] == "AMB"
    assert arrived["subject"] == {"reference": f"Patient/{case.patient_id}"}
    assert arrived["appointment"] == [{"reference": f"Appointment/{case.pk}"}]
    assert arrived["participant"][0]["individual"] == {
        "reference": f"Practitioner/{case.surgeon_id}"}
    assert "location" not in arrived

    clock.shift(timedelta(minutes=10))
    stage_start(case=case, kind=StageKind.PRE_OP, by=nurse)
    in_pre_op = desk.fhir(f"Encounter/{case.pk}").json()
    assert in_pre_op["status"] == "in-progress"
    assert in_pre_op["location"] == [{
        "location": {"reference": f"Location/resource-{stages[StageKind.PRE_OP].resource_id}",
                     "display": stages[StageKind.PRE_OP].resource.name},
        "status": "active",
        "period": {"start": z(NOW + timedelta(minutes=10))},
    }]

    clock.shift(timedelta(minutes=50))
    stage_finish(case=case, kind=StageKind.PRE_OP, by=nurse, early_reason="Ready early.")
    case_ready_for_procedure(case, nurse=nurse)
    stage_start(case=case, kind=StageKind.PROCEDURE, by=nurse)
    in_procedure = desk.fhir(f"Encounter/{case.pk}").json()
    pre_op, procedure = in_procedure["location"]
    assert pre_op["status"] == "completed"
    assert pre_op["period"] == {"start": z(NOW + timedelta(minutes=10)),
                                "end": z(NOW + timedelta(minutes=60))}
    assert procedure["location"]["reference"] == (
        f"Location/resource-{stages[StageKind.PROCEDURE].resource_id}")
    assert (procedure["status"], procedure["period"]) == (
        "active", {"start": z(NOW + timedelta(minutes=60))})
    assert "end" not in in_procedure["period"]


def test_a_discharged_case_is_a_finished_encounter_ending_at_discharge(desk, unit, clock):
    case = case_tracked(site=unit, through=CaseStatus.IN_RECOVERY)
    clock.shift(timedelta(hours=2))
    case_ready_for_discharge(case, nurse=UserFactory(roles=[roles.NURSE], sites=[unit]))
    case_discharge(case=case, by=UserFactory(roles=[roles.CLINICIAN], sites=[unit]))
    body = desk.fhir(f"Encounter/{case.pk}").json()
    assert body["status"] == "finished"
    assert body["period"] == {"start": z(NOW), "end": z(NOW + timedelta(hours=2))}
    assert [loc["status"] for loc in body["location"]] == ["completed"] * 4
    assert body["location"][-1]["period"]["end"] == z(NOW + timedelta(hours=2))


def test_encounters_are_searched_by_patient_date_status_and_appointment(desk, unit):
    in_pre_op = case_tracked(site=unit, through=CaseStatus.IN_PRE_OP)
    checked_in = case_tracked(site=unit, through=CaseStatus.CHECKED_IN,
                              start="2026-03-02T11:00-05:00")
    booked = case_made(site=unit, day=NOW.date() + timedelta(days=1))
    everything = desk.fhir("Encounter").json()
    assert set(ids(everything)) == {str(in_pre_op.pk), str(checked_in.pk)}
    assert str(booked.pk) not in ids(everything)
    mine = desk.fhir("Encounter", patient=f"Patient/{in_pre_op.patient_id}").json()
    assert ids(mine) == [str(in_pre_op.pk)]
    assert ids(desk.fhir("Encounter", status="arrived").json()) == [str(checked_in.pk)]
    assert ids(desk.fhir("Encounter", status="in-progress").json()) == [str(in_pre_op.pk)]
    assert desk.fhir("Encounter", status="finished").json()["total"] == 0
    assert desk.fhir("Encounter", date="2026-03-02").json()["total"] == 2
    assert desk.fhir("Encounter", date="2026-03-01").json()["total"] == 0
    by_appointment = desk.fhir("Encounter", appointment=f"Appointment/{checked_in.pk}").json()
    assert ids(by_appointment) == [str(checked_in.pk)]
    assert desk.fhir("Encounter", _id=str(booked.pk)).json()["total"] == 0
    refused = desk.fhir("Encounter", status="walking")
    assert (refused.status_code, outcome_code(refused)) == (400, "fhir_invalid_parameter")


def test_each_encounter_read_is_a_record_access(desk, unit):
    case = case_tracked(site=unit, through=CaseStatus.CHECKED_IN)
    AccessLog.objects.all().delete()
    desk.fhir(f"Encounter/{case.pk}")
    desk.fhir("Encounter", patient=str(case.patient_id))
    rows = list(AccessLog.objects.order_by("id").values_list("url_name", "case_id", "patient_id"))
    assert rows == [("fhir-encounter", case.pk, case.patient_id)] * 2


def test_a_cancelled_or_missed_case_has_no_encounter(desk, unit):
    cancelled = case_cancelled(site=unit, day=NOW.date() + timedelta(days=1))
    assert desk.fhir(f"Encounter/{cancelled.pk}").status_code == 404


def test_another_sites_staff_see_no_encounter(unit, fhir_client_for):
    case = case_tracked(site=unit, through=CaseStatus.IN_PRE_OP)
    other = build_unit(code="north", name="North Campus")
    outsider = fhir_client_for(roles.FRONT_DESK, sites=[other])
    assert outsider.fhir(f"Encounter/{case.pk}").status_code == 404
    assert outsider.fhir("Encounter").json()["total"] == 0
    assert outsider.fhir("Encounter", patient=str(case.patient_id)).json()["total"] == 0
