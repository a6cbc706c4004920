"""The nurses' rules through the API: the 409s of the procedure, the cement set and the
discharge, the reasons that bend them (a clinician's; a nurse's is 403 and writes nothing), each
shown in the case's history with who, when and why."""

from datetime import timedelta

import pytest

from scheduling.models import Case, CaseEvent, CaseStatus, Stage
from tests.factories import FULL_SCORE, GOOD_VITALS
from tests.scheduling.bedside_calls import (
    ARRIVAL,
    TICKS,
    at,
    book_monday,
    call,
    checklist,
    history,
    ok,
    refused,
    to_cement_set,
    to_procedure,
    to_recovery,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_id(unit, front_desk, clock):
    booked = book_monday(unit, by=front_desk.user)
    clock.move_to(ARRIVAL)
    return booked


# The procedure waits for the checklist


def test_the_procedure_with_items_missing_is_409_naming_them(case_id, nurse, clock):
    to_procedure(nurse, case_id, clock)
    ok(checklist(nurse, case_id, {"consent_signed": True, "imaging_verified": True}))
    body = refused(call(nurse, case_id, "stages/procedure/start"), 409, "preop_incomplete")
    assert list(body["errors"]) == [
        "fasting_confirmed", "medications_held_confirmed", "iv_placed", "driver_confirmed",
        "preop_vitals",
    ]
    assert body["errors"]["iv_placed"] == ["IV placed: not done."]
    assert Stage.objects.get(case_id=case_id, kind="procedure").actual_start is None


def test_a_clinician_starts_anyway_with_a_reason_shown_in_the_history(case_id, nurse, clinician,
                                                                      clock):
    to_procedure(nurse, case_id, clock)
    ok(checklist(nurse, case_id, TICKS))
    reason = "Pre-op vitals charted on paper; the monitor is down."
    body = ok(call(clinician, case_id, "stages/procedure/start", {"override_reason": reason}))
    assert body["status"] == "in_procedure"
    (step,) = [step for step in body["history"] if step["exception"]]
    assert step["action"] == "stage_start"
    assert (step["stage"], step["by"], step["reason"]) == (
        "procedure", clinician.user.username, reason
    )
    assert (step["exception"], step["unmet"]) == ("preop_incomplete", ["preop_vitals"])
    assert at(step["at"]) == ARRIVAL + timedelta(minutes=40)


def test_a_nurses_reason_to_start_anyway_is_403_and_nothing_is_written(case_id, nurse, clock):
    to_procedure(nurse, case_id, clock)
    steps = CaseEvent.objects.filter(case_id=case_id).count()
    response = call(nurse, case_id, "stages/procedure/start", {"override_reason": "Running late."})
    refused(response, 403, "permission_denied")
    assert Case.objects.get(pk=case_id).status == CaseStatus.IN_PRE_OP
    assert Stage.objects.get(case_id=case_id, kind="procedure").actual_start is None
    assert CaseEvent.objects.filter(case_id=case_id).count() == steps


@pytest.mark.parametrize(
    "body", [{"override_reason": 5}, {"override_reason": "x" * 2001}, {"override_reason": None}]
)
def test_a_malformed_reason_is_400(case_id, clinician, clock, body):
    to_procedure(clinician, case_id, clock)
    response = call(clinician, case_id, "stages/procedure/start", body)
    assert response.status_code == 400
    assert "override_reason" in response.json()["errors"]
    assert Stage.objects.get(case_id=case_id, kind="procedure").actual_start is None


# The cement set's hour


def test_the_cement_set_at_59_minutes_is_409_and_at_60_done(case_id, nurse, clock):
    to_cement_set(nurse, case_id, clock)
    clock.shift(timedelta(minutes=59))
    body = refused(call(nurse, case_id, "stages/cement_set/finish"), 409, "stage_too_early")
    assert list(body["errors"]) == ["minimum_minutes"]
    assert "(until 10:55)" in body["errors"]["minimum_minutes"][0]  # started 09:55 New York
    clock.shift(timedelta(minutes=1))
    ok(call(nurse, case_id, "stages/cement_set/finish"))
    assert all(step["exception"] == "" for step in history(nurse, case_id))


def test_the_cement_set_finished_early_with_a_reason_is_in_the_history(case_id, nurse, clock):
    to_cement_set(nurse, case_id, clock)
    clock.shift(timedelta(minutes=50))
    reason = "Cement hard on fluoroscopy; surgeon agreed."
    ok(call(nurse, case_id, "stages/cement_set/finish", {"early_reason": reason}))
    (step,) = [step for step in history(nurse, case_id) if step["exception"]]
    assert (step["action"], step["stage"], step["exception"]) == (
        "stage_finish", "cement_set", "stage_too_early"
    )
    assert (step["by"], step["reason"], step["unmet"]) == (
        nurse.user.username, reason, ["minimum_minutes"]
    )
    assert at(step["at"]) == ARRIVAL + timedelta(minutes=40 + 45 + 50)


# Discharge by the criteria


def test_discharge_names_each_unmet_criterion_until_all_are_met(case_id, nurse, clock):
    to_recovery(nurse, case_id, clock)
    expected = ["recovery_minimum", "discharge_score", "recovery_vitals", "driver_present"]
    for step, body in [
        ("recovery_vitals", {"phase": "recovery", **GOOD_VITALS}),
        ("discharge_score", FULL_SCORE),
        ("driver_present", {"driver_present": True}),
        ("recovery_minimum", None),
    ]:
        body_of = refused(call(nurse, case_id, "discharge"), 409, "discharge_criteria_not_met")
        assert list(body_of["errors"]) == expected
        expected.remove(step)
        if step == "recovery_vitals":
            ok(call(nurse, case_id, "vitals", body), 201)
        elif step == "discharge_score":
            ok(call(nurse, case_id, "discharge-assessment", body), 201)
        elif step == "driver_present":
            ok(checklist(nurse, case_id, body))
        else:
            clock.shift(timedelta(minutes=30))
    body = ok(call(nurse, case_id, "discharge"))
    assert body["status"] == "discharged"
    recovery = body["stages"][-1]
    assert at(recovery["actual_end"]) == ARRIVAL + timedelta(minutes=40 + 45 + 60 + 30)
    assert body["history"][-1]["action"] == "discharge"
    assert body["history"][-1]["stage"] == "recovery"

    clock.shift(timedelta(minutes=1))
    body = ok(call(nurse, case_id, "undo"))
    assert body["status"] == "in_recovery"
    assert body["stages"][-1]["actual_end"] is None
    assert body["history"][-1]["undone_at"] is not None


def test_a_low_score_is_named_with_the_sites_minimum(case_id, nurse, clock):
    to_recovery(nurse, case_id, clock)
    ok(call(nurse, case_id, "discharge-assessment", FULL_SCORE | {"activity": 0}), 201)
    body = refused(call(nurse, case_id, "discharge"), 409, "discharge_criteria_not_met")
    assert body["errors"]["discharge_score"] == [
        "The latest Aldrete score is 8; at least 9 is needed."
    ]


def test_a_clinician_discharges_anyway_shown_in_the_history(case_id, nurse, clinician, clock):
    to_recovery(nurse, case_id, clock)
    clock.shift(timedelta(minutes=10))
    reason = "Admitted to the ward; recovery continues there."
    body = ok(call(clinician, case_id, "discharge", {"override_reason": reason}))
    assert body["status"] == "discharged"
    step = body["history"][-1]
    assert (step["action"], step["by"], step["reason"], step["exception"]) == (
        "discharge", clinician.user.username, reason, "discharge_criteria_not_met"
    )
    assert step["unmet"] == [
        "recovery_minimum", "discharge_score", "recovery_vitals", "driver_present"
    ]
    assert at(step["at"]) == ARRIVAL + timedelta(minutes=40 + 45 + 60 + 10)


def test_a_nurses_reason_to_discharge_anyway_is_403_and_nothing_is_written(case_id, nurse, clock):
    to_recovery(nurse, case_id, clock)
    steps = CaseEvent.objects.filter(case_id=case_id).count()
    response = call(nurse, case_id, "discharge", {"override_reason": "Driver cannot wait."})
    body = refused(response, 403, "permission_denied")
    assert "clinician" in body["detail"]
    case = Case.objects.get(pk=case_id)
    assert case.status == CaseStatus.IN_RECOVERY
    assert Stage.objects.get(case_id=case_id, kind="recovery").actual_end is None
    assert CaseEvent.objects.filter(case_id=case_id).count() == steps
