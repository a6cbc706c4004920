"""Stage tracking services: check-in, stages in order, discharge, undo within two minutes."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseAction, CaseEvent, CaseStatus, Stage
from scheduling.services import case_cancel, case_mark_no_show
from scheduling.services.tracking import (
    case_check_in,
    case_discharge,
    case_undo,
    stage_finish,
    stage_start,
)
from tests.factories import (
    ONE_CLOCK,
    UserFactory,
    case_made,
    case_ready_for_discharge,
    case_ready_for_procedure,
)

pytestmark = pytest.mark.django_db

MONDAY_START = datetime.fromisoformat("2026-03-02T10:00:00-05:00")  # arrival 08:30 New York
KINDS = ["pre_op", "procedure", "cement_set", "recovery"]


@pytest.fixture
def nurse_user(db):
    return UserFactory(roles=[roles.NURSE])


@pytest.fixture
def desk_user(db):
    return UserFactory(roles=[roles.FRONT_DESK])


@pytest.fixture
def case(unit, clock):
    booked = case_made(site=unit, start=MONDAY_START)
    clock.move_to("2026-03-02T13:30:00+00:00")  # 08:30 in New York, the arrival time
    return booked


def stage(case, kind):
    return Stage.objects.get(case_id=case.pk, kind=kind)


def status(case):
    return Case.objects.get(pk=case.pk).status


def refused(code, call, **kwargs):
    with pytest.raises(SchedulingError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.detail
    return error.value


# How long each stage lasts in these walks: the cement set its full hour.
LASTS = {"pre_op": 40, "procedure": 40, "cement_set": 60, "recovery": 40}


def walk_to_recovery(case, by, clock):
    """Check-in, the checklist done in pre-op, each stage lasting LASTS, recovery started."""
    case_check_in(case=case, by=by)
    for kind in KINDS:
        clock.shift(timedelta(minutes=10))
        if kind == "procedure":
            case_ready_for_procedure(case, nurse=by)
        stage_start(case=case, kind=kind, by=by)
        if kind == "recovery":
            return
        clock.shift(timedelta(minutes=LASTS[kind]))
        stage_finish(case=case, kind=kind, by=by)


def walk_to_discharge(case, by, clock):
    walk_to_recovery(case, by, clock)
    case_ready_for_discharge(case, nurse=by)
    clock.shift(timedelta(minutes=LASTS["recovery"]))
    return case_discharge(case=case, by=by)


def test_a_case_goes_from_check_in_through_every_stage_to_discharged(case, nurse_user, clock):
    case_check_in(case=case, by=nurse_user)
    assert status(case) == CaseStatus.CHECKED_IN
    expected = {
        "pre_op": CaseStatus.IN_PRE_OP,
        "procedure": CaseStatus.IN_PROCEDURE,
        "cement_set": CaseStatus.CEMENT_SETTING,
        "recovery": CaseStatus.IN_RECOVERY,
    }
    for kind in KINDS:
        clock.shift(timedelta(minutes=10))
        if kind == "procedure":
            case_ready_for_procedure(case, nurse=nurse_user)
        started_at = timezone.now()
        stage_start(case=case, kind=kind, by=nurse_user)
        assert status(case) == expected[kind]
        clock.shift(timedelta(minutes=LASTS[kind]))
        if kind == "recovery":
            case_ready_for_discharge(case, nurse=nurse_user)
            discharged = case_discharge(case=case, by=nurse_user)
        else:
            stage_finish(case=case, kind=kind, by=nurse_user)
        row = stage(case, kind)
        assert row.actual_start == started_at
        assert row.actual_end == started_at + timedelta(minutes=LASTS[kind])

    assert discharged.status == status(case) == CaseStatus.DISCHARGED
    events = list(CaseEvent.objects.filter(case_id=case.pk).order_by("at", "id"))
    assert [(e.action, e.stage_kind) for e in events] == [
        (CaseAction.CHECK_IN, ""),
        *[(action, kind) for kind in KINDS[:3]
          for action in (CaseAction.STAGE_START, CaseAction.STAGE_FINISH)],
        (CaseAction.STAGE_START, "recovery"),
        (CaseAction.DISCHARGE, "recovery"),  # the discharge finished the recovery
    ]
    assert {e.by for e in events} == {nurse_user}
    assert {(e.exception, e.reason) for e in events} == {("", "")}  # no rule was bent
    assert events[0].at == datetime.fromisoformat("2026-03-02T13:30:00+00:00")


def test_check_in_keeps_who_and_when(case, desk_user):
    case_check_in(case=case, by=desk_user)
    event = CaseEvent.objects.get(case_id=case.pk)
    assert (event.action, event.by, event.status_before) == (
        CaseAction.CHECK_IN, desk_user, CaseStatus.BOOKED
    )
    assert event.at == datetime.fromisoformat("2026-03-02T13:30:00+00:00")


def test_check_in_only_on_the_case_day(unit, nurse_user):
    tuesday = case_made(site=unit, start="2026-03-03T10:00:00-05:00")
    refused("not_case_day", case_check_in, case=tuesday, by=nurse_user)
    assert status(tuesday) == CaseStatus.BOOKED


def test_checking_in_twice_is_refused(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    refused("already_checked_in", case_check_in, case=case, by=nurse_user)
    assert CaseEvent.objects.count() == 1


def test_starting_a_stage_twice_is_refused(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    first_start = stage(case, "pre_op").actual_start
    error = refused("already_started", stage_start, case=case, kind="pre_op", by=nurse_user)
    assert "already started at 08:30" in error.detail
    assert stage(case, "pre_op").actual_start == first_start
    assert error.status == 409


def test_finishing_a_stage_not_started_is_refused(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    refused("not_started", stage_finish, case=case, kind="pre_op", by=nurse_user)
    assert stage(case, "pre_op").actual_end is None


def test_finishing_a_stage_twice_is_refused(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    stage_finish(case=case, kind="pre_op", by=nurse_user)
    refused("already_finished", stage_finish, case=case, kind="pre_op", by=nurse_user)


def test_starting_the_procedure_before_check_in_is_refused(case, nurse_user):
    refused("not_checked_in", stage_start, case=case, kind="procedure", by=nurse_user)
    refused("not_checked_in", stage_start, case=case, kind="pre_op", by=nurse_user)
    assert stage(case, "procedure").actual_start is None
    assert status(case) == CaseStatus.BOOKED


def test_a_stage_waits_for_the_one_before_to_finish(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    error = refused("wrong_order", stage_start, case=case, kind="procedure", by=nurse_user)
    assert error.detail == "Finish pre-op before starting procedure."
    stage_start(case=case, kind="pre_op", by=nurse_user)
    refused("wrong_order", stage_start, case=case, kind="procedure", by=nurse_user)
    refused("wrong_order", stage_start, case=case, kind="recovery", by=nurse_user)
    assert status(case) == CaseStatus.IN_PRE_OP


def test_a_kind_the_case_does_not_have_is_refused(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    refused("unknown_stage", stage_start, case=case, kind="x-ray", by=nurse_user)


def test_acting_on_a_cancelled_case_is_refused(case, nurse_user):
    case_cancel(case=case, reason="Patient has a fever", by=nurse_user)
    refused("case_not_active", case_check_in, case=case, by=nurse_user)
    refused("case_not_active", stage_start, case=case, kind="pre_op", by=nurse_user)
    refused("case_not_active", stage_finish, case=case, kind="pre_op", by=nurse_user)
    refused("case_not_active", case_discharge, case=case, by=nurse_user)
    refused("case_not_active", case_undo, case=case, by=nurse_user)
    assert status(case) == CaseStatus.CANCELLED


def test_a_case_cancelled_after_check_in_cannot_be_undone_back_to_booked(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    case_cancel(case=case, reason="Blood pressure too high", by=nurse_user)
    refused("case_not_active", case_undo, case=case, by=nurse_user)
    assert status(case) == CaseStatus.CANCELLED


def test_acting_on_a_no_show_is_refused(case, nurse_user, clock):
    clock.shift(timedelta(minutes=1))
    case_mark_no_show(case=case, by=nurse_user)
    refused("case_not_active", case_check_in, case=case, by=nurse_user)


def test_a_discharged_case_takes_no_more_steps(case, nurse_user, clock):
    walk_to_discharge(case, nurse_user, clock)
    refused("case_not_active", case_discharge, case=case, by=nurse_user)
    refused("case_not_active", stage_start, case=case, kind="recovery", by=nurse_user)


def test_discharge_waits_for_recovery_to_start(case, nurse_user, clock):
    refused("not_checked_in", case_discharge, case=case, by=nurse_user)
    case_check_in(case=case, by=nurse_user)
    for kind in KINDS[:3]:
        if kind == "procedure":
            case_ready_for_procedure(case, nurse=nurse_user)
        stage_start(case=case, kind=kind, by=nurse_user)
        stage_finish(case=case, kind=kind, by=nurse_user, early_reason=ONE_CLOCK)
    error = refused("wrong_order", case_discharge, case=case, by=nurse_user)
    assert error.detail == "Start recovery before discharging the patient."
    assert status(case) == CaseStatus.CEMENT_SETTING


def test_discharge_needs_a_named_driver(unit, nurse_user, clock):
    case = case_made(site=unit, start=MONDAY_START, driver_name="")
    clock.move_to("2026-03-02T13:30:00+00:00")
    walk_to_recovery(case, nurse_user, clock)
    case_ready_for_discharge(case, nurse=nurse_user)
    clock.shift(timedelta(minutes=45))
    error = refused("discharge_criteria_not_met", case_discharge, case=case, by=nurse_user)
    assert list(error.errors) == ["driver_named"]
    assert status(case) == CaseStatus.IN_RECOVERY


def test_undo_a_stage_start_restores_the_status_and_clears_the_time(case, nurse_user, clock):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    clock.shift(timedelta(seconds=119))

    case_undo(case=case, by=nurse_user)

    assert status(case) == CaseStatus.CHECKED_IN
    assert stage(case, "pre_op").actual_start is None
    event = CaseEvent.objects.get(action=CaseAction.STAGE_START)
    assert event.undone_by == nurse_user
    assert event.undone_at == datetime.fromisoformat("2026-03-02T13:31:59+00:00")
    # The stage can be started again, now.
    stage_start(case=case, kind="pre_op", by=nurse_user)
    assert stage(case, "pre_op").actual_start == event.undone_at


def test_undo_steps_back_one_step_at_a_time(case, nurse_user):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    stage_finish(case=case, kind="pre_op", by=nurse_user)

    case_undo(case=case, by=nurse_user)
    assert stage(case, "pre_op").actual_end is None
    assert stage(case, "pre_op").actual_start is not None
    assert status(case) == CaseStatus.IN_PRE_OP
    case_undo(case=case, by=nurse_user)
    case_undo(case=case, by=nurse_user)
    assert status(case) == CaseStatus.BOOKED
    refused("nothing_to_undo", case_undo, case=case, by=nurse_user)


def test_undo_a_check_in_goes_back_to_confirmed(case, nurse_user):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CONFIRMED)
    case_check_in(case=case, by=nurse_user)
    case_undo(case=case, by=nurse_user)
    assert status(case) == CaseStatus.CONFIRMED


def test_undo_a_discharge_resumes_the_recovery_it_finished(case, nurse_user, clock):
    walk_to_discharge(case, nurse_user, clock)
    assert stage(case, "recovery").actual_end is not None
    case_undo(case=case, by=nurse_user)
    assert status(case) == CaseStatus.IN_RECOVERY
    assert stage(case, "recovery").actual_end is None


def test_undo_after_two_minutes_is_refused(case, nurse_user, clock):
    case_check_in(case=case, by=nurse_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    clock.shift(timedelta(minutes=3))
    error = refused("undo_expired", case_undo, case=case, by=nurse_user)
    assert "08:30" in error.detail
    assert status(case) == CaseStatus.IN_PRE_OP
    assert stage(case, "pre_op").actual_start is not None


def test_undo_at_exactly_two_minutes_is_refused(case, nurse_user, clock):
    case_check_in(case=case, by=nurse_user)
    clock.shift(timedelta(minutes=2))
    refused("undo_expired", case_undo, case=case, by=nurse_user)


def test_nothing_to_undo_on_a_booked_case(case, nurse_user):
    refused("nothing_to_undo", case_undo, case=case, by=nurse_user)


def test_the_front_desk_may_undo_a_check_in_but_not_a_stage(case, desk_user, nurse_user):
    case_check_in(case=case, by=desk_user)
    case_undo(case=case, by=desk_user)
    assert status(case) == CaseStatus.BOOKED
    case_check_in(case=case, by=desk_user)
    stage_start(case=case, kind="pre_op", by=nurse_user)
    refused("permission_denied", case_undo, case=case, by=desk_user)
    assert status(case) == CaseStatus.IN_PRE_OP
