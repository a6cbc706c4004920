"""The nurses' rules for the day, in the services: vitals (impossible refused, abnormal flagged
by the site's limits), the cement set's hour, the Aldrete assessment, and discharge by the
criteria unless a clinician gives a reason (a nurse's is refused, and nothing is written)."""

from datetime import timedelta

import pytest

from scheduling import bedside, roles
from scheduling.bedside_models import (
    DischargeAssessment,
    VitalSigns,
)
from scheduling.models import CaseAction, CaseStatus, ProcedureType
from scheduling.services.bedside import (
    checklist_update,
    discharge_assess,
    vitals_record,
)
from scheduling.services.tracking import (
    case_check_in,
    case_discharge,
    case_undo,
    stage_finish,
    stage_start,
)
from tests.factories import (
    FULL_SCORE,
    GOOD_VITALS,
    UserFactory,
)
from tests.scheduling.bedside_walk import (
    ARRIVAL,
    events,
    fresh,
    monday_case,
    refused,
    stage,
    to_cement_set,
    to_recovery,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse_user(unit):
    return UserFactory(roles=[roles.NURSE], sites=[unit])


@pytest.fixture
def clinician_user(unit):
    return UserFactory(roles=[roles.CLINICIAN], sites=[unit])


@pytest.fixture
def case(unit, clock):
    return monday_case(unit, clock)


# Vitals


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"spo2": 101}, "spo2"),
        ({"spo2": 49}, "spo2"),
        ({"systolic": 20}, "systolic"),
        ({"systolic": 301}, "systolic"),
        ({"diastolic": 130, "systolic": 130}, "diastolic"),
        ({"diastolic": 140, "systolic": 120}, "diastolic"),
        ({"heart_rate": 0}, "heart_rate"),
        ({"resp_rate": 61}, "resp_rate"),
    ],
)
def test_impossible_vitals_are_refused_naming_the_field(case, nurse_user, changes, field):
    case_check_in(case=case, by=nurse_user)
    error = refused(
        "vitals_out_of_range", vitals_record,
        case=case, phase="pre_op", values=GOOD_VITALS | changes, by=nurse_user,
    )
    assert list(error.errors) == [field]
    assert error.status == 400
    assert not VitalSigns.objects.exists()


def test_the_edges_of_the_possible_are_recorded(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    edges = {"systolic": 300, "diastolic": 20, "heart_rate": 250, "spo2": 50, "resp_rate": 4}
    vitals = vitals_record(case=case, phase="pre_op", values=edges, by=nurse_user)
    assert (vitals.spo2, vitals.by, vitals.taken_at) == (50, nurse_user, ARRIVAL)
    lows = {"systolic": 40, "diastolic": 39, "heart_rate": 20, "spo2": 100, "resp_rate": 60}
    vitals_record(case=case, phase="pre_op", values=lows, by=nurse_user)
    assert VitalSigns.objects.filter(case_id=case.pk).count() == 2


def test_vitals_wait_for_the_check_in(case, nurse_user):
    refused(
        "not_checked_in", vitals_record,
        case=case, phase="pre_op", values=GOOD_VITALS, by=nurse_user,
    )


def test_abnormal_vitals_are_kept_and_flagged_by_the_sites_limits(unit, case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    low = vitals_record(
        case=case, phase="pre_op", values=GOOD_VITALS | {"spo2": 90}, by=nurse_user
    )
    assert bedside.vitals_alerts(low, unit) == ["spo2_low"]
    assert bedside.vitals_alerts(
        vitals_record(case=case, phase="pre_op", values=GOOD_VITALS, by=nurse_user), unit
    ) == []

    unit.spo2_alert_low = 88
    unit.heart_rate_alert_high = 70
    unit.save(update_fields=["spo2_alert_low", "heart_rate_alert_high"])
    assert bedside.vitals_alerts(low, unit) == ["heart_rate_high"]


def test_each_alert_fires_beyond_its_limit_only(unit, case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    worst = {"systolic": 200, "diastolic": 120, "heart_rate": 130, "spo2": 91, "resp_rate": 30}
    high = vitals_record(case=case, phase="pre_op", values=worst, by=nurse_user)
    assert bedside.vitals_alerts(high, unit) == [
        "systolic_high", "diastolic_high", "heart_rate_high", "spo2_low", "resp_rate_high"
    ]
    lows = {"systolic": 85, "diastolic": 50, "heart_rate": 45, "spo2": 92, "resp_rate": 8}
    low = vitals_record(case=case, phase="pre_op", values=lows, by=nurse_user)
    assert bedside.vitals_alerts(low, unit) == ["systolic_low", "heart_rate_low", "resp_rate_low"]
    at_limits = {"systolic": 90, "diastolic": 60, "heart_rate": 50, "spo2": 92, "resp_rate": 10}
    assert bedside.vitals_alerts(
        vitals_record(case=case, phase="pre_op", values=at_limits, by=nurse_user), unit
    ) == []


# The cement set's hour


def test_the_cement_set_is_not_finished_before_its_hour(case, nurse_user, clock):
    to_cement_set(case, nurse_user, clock)
    clock.shift(timedelta(minutes=59, seconds=59))

    error = refused("stage_too_early", stage_finish, case=case, kind="cement_set", by=nurse_user)

    assert error.status == 409
    assert list(error.errors) == ["minimum_minutes"]
    assert "59 min of its 60 min" in error.errors["minimum_minutes"][0]
    assert stage(case, "cement_set").actual_end is None
    assert not events(case, action=CaseAction.STAGE_FINISH, stage_kind="cement_set")

    clock.shift(timedelta(seconds=1))
    stage_finish(case=case, kind="cement_set", by=nurse_user)
    (finished,) = events(case, action=CaseAction.STAGE_FINISH, stage_kind="cement_set")
    assert (finished.exception, finished.reason) == ("", "")


def test_a_nurse_may_finish_the_cement_set_early_with_a_reason(case, nurse_user, clock):
    to_cement_set(case, nurse_user, clock)
    clock.shift(timedelta(minutes=50))
    reason = "Surgeon confirmed the cement set on fluoroscopy."

    stage_finish(case=case, kind="cement_set", by=nurse_user, early_reason=reason)

    assert stage(case, "cement_set").actual_end is not None
    (finished,) = events(case, action=CaseAction.STAGE_FINISH, stage_kind="cement_set")
    assert (finished.by, finished.exception, finished.unmet, finished.reason) == (
        nurse_user, "stage_too_early", ["minimum_minutes"], reason
    )


def test_a_stage_minimum_is_set_per_procedure_type(unit, case, nurse_user, clock):
    ProcedureType.objects.get(code="vertebroplasty").stage_templates.filter(
        kind="pre_op"
    ).update(minimum_minutes=30)
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    clock.shift(timedelta(minutes=20))
    error = refused("stage_too_early", stage_finish, case=case, kind="pre_op", by=nurse_user)
    assert "20 min of its 30 min" in error.detail
    clock.shift(timedelta(minutes=10))
    stage_finish(case=case, kind="pre_op", by=nurse_user)


def test_a_stage_without_a_minimum_finishes_at_once(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    stage_finish(case=case, kind="pre_op", by=nurse_user)
    assert stage(case, "pre_op").actual_end == ARRIVAL


# The discharge assessment


def test_the_assessment_waits_for_recovery(case, nurse_user, clock):
    to_cement_set(case, nurse_user, clock)
    error = refused(
        "not_in_recovery", discharge_assess, case=case, scores=FULL_SCORE, by=nurse_user
    )
    assert error.status == 409
    assert not DischargeAssessment.objects.exists()


def test_the_assessment_keeps_each_score_and_the_total(case, nurse_user, clock):
    to_recovery(case, nurse_user, clock)
    scores = FULL_SCORE | {"activity": 1, "consciousness": 0}
    assessment = discharge_assess(case=case, scores=scores, by=nurse_user)
    assessment.refresh_from_db()
    assert (assessment.total, assessment.activity, assessment.consciousness) == (7, 1, 0)
    assert assessment.by == nurse_user


# Discharge by the criteria

CRITERIA = ["recovery_minimum", "discharge_score", "recovery_vitals", "driver_present"]


def ready_but(case, nurse, clock, missing: str):
    """In recovery with every discharge criterion met but `missing`."""
    to_recovery(case, nurse, clock)
    if missing != "recovery_vitals":
        vitals_record(case=case, phase="recovery", values=GOOD_VITALS, by=nurse)
    if missing != "discharge_score":
        discharge_assess(case=case, scores=FULL_SCORE, by=nurse)
    if missing != "driver_present":
        checklist_update(case=case, by=nurse, driver_present=True)
    clock.shift(timedelta(minutes=29 if missing == "recovery_minimum" else 30))


@pytest.mark.parametrize("missing", CRITERIA)
def test_discharge_names_the_one_criterion_unmet(case, nurse_user, clock, missing):
    ready_but(case, nurse_user, clock, missing)

    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)

    assert error.status == 409
    assert list(error.errors) == [missing]
    assert fresh(case).status == CaseStatus.IN_RECOVERY
    assert stage(case, "recovery").actual_end is None
    assert not events(case, action=CaseAction.DISCHARGE)


def test_discharge_names_every_criterion_unmet(unit, clock, nurse_user):
    case = monday_case(unit, clock, driver_name="")
    to_recovery(case, nurse_user, clock)
    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)
    assert list(error.errors) == [
        "recovery_minimum", "discharge_score", "recovery_vitals", "driver_named"
    ]
    assert "Recovery has lasted 0 min; the minimum is 30 min." in error.detail


def test_pre_op_vitals_are_not_recovery_vitals(case, nurse_user, clock):
    ready_but(case, nurse_user, clock, "recovery_vitals")
    vitals_record(case=case, phase="pre_op", values=GOOD_VITALS, by=nurse_user)
    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)
    assert list(error.errors) == ["recovery_vitals"]


def test_recovery_vitals_wait_for_recovery(case, nurse_user, clock):
    to_cement_set(case, nurse_user, clock)
    error = refused(
        "not_in_recovery", vitals_record,
        case=case, phase="recovery", values=GOOD_VITALS, by=nurse_user,
    )
    assert error.status == 409
    assert not VitalSigns.objects.filter(phase="recovery").exists()


def test_the_latest_assessment_decides(case, nurse_user, clock):
    ready_but(case, nurse_user, clock, "nothing")
    clock.shift(timedelta(minutes=1))
    discharge_assess(case=case, scores=FULL_SCORE | {"activity": 0}, by=nurse_user)
    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)
    assert error.errors == {
        "discharge_score": ["The latest Aldrete score is 8; at least 9 is needed."]
    }


def test_the_sites_minimums_decide(unit, case, nurse_user, clock):
    unit.recovery_minimum_minutes = 45
    unit.discharge_score_minimum = 8
    unit.save(update_fields=["recovery_minimum_minutes", "discharge_score_minimum"])
    to_recovery(case, nurse_user, clock)
    vitals_record(case=case, phase="recovery", values=GOOD_VITALS, by=nurse_user)
    discharge_assess(case=case, scores=FULL_SCORE | {"activity": 0}, by=nurse_user)
    checklist_update(case=case, by=nurse_user, driver_present=True)
    clock.shift(timedelta(minutes=44))
    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)
    assert list(error.errors) == ["recovery_minimum"]
    clock.shift(timedelta(minutes=1))
    assert case_discharge(case=case, by=nurse_user).status == CaseStatus.DISCHARGED


def test_discharge_in_a_running_recovery_ends_it_and_undo_resumes_it(case, nurse_user, clock):
    ready_but(case, nurse_user, clock, "nothing")
    discharged_at = ARRIVAL + timedelta(minutes=40 + 45 + 60 + 30)

    case_discharge(case=case, by=nurse_user)

    assert fresh(case).status == CaseStatus.DISCHARGED
    assert stage(case, "recovery").actual_end == discharged_at
    (discharge,) = events(case, action=CaseAction.DISCHARGE)
    assert (discharge.stage_kind, discharge.exception) == ("recovery", "")

    clock.shift(timedelta(minutes=1))
    case_undo(case=case, by=nurse_user)
    assert fresh(case).status == CaseStatus.IN_RECOVERY
    assert stage(case, "recovery").actual_end is None
    assert stage(case, "recovery").actual_start is not None


def test_a_clinician_may_discharge_anyway_with_a_reason(
    case, nurse_user, clinician_user, clock
):
    ready_but(case, nurse_user, clock, "recovery_minimum")
    reason = "Patient transferred to the ward for observation."

    case_discharge(case=case, by=clinician_user, override_reason=reason)

    assert fresh(case).status == CaseStatus.DISCHARGED
    (discharge,) = events(case, action=CaseAction.DISCHARGE)
    assert (discharge.by, discharge.exception, discharge.unmet, discharge.reason) == (
        clinician_user, "discharge_criteria_not_met", ["recovery_minimum"], reason
    )


def test_a_nurses_reason_to_discharge_early_is_refused_and_nothing_is_written(
    case, nurse_user, clock
):
    ready_but(case, nurse_user, clock, "discharge_score")
    error = refused(
        "permission_denied", case_discharge,
        case=case, by=nurse_user, override_reason="Driver cannot wait.",
    )
    assert error.status == 403
    assert fresh(case).status == CaseStatus.IN_RECOVERY
    assert stage(case, "recovery").actual_end is None
    assert not events(case, action=CaseAction.DISCHARGE)


def test_a_reason_is_not_recorded_when_every_criterion_is_met(case, nurse_user, clock):
    ready_but(case, nurse_user, clock, "nothing")
    case_discharge(case=case, by=nurse_user, override_reason="Just in case.")
    (discharge,) = events(case, action=CaseAction.DISCHARGE)
    assert (discharge.exception, discharge.reason) == ("", "")
