"""Stage tracking through the API: check-in, stages, discharge, undo; roles and site scoping;
two nurses on the same case at the same moment (PostgreSQL)."""

from datetime import timedelta

import pytest

from scheduling import roles
from scheduling.models import Case, CaseAction, CaseEvent, CaseStatus, Stage
from tests.conftest import client_for
from tests.factories import (
    FULL_SCORE,
    GOOD_VITALS,
    ONE_CLOCK,
    SiteFactory,
    case_made,
    case_ready_for_procedure,
)
from tests.threads import run_together

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"
KINDS = ["pre_op", "procedure", "cement_set", "recovery"]
MONDAY_START = "2026-03-02T10:00:00-05:00"  # arrival 08:30 in New York


def book_monday(site, mrn="MRN-1", **made) -> int:
    """The id of a case on Monday (today) at 10:00 New York, booked through the services."""
    return case_made(site=site, start=MONDAY_START, patient={"mrn": mrn}, **made).pk


@pytest.fixture
def case_id(unit, front_desk, clock):
    booked = book_monday(unit, by=front_desk.user)
    clock.move_to("2026-03-02T13:30:00+00:00")  # 08:30 in New York, the arrival time
    return booked


def post(client, case_id, action):
    return client.post(f"{URL}{case_id}/{action}/")


def ok(response):
    assert response.status_code == 200, response.json()
    return response.json()


def send(client, case_id, action, body, method="post"):
    return getattr(client, method)(f"{URL}{case_id}/{action}/", body, format="json")


CHECKLIST_TICKS = {
    "consent_signed": True, "imaging_verified": True, "fasting_confirmed": True,
    "medications_held_confirmed": True, "iv_placed": True, "driver_confirmed": True,
}


def test_a_nurse_takes_a_case_from_check_in_to_discharged(case_id, nurse, clock):
    body = ok(post(nurse, case_id, "check-in"))
    assert body["status"] == "checked_in"
    clock.shift(timedelta(minutes=10))
    assert ok(post(nurse, case_id, "stages/pre_op/start"))["status"] == "in_pre_op"
    checklist = ok(send(nurse, case_id, "checklist", CHECKLIST_TICKS, "patch"))
    assert checklist["missing"] == ["preop_vitals"]
    vitals = send(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS})
    assert vitals.status_code == 201, vitals.json()
    assert ok(nurse.get(f"{URL}{case_id}/checklist/"))["complete"] is True
    clock.shift(timedelta(minutes=45))
    ok(post(nurse, case_id, "stages/pre_op/finish"))
    statuses = []
    for kind, lasts in [("procedure", 45), ("cement_set", 60)]:
        clock.shift(timedelta(minutes=10))
        statuses.append(ok(post(nurse, case_id, f"stages/{kind}/start"))["status"])
        clock.shift(timedelta(minutes=lasts))
        ok(post(nurse, case_id, f"stages/{kind}/finish"))
    clock.shift(timedelta(minutes=10))
    assert ok(post(nurse, case_id, "stages/recovery/start"))["status"] == "in_recovery"
    clock.shift(timedelta(minutes=20))
    assert send(nurse, case_id, "vitals", {"phase": "recovery", **GOOD_VITALS}).status_code == 201
    assessment = send(nurse, case_id, "discharge-assessment", FULL_SCORE)
    assert (assessment.status_code, assessment.json()["total"]) == (201, 10)
    assert ok(send(nurse, case_id, "checklist", {"driver_present": True}, "patch"))[
        "driver_present"
    ]
    clock.shift(timedelta(minutes=15))
    body = ok(post(nurse, case_id, "discharge"))

    assert statuses == ["in_procedure", "cement_setting"]
    assert body["status"] == "discharged"
    shown = ok(nurse.get(f"{URL}{case_id}/"))
    assert shown["status"] == "discharged"
    # 08:30 check-in; each stage starts 10 min after the one before ended; the discharge ends
    # the recovery 35 minutes in.
    assert [(s["kind"], s["actual_start"], s["actual_end"]) for s in shown["stages"]] == [
        ("pre_op", "2026-03-02T08:40:00-05:00", "2026-03-02T09:25:00-05:00"),
        ("procedure", "2026-03-02T09:35:00-05:00", "2026-03-02T10:20:00-05:00"),
        ("cement_set", "2026-03-02T10:30:00-05:00", "2026-03-02T11:30:00-05:00"),
        ("recovery", "2026-03-02T11:40:00-05:00", "2026-03-02T12:15:00-05:00"),
    ]
    assert [(step["action"], step["stage"]) for step in shown["history"]][-1] == (
        "discharge", "recovery"
    )
    assert all(step["exception"] == "" for step in shown["history"])


def test_a_wrong_order_step_answers_409_with_its_code(case_id, nurse):
    response = post(nurse, case_id, "stages/procedure/start")
    assert response.status_code == 409
    assert response.json()["code"] == "not_checked_in"
    ok(post(nurse, case_id, "check-in"))
    response = post(nurse, case_id, "stages/procedure/start")
    assert response.status_code == 409
    assert response.json() == {
        "code": "wrong_order",
        "detail": "Finish pre-op before starting procedure.",
        "errors": {},
    }
    response = post(nurse, case_id, "stages/pre_op/finish")
    assert (response.status_code, response.json()["code"]) == (409, "not_started")


def test_starting_a_stage_twice_answers_409(case_id, nurse):
    ok(post(nurse, case_id, "check-in"))
    ok(post(nurse, case_id, "stages/pre_op/start"))
    again = post(nurse, case_id, "stages/pre_op/start")
    assert again.status_code == 409
    assert again.json()["code"] == "already_started"
    assert "already started at 08:30" in again.json()["detail"]


def test_an_unknown_stage_kind_is_404_with_its_code(case_id, nurse):
    ok(post(nurse, case_id, "check-in"))
    response = post(nurse, case_id, "stages/x-ray/start")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_stage"


def test_acting_on_a_cancelled_case_answers_409(case_id, front_desk, nurse):
    front_desk.post(f"{URL}{case_id}/cancel/", {"reason": "Fever"}, format="json")
    for action in ["check-in", "stages/pre_op/start", "discharge", "undo"]:
        response = post(nurse, case_id, action)
        assert (response.status_code, response.json()["code"]) == (409, "case_not_active")


def test_discharge_without_a_driver_names_the_criterion(unit, front_desk, nurse, clock):
    case_id = book_monday(unit, by=front_desk.user, driver_name="", driver_phone="")
    clock.move_to("2026-03-02T13:30:00+00:00")
    ok(post(nurse, case_id, "check-in"))
    for kind in KINDS:
        if kind == "procedure":
            case_ready_for_procedure(Case.objects.get(pk=case_id), nurse=nurse.user)
        ok(post(nurse, case_id, f"stages/{kind}/start"))
        if kind != "recovery":
            ok(send(nurse, case_id, f"stages/{kind}/finish", {"early_reason": ONE_CLOCK}))
    response = post(nurse, case_id, "discharge")
    assert (response.status_code, response.json()["code"]) == (409, "discharge_criteria_not_met")
    assert set(response.json()["errors"]) == {
        "recovery_minimum", "discharge_score", "recovery_vitals", "driver_named"
    }
    assert Case.objects.get(pk=case_id).status == CaseStatus.IN_RECOVERY


def test_undo_within_two_minutes_and_not_after(case_id, nurse, clock):
    ok(post(nurse, case_id, "check-in"))
    ok(post(nurse, case_id, "stages/pre_op/start"))
    clock.shift(timedelta(seconds=90))
    body = ok(post(nurse, case_id, "undo"))
    assert body["status"] == "checked_in"
    assert body["stages"][0]["actual_start"] is None

    clock.shift(timedelta(minutes=3))
    late = post(nurse, case_id, "undo")
    assert (late.status_code, late.json()["code"]) == (409, "undo_expired")
    assert Case.objects.get(pk=case_id).status == CaseStatus.CHECKED_IN


def test_front_desk_may_check_in_but_not_start_stages(case_id, front_desk, nurse):
    assert ok(post(front_desk, case_id, "check-in"))["status"] == "checked_in"
    for action in ["stages/pre_op/start", "stages/pre_op/finish", "discharge"]:
        response = post(front_desk, case_id, action)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    ok(post(nurse, case_id, "stages/pre_op/start"))
    response = post(front_desk, case_id, "undo")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Stage.objects.get(case_id=case_id, kind="pre_op").actual_start is not None


def test_a_clinician_may_track_stages(case_id, clinician):
    ok(post(clinician, case_id, "check-in"))
    assert ok(post(clinician, case_id, "stages/pre_op/start"))["status"] == "in_pre_op"


def test_an_admin_may_not_track(case_id):
    admin = client_for(roles.ADMIN)
    response = post(admin, case_id, "check-in")
    assert response.status_code == 403


def test_without_login_is_401(case_id):
    from rest_framework.test import APIClient

    response = APIClient().post(f"{URL}{case_id}/check-in/")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_another_sites_case_is_404(case_id):
    elsewhere = SiteFactory(code="north", name="North Clinic")
    stranger = client_for(roles.NURSE, sites=[elsewhere])
    for action in ["check-in", "stages/pre_op/start", "stages/pre_op/finish", "discharge", "undo"]:
        response = post(stranger, case_id, action)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Case.objects.get(pk=case_id).status == CaseStatus.BOOKED


# Two nurses at the same moment, on PostgreSQL


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nurses_starting_the_same_stage_at_once_one_wins_the_other_is_told(unit, clock):
    desk = client_for(roles.FRONT_DESK, sites=[unit])
    case_id = book_monday(unit, by=desk.user)
    clock.move_to("2026-03-02T13:30:00+00:00")
    nurses = [client_for(roles.NURSE, sites=[unit]) for _ in range(2)]
    ok(post(nurses[0], case_id, "check-in"))

    def starting(client):
        def call():
            response = post(client, case_id, "stages/pre_op/start")
            return response.status_code, response.json()

        return call

    results = run_together([starting(client) for client in nurses])

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(status for status, _ in results) == [200, 409]
    (loser,) = [body for status, body in results if status == 409]
    assert loser["code"] == "already_started"
    assert Case.objects.get(pk=case_id).status == CaseStatus.IN_PRE_OP
    assert CaseEvent.objects.filter(case_id=case_id, action=CaseAction.STAGE_START).count() == 1


def test_the_driver_hears_the_pickup_time_when_recovery_starts(unit, front_desk, nurse, clock,
                                                               outbox):
    from notifications import dispatch
    from notifications.models import Reminder

    case = case_made(site=unit, by=front_desk.user)
    url = f"/api/v1/cases/{case.pk}"
    clock.move_to("2026-03-03T12:00:00+00:00")  # 07:00 in New York on the day
    assert nurse.post(f"{url}/check-in/").status_code == 200
    for kind in ["pre_op", "procedure", "cement_set"]:
        if kind == "procedure":
            case_ready_for_procedure(case, nurse=nurse.user)
        assert nurse.post(f"{url}/stages/{kind}/start/").status_code == 200
        finished = nurse.post(
            f"{url}/stages/{kind}/finish/", {"early_reason": ONE_CLOCK}, format="json"
        )
        assert finished.status_code == 200
    clock.move_to("2026-03-03T16:15:00+00:00")  # recovery starts 45 minutes late, 11:15
    assert nurse.post(f"{url}/stages/recovery/start/").status_code == 200
    ready = Reminder.objects.get(case=case, kind="driver_ready")
    assert ready.recipient == "+12125550101"
    dispatch.reminders_dispatch()
    assert "ready to go home at about 13:15" in outbox[-1].text
    nurse.post(f"{url}/undo/")
    nurse.post(f"{url}/stages/recovery/start/")
    assert Reminder.objects.filter(case=case, kind="driver_ready").count() == 1
