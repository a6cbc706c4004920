"""A room's, a bay's and a surgeon's Schedule through /fhir/R4/, and its Slots: busy while a
case's stages hold it (a room until its turnover is over), free for the rest of the opening hours
or of the surgeon's working period, never naming whose case it is."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from scheduling import roles
from scheduling.models import Resource, ResourceKind, StageKind
from scheduling.services.closures import closure_create
from scheduling.services.holds import slot_hold
from tests.factories import TUESDAY, UserFactory, build_unit, case_cancelled, case_made
from tests.fhir.conftest import outcome_code

pytestmark = pytest.mark.django_db

# The unit opens 07:00-18:00 in New York; on Tuesday 3 March 2026 (EST) that is 12:00-23:00Z.
OPENS = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 3, 23, 0, tzinfo=UTC)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slots(bundle: dict) -> list[tuple[str, str, str]]:
    return [(e["resource"]["status"], e["resource"]["start"], e["resource"]["end"])
            for e in bundle.get("entry", [])]


@pytest.fixture
def unit():
    """One room, one pre-op bay, one recovery bay and one surgeon (07:00-18:00 every day)."""
    return build_unit(code="solo", name="Solo Spine Unit", rooms=1, pre_op_bays=1,
                      recovery_bays=1)


@pytest.fixture
def case(unit):
    return case_made(site=unit, start="2026-03-03T10:00-05:00",
                     patient={"last_name": "Quennell", "first_name": "Hortensia"})


@pytest.fixture
def desk(unit, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[unit])


def room_of(unit) -> Resource:
    return Resource.objects.get(site=unit, kind=ResourceKind.PROCEDURE_ROOM)


def test_each_room_bay_and_surgeon_has_a_schedule(desk, unit, case):
    room, surgeon = room_of(unit), case.surgeon
    body = desk.fhir(f"Schedule/resource-{room.pk}").json()
    assert body["actor"] == [{"reference": f"Location/resource-{room.pk}", "display": room.name}]
    assert body["active"] is True
    by_surgeon = desk.fhir(f"Schedule/surgeon-{surgeon.pk}").json()
    assert by_surgeon["actor"][0]["reference"] == f"Practitioner/{surgeon.pk}"
    everything = desk.fhir("Schedule").json()
    assert everything["total"] == 4  # a room, two bays, a surgeon
    found = desk.fhir("Schedule", actor=f"Location/resource-{room.pk}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"resource-{room.pk}"]
    found = desk.fhir("Schedule", actor=f"Practitioner/{surgeon.pk}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"surgeon-{surgeon.pk}"]
    assert desk.fhir("Schedule", _id=f"surgeon-{surgeon.pk}").json()["total"] == 1
    room.active = False
    room.save(update_fields=["active"])
    assert desk.fhir("Schedule", active="true").json()["total"] == 3
    assert desk.fhir("Schedule", active="false").json()["total"] == 1
    assert outcome_code(desk.fhir("Schedule", active="maybe")) == "fhir_invalid_parameter"
    assert desk.fhir("Schedule/resource-999999").status_code == 404


def test_a_room_is_busy_from_the_procedure_to_its_turnover_and_free_around_it(desk, unit, case):
    room = room_of(unit)
    held = list(case.stages.filter(resource=room).order_by("position"))
    assert [stage.kind for stage in held] == [StageKind.PROCEDURE, StageKind.CEMENT_SET]
    busy_from, busy_until = held[0].planned_start, held[-1].held_until
    assert busy_until > held[-1].planned_end  # the turnover holds the room too
    body = desk.fhir("Slot", schedule=f"Schedule/resource-{room.pk}", start="2026-03-03").json()
    assert slots(body) == [
        ("free", z(OPENS), z(busy_from)),
        ("busy", z(busy_from), z(busy_until)),
        ("free", z(busy_until), z(CLOSES)),
    ]
    busy = body["entry"][1]["resource"]
    assert busy["schedule"] == {"reference": f"Schedule/resource-{room.pk}"}
    assert busy["id"] == f"resource-{room.pk}.{busy_from:%Y%m%d%H%M}.{busy_until:%Y%m%d%H%M}"
    assert set(busy) == {"resourceType", "id", "schedule", "status", "start", "end"}
    text = json.dumps(body)
    assert "Quennell" not in text
    assert f"Patient/{case.patient_id}" not in text
    free = desk.fhir("Slot", schedule=f"resource-{room.pk}", start="2026-03-03",
                     status="free").json()
    assert [s[0] for s in slots(free)] == ["free", "free"]


def test_a_surgeon_is_busy_for_the_procedure_only(desk, unit, case):
    procedure = case.stages.get(kind=StageKind.PROCEDURE)
    body = desk.fhir("Slot", schedule=f"Schedule/surgeon-{case.surgeon_id}",
                     start="2026-03-03", status="busy").json()
    assert slots(body) == [("busy", z(procedure.planned_start), z(procedure.planned_end))]
    free = desk.fhir("Slot", schedule=f"Schedule/surgeon-{case.surgeon_id}",
                     start="2026-03-03", status="free").json()
    assert slots(free) == [
        ("free", z(OPENS), z(procedure.planned_start)),
        ("free", z(procedure.planned_end), z(CLOSES)),
    ]


def test_a_cancelled_case_gives_its_time_back(desk, unit, case):
    room = room_of(unit)
    cancelled = case_cancelled(site=unit, start="2026-03-03T14:00-05:00")
    assert cancelled.stages.filter(resource=room).exists()
    body = desk.fhir("Slot", schedule=f"resource-{room.pk}", start="2026-03-03",
                     status="busy").json()
    assert len(slots(body)) == 1


def test_a_time_held_for_a_booking_is_tentative_until_the_hold_runs_out(desk, unit, case, clock):
    room = room_of(unit)
    hold = slot_hold(site=unit, procedure_type=case.procedure_type, levels=1, day=TUESDAY,
                     start=datetime(2026, 3, 3, 19, 0, tzinfo=UTC), by=desk.user, minutes=10)
    held = list(hold.stages.filter(resource=room).order_by("position"))
    query = {"schedule": f"resource-{room.pk}", "start": "2026-03-03"}
    statuses = [s[0] for s in slots(desk.fhir("Slot", **query).json())]
    assert statuses == ["free", "busy", "free", "busy-tentative", "free"]
    tentative = desk.fhir("Slot", status="busy-tentative", **query).json()
    assert slots(tentative) == [
        ("busy-tentative", z(held[0].planned_start), z(held[-1].held_until))]
    clock.shift(timedelta(minutes=11))
    statuses = [s[0] for s in slots(desk.fhir("Slot", **query).json())]
    assert statuses == ["free", "busy", "free"]


def test_a_slot_is_read_by_its_id(desk, unit, case):
    room = room_of(unit)
    found = desk.fhir("Slot", schedule=f"resource-{room.pk}", start="2026-03-03").json()
    for entry in found["entry"]:
        read = desk.fhir(f"Slot/{entry['resource']['id']}")
        assert read.status_code == 200
        assert read.json() == entry["resource"]
    missing = found["entry"][1]["resource"]["id"].replace(".2026", ".2025", 1)
    assert desk.fhir(f"Slot/{missing}").status_code == 404
    assert desk.fhir("Slot/resource-1.nonsense").status_code == 404


def test_a_slot_search_needs_its_schedule_and_at_most_two_weeks(desk, unit, case):
    room = f"resource-{room_of(unit).pk}"
    missing = desk.fhir("Slot", start="2026-03-03")
    assert (missing.status_code, outcome_code(missing)) == (400, "fhir_invalid_parameter")
    years = desk.fhir("Slot", schedule=room, start=["ge2026-01-01", "lt2028-01-01"])
    assert (years.status_code, outcome_code(years)) == (400, "fhir_invalid_parameter")
    fortnight = desk.fhir("Slot", schedule=room, start=["ge2026-03-02", "lt2026-03-16"]).json()
    # Ten weekdays open (the site shuts at weekends), the Tuesday with its case in the middle.
    assert len(slots(fortnight)) == 9 + 3
    assert outcome_code(desk.fhir("Slot", schedule=room, status="vacant")) == (
        "fhir_invalid_parameter")
    assert outcome_code(desk.fhir("Slot", schedule=room, start="ne2026-03-03")) == (
        "fhir_invalid_parameter")
    for far in ("lt0001-01-01", "ge9999-12-31", "9999", "1850-01-01"):
        refused = desk.fhir("Slot", schedule=room, start=far)
        assert (refused.status_code, outcome_code(refused)) == (400, "fhir_invalid_parameter")
    assert desk.fhir(f"Slot/{room}.000101010000.000101010100").status_code == 404
    assert desk.fhir(f"Slot/{room}.999912312300.999912312359").status_code == 404


def test_without_a_start_the_slots_are_todays(desk, unit, case):
    room = f"resource-{room_of(unit).pk}"
    # The clock is Monday 2 March, 12:00Z: the whole of today's opening hours are free.
    today = desk.fhir("Slot", schedule=room).json()
    assert slots(today) == [("free", "2026-03-02T12:00:00Z", "2026-03-02T23:00:00Z")]


def test_a_room_closed_for_the_day_is_unavailable(desk, unit, case):
    room = room_of(unit)
    manager = UserFactory(roles=[roles.ADMIN], sites=[unit])
    closure_create(site=unit, resource=room, start_date=TUESDAY, end_date=TUESDAY,
                   reason="C-arm service", created_by=manager)
    body = desk.fhir("Slot", schedule=f"resource-{room.pk}", start="2026-03-03").json()
    assert [s[0] for s in slots(body)] == ["busy-unavailable", "busy", "busy-unavailable"]


def test_another_sites_staff_see_no_schedule_and_no_slot(unit, case, fhir_client_for):
    other = build_unit(code="elsewhere", name="Elsewhere")
    outsider = fhir_client_for(roles.FRONT_DESK, sites=[other])
    room = room_of(unit)
    assert outsider.fhir(f"Schedule/resource-{room.pk}").status_code == 404
    assert outsider.fhir(f"Schedule/surgeon-{case.surgeon_id}").status_code == 404
    ids = {e["resource"]["id"] for e in outsider.fhir("Schedule").json()["entry"]}
    assert f"resource-{room.pk}" not in ids
    assert f"surgeon-{case.surgeon_id}" not in ids
    found = outsider.fhir("Slot", schedule=f"resource-{room.pk}", start="2026-03-03").json()
    assert found["total"] == 0
    mine = desk_slot_id(room, case)
    assert outsider.fhir(f"Slot/{mine}").status_code == 404


def desk_slot_id(room, case) -> str:
    held = list(case.stages.filter(resource=room).order_by("position"))
    return (f"resource-{room.pk}.{held[0].planned_start:%Y%m%d%H%M}"
            f".{held[-1].held_until:%Y%m%d%H%M}")


@pytest.mark.parametrize("query", [
    {"schedule": "Schedule/"}, {"schedule": "Location/resource-1"}, {"schedule": ","},
    {"schedule": "resource-99999999999999999999"}, {"schedule": "surgeon-x"},
    {"schedule": ",".join(f"resource-{n}" for n in range(1, 30))},
    {"schedule": "resource-1", "start": "2026-03-03T25:00Z"},
    {"schedule": "resource-1", "start": ["ge2026-03-05", "le2026-03-01"]},
    {"schedule": "resource-1", "status": ","}, {"schedule": "resource-1", "_count": "x"},
])
def test_no_odd_slot_search_is_answered_with_a_server_error(desk, unit, query):
    response = desk.fhir("Slot", **query)
    assert response.status_code in (200, 400)
    assert response.json()["resourceType"] in ("Bundle", "OperationOutcome")


@pytest.mark.parametrize("slot_id", [
    "resource-1", "resource-1.2026", "resource-1.202603031200.2026030313", "x-1.a.b",
    "resource-1.202699999999.202603031300", "surgeon-0.202603031200.202603031300",
])
def test_an_id_that_is_no_slot_of_theirs_is_not_found(desk, unit, slot_id):
    assert desk.fhir(f"Slot/{slot_id}").status_code == 404
