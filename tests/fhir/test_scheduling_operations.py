"""The IHE ITI Scheduling operations as a hospital's record system uses them: $find the free
times, $hold one, $book a case into it (screened and messaged as at the front desk), move it and
cancel it with If-Match; and each refusal as an OperationOutcome with the project's code."""

from datetime import date, timedelta

import pytest

from fhir import conf
from notifications.models import Reminder
from scheduling import roles
from scheduling.models import Case, CaseStatus, SlotHold, SlotHoldStatus, Stage
from scheduling.screening import ScreeningAnswers
from scheduling.selectors import slots_free
from scheduling.services import case_book, case_cancel
from scheduling.tasks import slot_holds_sweep
from tests.factories import CLEAR_SCREENING, PatientFactory, UserFactory
from tests.fhir.conftest import outcome_code
from tests.fhir.day import day_build

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2026, 3, 4)
PROCEDURE = "vertebroplasty"
ANSWER_NAMES = {
    "active_infection": "active-infection", "fracture_painful": "fracture-painful",
    "bleeding_disorder": "bleeding-disorder", "tumor_in_canal": "tumor-in-canal",
    "cement_allergy": "cement-allergy", "traumatic": "traumatic",
    "conservative_treatment_weeks": "conservative-treatment-weeks",
    "imaging_on_file": "imaging-on-file",
}


@pytest.fixture
def day():
    return day_build()


@pytest.fixture
def desk(day, fhir_client_for):
    return fhir_client_for(roles.FRONT_DESK, sites=[day.unit])


def screening_extension(answers=None, **more) -> dict:
    answers = {**CLEAR_SCREENING, **(answers or {})}
    inner = [
        {"url": ANSWER_NAMES[name],
         ("valueInteger" if isinstance(value, int) and not isinstance(value, bool)
          else "valueBoolean"): value}
        for name, value in answers.items()
    ]
    inner += [{"url": name, **value} for name, value in more.items()]
    return {"url": conf.screening_extension_url(), "extension": inner}


def parameters(**named) -> dict:
    return {"resourceType": "Parameters", "parameter": [
        {"name": name, **value} for name, value in named.items()
    ]}


def book_body(time_id: str, patient_id: int, **appointment) -> dict:
    resource = {
        "resourceType": "Appointment", "status": "pending",
        "extension": [screening_extension()],
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
        **appointment,
    }
    return parameters(**{
        "appointment-reference": {"valueReference": {"reference": f"Appointment/{time_id}"}},
        "appointment-resource": {"resource": resource},
    })


def find(client, **query):
    query = {"start": WEDNESDAY.isoformat(), "service-type": PROCEDURE, **query}
    return client.fhir("Appointment/$find", **query)


def proposals(client, **query) -> list[dict]:
    response = find(client, **query)
    assert response.status_code == 200, response.json()
    return [entry["resource"] for entry in response.json().get("entry", [])]


def hold(client, proposal_id: str):
    return client.fhir_post("Appointment/$hold", parameters(**{
        "appointment-reference": {"valueReference": {"reference": f"Appointment/{proposal_id}"}},
    }))


# $find

def test_find_offers_the_same_times_as_the_units_own_slot_search(desk, day):
    offered = proposals(desk)
    expected = slots_free(site=day.unit, procedure_type=day.confirmed.procedure_type, levels=1,
                          day=WEDNESDAY)
    assert len(offered) == min(len(expected), 20)
    first = offered[0]
    assert first["status"] == "proposed"
    assert first["id"].startswith(f"proposal-{day.unit.pk}-")
    slot = expected[0]
    assert first["start"] == slot.times.stages[0].start.isoformat().replace("+00:00", "Z")
    rooms = [p["actor"]["reference"] for p in first["participant"] if "period" in p]
    assert rooms == [f"Location/resource-{r.pk}" for r in slot.resources]
    assert {"url": conf.levels_extension_url(), "valueInteger": 1} in first["extension"]


def test_find_by_post_with_parameters_and_for_two_levels_and_a_surgeon(desk, day):
    surgeon = day.in_pre_op.surgeon
    body = parameters(**{
        "start": {"valueDate": WEDNESDAY.isoformat()},
        "service-type": {"valueCoding": {"system": conf.procedure_system(), "code": PROCEDURE}},
        "levels": {"valueInteger": 2},
        "practitioner": {"valueReference": {"reference": f"Practitioner/{surgeon.pk}"}},
        "_count": {"valueInteger": 3},
    })
    response = desk.fhir_post("Appointment/$find", body)
    assert response.status_code == 200, response.json()
    offered = [entry["resource"] for entry in response.json()["entry"]]
    assert len(offered) == 3
    assert all(f"-{surgeon.pk}-r-" in a["id"] for a in offered)
    one_level = proposals(desk, _count="1")[0]
    two_levels = offered[0]
    assert two_levels["end"] > one_level["end"]  # more levels, a longer procedure


@pytest.mark.parametrize(("query", "code", "name"), [
    ({"start": None}, "fhir_invalid_parameter", "start"),
    ({"service-type": "kyphoplasty-deluxe"}, "fhir_invalid_parameter", "service-type"),
    ({"end": "2026-04-30"}, "fhir_invalid_parameter", "end"),
    ({"levels": "x"}, "fhir_invalid_parameter", "levels"),
    ({"location": "Location/site-999999"}, "fhir_invalid_parameter", "location"),
    ({"colour": "blue"}, "fhir_unknown_parameter", "colour"),
])
def test_find_refuses_what_it_cannot_read(desk, day, query, code, name):
    full = {"start": WEDNESDAY.isoformat(), "service-type": PROCEDURE, **query}
    response = desk.fhir("Appointment/$find", **{k: v for k, v in full.items() if v is not None})
    assert response.status_code == 400
    assert outcome_code(response) == code
    assert name in response.json()["issue"][0]["diagnostics"]


# $hold

def test_a_hold_keeps_its_time_from_a_clerk_until_it_runs_out(desk, day, clock):
    proposal = proposals(desk)[0]
    response = hold(desk, proposal["id"])
    assert response.status_code == 200, response.json()
    held = response.json()
    assert held["status"] == "pending"
    assert held["id"].startswith("hold-")
    assert held["start"] == proposal["start"]
    hold_row = SlotHold.objects.get(pk=int(held["id"].removeprefix("hold-")))
    assert hold_row.stages.count() == 4
    assert hold_row.status == SlotHoldStatus.HELD
    start = hold_row.procedure_start
    # The database keeps a booking out of the held rooms; the slot search no longer offers them.
    still_free = {
        (slot.times.procedure_start, slot.resources)
        for slot in slots_free(site=day.unit, procedure_type=hold_row.procedure_type, levels=1,
                               day=WEDNESDAY)
    }
    held_resources = tuple(s.resource for s in hold_row.stages.order_by("position"))
    assert (start, held_resources) not in still_free
    # Past its minutes the hold keeps nothing: the time is offered again, and the sweep lets
    # it go.
    clock.shift(timedelta(minutes=11))
    again = slots_free(site=day.unit, procedure_type=hold_row.procedure_type, levels=1,
                       day=WEDNESDAY)
    assert (start, held_resources) in {(s.times.procedure_start, s.resources) for s in again}
    assert slot_holds_sweep() == 1
    hold_row.refresh_from_db()
    assert hold_row.status == SlotHoldStatus.EXPIRED
    assert not hold_row.stages.exists()


def test_a_clerk_books_over_a_hold_run_out_before_the_sweep(desk, day, clock):
    """The constraint still sees a run-out hold's stages until they go: the booking lets them
    go and tries again, rather than calling the time taken."""
    held = hold(desk, proposals(desk, _count="1")[0]["id"]).json()
    hold_row = SlotHold.objects.get(pk=int(held["id"].removeprefix("hold-")))
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[day.unit])
    clock.shift(timedelta(minutes=11))
    case = case_book(
        site=day.unit, procedure_type=hold_row.procedure_type, levels=1, day=WEDNESDAY,
        start=hold_row.procedure_start, patient=PatientFactory(),
        screening=ScreeningAnswers(**CLEAR_SCREENING), booked_by=clerk, unit_will_call=True,
    )
    assert case.procedure_start == hold_row.procedure_start
    assert case.surgeon_id == hold_row.surgeon_id  # the unit's one surgeon, held before
    hold_row.refresh_from_db()
    assert hold_row.status == SlotHoldStatus.EXPIRED


def test_a_hold_of_a_time_taken_since_it_was_offered_is_slot_taken(desk, day):
    proposal = proposals(desk, _count="1")[0]
    assert hold(desk, proposal["id"]).status_code == 200
    response = hold(desk, proposal["id"])  # the unit's one surgeon is held
    assert response.status_code == 409
    assert outcome_code(response) == "slot_taken"


# $book

def test_book_into_a_hold_books_the_held_rooms_and_plans_the_desks_messages(desk, day):
    patient = day.tuesday[0].patient
    held = hold(desk, proposals(desk)[0]["id"]).json()
    hold_row = SlotHold.objects.get(pk=int(held["id"].removeprefix("hold-")))
    held_stages = list(hold_row.stages.order_by("position").values_list(
        "resource_id", "planned_start", "held_until"))
    response = desk.fhir_post("Appointment/$book", book_body(held["id"], patient.pk))
    assert response.status_code == 201, response.json()
    booked = response.json()
    case = Case.objects.get(pk=int(booked["id"]))
    assert response["Location"].endswith(f"/fhir/R4/Appointment/{case.pk}")
    assert response["ETag"] == f'W/"{case.version}"'
    assert booked["status"] == "booked"
    assert case.status == CaseStatus.BOOKED
    assert list(case.stages.order_by("position").values_list(
        "resource_id", "planned_start", "held_until")) == held_stages
    hold_row.refresh_from_db()
    assert (hold_row.status, hold_row.case_id) == (SlotHoldStatus.BOOKED, case.pk)
    assert not Stage.objects.filter(hold=hold_row).exists()
    assert case.booked_by == desk.user

    # Booked at the desk instead, at the same time, a case plans the same messages.
    def planned(of):
        return sorted(Reminder.objects.filter(case=of).values_list(
            "kind", "audience", "channel", "recipient", "due_at", "send_by"))

    by_fhir = planned(case)
    assert by_fhir
    case_cancel(case=case, reason="Booked again at the desk", by=desk.user)
    at_desk = case_book(
        site=day.unit, procedure_type=case.procedure_type, levels=1, day=WEDNESDAY,
        start=case.procedure_start, patient=patient,
        screening=ScreeningAnswers(**CLEAR_SCREENING), booked_by=desk.user,
        driver_name=case.driver_name, driver_phone=case.driver_phone,
    )
    assert planned(at_desk) == by_fhir
    assert desk.fhir(f"Appointment/{case.pk}").json()["start"] == booked["start"]


def test_book_straight_from_a_proposal_and_a_screening_that_blocks_needs_a_clinician(desk, day):
    patient = day.tuesday[0].patient
    proposal = proposals(desk)[0]
    blocked = book_body(proposal["id"], patient.pk,
                        extension=[screening_extension({"active_infection": True})])
    response = desk.fhir_post("Appointment/$book", blocked)
    assert response.status_code == 400
    assert outcome_code(response) == "contraindicated"
    review = book_body(proposal["id"], patient.pk, extension=[screening_extension(
        {"active_infection": True}, **{"request-review": {"valueBoolean": True}})])
    response = desk.fhir_post("Appointment/$book", review)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert Case.objects.get(pk=int(response.json()["id"])).status == CaseStatus.NEEDS_REVIEW


def test_a_hold_that_ran_out_cannot_be_booked(desk, day, clock):
    held = hold(desk, proposals(desk)[0]["id"]).json()
    clock.shift(timedelta(minutes=11))
    response = desk.fhir_post("Appointment/$book", book_body(held["id"], day.tuesday[0].patient.pk))
    assert response.status_code == 409
    assert outcome_code(response) == "hold_expired"
    assert not Case.objects.filter(day=WEDNESDAY).exists()


def test_book_into_a_time_taken_since_is_slot_taken(desk, day):
    proposal = proposals(desk, _count="1")[0]
    response = desk.fhir_post("Appointment/$book",
                              book_body(proposal["id"], day.tuesday[0].patient.pk))
    assert response.status_code == 201, response.json()
    response = desk.fhir_post("Appointment/$book",
                              book_body(proposal["id"], day.tuesday[1].patient.pk))
    assert response.status_code == 409
    assert outcome_code(response) == "slot_taken"


@pytest.mark.parametrize(("change", "path"), [
    ({"extension": []}, "Appointment.extension"),
    ({"extension": [screening_extension({"traumatic": "no"})]}, "traumatic"),
    ({"participant": []}, "Appointment.participant"),
    ({"participant": 5, "extension": "x"}, "Appointment.participant"),
])
def test_a_malformed_booking_is_400_naming_the_path(desk, day, change, path):
    proposal = proposals(desk, _count="1")[0]
    response = desk.fhir_post("Appointment/$book",
                              book_body(proposal["id"], day.tuesday[0].patient.pk, **change))
    assert response.status_code == 400
    assert outcome_code(response) == "fhir_invalid_resource"
    assert path in response.json()["issue"][0]["expression"][0]
    assert not Case.objects.filter(day=WEDNESDAY).exists()


@pytest.mark.parametrize("body", [
    {"resourceType": "Appointment"}, {"resourceType": "Parameters", "parameter": "x"},
    {"resourceType": "Parameters", "parameter": [{"value": 1}]},
    {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource",
                                                  "resource": {"resourceType": "Patient"}}]},
])
def test_what_is_not_a_booking_is_400(desk, day, body):
    response = desk.fhir_post("Appointment/$book", body)
    assert response.status_code == 400
    assert outcome_code(response) == "fhir_invalid_resource"


@pytest.mark.parametrize("time_id", [
    "proposal-1-1-1-0-a-999999999999", "proposal-1-1-1-0-a-1", "hold-99999", "12abc",
])
def test_a_time_that_was_never_offered_is_refused(desk, day, time_id):
    response = hold(desk, time_id)
    assert response.status_code in (400, 404, 409), response.json()
    assert response.json()["resourceType"] == "OperationOutcome"


def test_another_sites_patient_or_time_is_not_found(desk, day, fhir_client_for):
    proposal = proposals(desk, _count="1")[0]
    response = desk.fhir_post("Appointment/$book",
                              book_body(proposal["id"], day.north_patient.pk))
    assert response.status_code == 404
    north_desk = fhir_client_for(roles.FRONT_DESK, sites=[day.north])
    assert hold(north_desk, proposal["id"]).status_code == 404


def test_a_nurse_may_find_but_not_hold_or_book(day, fhir_client_for):
    nurse = fhir_client_for(roles.NURSE, sites=[day.unit])
    proposal = proposals(nurse, _count="1")[0]
    assert hold(nurse, proposal["id"]).status_code == 403


# Moving and cancelling

def test_move_with_if_match_and_a_stale_version_is_412(desk, day):
    case = day.confirmed
    read = desk.fhir(f"Appointment/{case.pk}")
    etag = read["ETag"]
    later = proposals(desk, start="2026-03-05")[0]
    moved = desk.fhir_post("Appointment/$book", parameters(**{
        "appointment-reference": {"valueReference": {"reference": f"Appointment/{later['id']}"}},
        "appointment-resource": {"resource": {**read.json(), "status": "booked"}},
    }), HTTP_IF_MATCH=etag)
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == later["start"]
    case.refresh_from_db()
    assert case.day == date(2026, 3, 5)
    assert moved["ETag"] != etag
    again = desk.fhir_post("Appointment/$book", parameters(**{
        "appointment-resource": {"resource": {**read.json(), "status": "cancelled",
                                              "cancelationReason": {"text": "Patient unwell"}}},
    }), HTTP_IF_MATCH=etag)
    assert again.status_code == 412
    assert outcome_code(again) == "fhir_stale_version"
    cancelled = desk.fhir_post("Appointment/$book", parameters(**{
        "appointment-resource": {"resource": {**moved.json(), "status": "cancelled",
                                              "cancelationReason": {"text": "Patient unwell"}}},
    }), HTTP_IF_MATCH=moved["ETag"])
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    case.refresh_from_db()
    assert (case.status, case.cancel_reason) == (CaseStatus.CANCELLED, "Patient unwell")


def test_a_cancel_needs_a_reason(desk, day):
    read = desk.fhir(f"Appointment/{day.confirmed.pk}").json()
    response = desk.fhir_post("Appointment/$book", parameters(**{
        "appointment-resource": {"resource": {**read, "status": "cancelled"}}}))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Appointment.cancelationReason"]
