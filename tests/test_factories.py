"""The case factories stand in for a clerk's booking and a nurse's clicks, so a test that borrows a
case from them must get the case the API or the board would have made."""

import pytest

from notifications.models import Reminder
from scheduling.models import Case, CaseStatus
from tests.conftest import case_payload
from tests.factories import (
    TRACKED_STATUSES,
    build_unit,
    case_cancelled,
    case_confirmed,
    case_made,
    case_tracked,
)

pytestmark = pytest.mark.django_db


def booked_like(case: Case) -> dict:
    """What booking decides for a case, without what differs from site to site (ids, rooms)."""
    return {
        "status": case.status,
        "day": case.day,
        "times": (case.arrival_at, case.procedure_start, case.fasting_solids_until,
                  case.fasting_clear_liquids_until),
        "stages": [
            (stage.kind, stage.resource.kind, stage.planned_start, stage.planned_end)
            for stage in case.stages.order_by("position")
        ],
        "driver": (case.driver_name, case.driver_phone),
        "held": [(held.drug.code, held.hold_starts_on) for held in case.held_medications.all()],
        "reminders": sorted(
            Reminder.objects.filter(case=case).values_list(
                "kind", "channel", "audience", "recipient", "due_at", "status", "drug_code"
            )
        ),
    }


@pytest.mark.parametrize("medications", [[], ["warfarin"]])
def test_case_made_books_what_the_api_books_from_the_same_answers(unit, front_desk, medications):
    response = front_desk.post("/api/v1/cases/", case_payload(medications=medications),
                               format="json")
    assert response.status_code == 201, response.json()
    through_api = Case.objects.get(pk=response.json()["id"])
    twin = build_unit(code="north", name="North Spine Center")  # the same rooms, free

    made = case_made(site=twin, medications=medications)

    assert booked_like(made) == booked_like(through_api)
    assert booked_like(made)["reminders"]  # booking planned the messages
    assert made.patient.last_name == through_api.patient.last_name == "Whitfield"


def test_case_made_books_at_a_start_given_as_text_on_its_local_day(unit):
    case = case_made(site=unit, start="2026-03-02T10:00:00-05:00", levels=2)

    assert (case.day.isoformat(), case.levels, case.status) == ("2026-03-02", 2, "booked")
    assert case.procedure_start.isoformat() == "2026-03-02T15:00:00+00:00"


def test_case_made_books_with_no_driver_when_told_none(unit):
    case = case_made(site=unit, driver_name="")
    with_driver = case_made(site=unit)

    assert (case.driver_name, case.driver_phone) == ("", "")
    assert (with_driver.driver_name, with_driver.driver_phone) == ("Tom Whitfield", "+12125550101")


def test_case_confirmed_and_case_cancelled_go_through_the_services(unit):
    confirmed = case_confirmed(site=unit)
    cancelled = case_cancelled(site=unit, reason="Moved away.")

    assert (confirmed.status, confirmed.confirmed_at is not None) == (CaseStatus.CONFIRMED, True)
    assert (cancelled.status, cancelled.cancel_reason) == (CaseStatus.CANCELLED, "Moved away.")
    assert not cancelled.stages.filter(active=True).exists()


# Steps a nurse records on the way (check-in, each stage's start and finish, discharge; the
# status asked for is reached by the last one), and the stages started by then.
STEPS_TO = {
    CaseStatus.CHECKED_IN: (1, 0),
    CaseStatus.IN_PRE_OP: (2, 1),
    CaseStatus.IN_PROCEDURE: (4, 2),
    CaseStatus.CEMENT_SETTING: (6, 3),
    CaseStatus.IN_RECOVERY: (8, 4),
    CaseStatus.DISCHARGED: (9, 4),  # the discharge finishes the recovery
}


@pytest.mark.parametrize("through", TRACKED_STATUSES)
def test_case_tracked_moves_a_case_of_today_through_the_day_up_to_the_status_asked(unit, through):
    case = case_tracked(site=unit, through=through)

    assert case.status == through
    assert case.day.isoformat() == "2026-03-02"
    steps, stages_started = STEPS_TO[through]
    assert case.events.count() == steps
    started = [stage.actual_start is not None for stage in case.stages.order_by("position")]
    assert sum(started) == stages_started
    assert started == sorted(started, reverse=True)  # in order, none skipped


def test_case_tracked_refuses_a_status_the_day_does_not_reach(unit):
    with pytest.raises(ValueError, match="no_show"):
        case_tracked(site=unit, through=CaseStatus.NO_SHOW)
