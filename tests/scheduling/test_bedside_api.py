"""The nurses' rules through the API: the checklist (PATCH and GET), vitals, the discharge
assessment, and the 409s of the procedure, the cement set and the discharge with the reasons that
bend them, each shown in the case's history with who, when and why; roles and site scoping."""

from datetime import datetime, timedelta

import pytest
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.bedside_models import ChecklistItem, ChecklistTick, DischargeAssessment, VitalSigns
from scheduling.models import Case, CaseEvent, CaseStatus, ProcedureType, Stage
from tests.conftest import client_for
from tests.factories import FULL_SCORE, GOOD_VITALS, SiteFactory, case_made

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"
MONDAY_START = "2026-03-02T10:00:00-05:00"  # arrival 08:30 in New York
ARRIVAL = datetime.fromisoformat("2026-03-02T13:30:00+00:00")
TICKS = {
    "consent_signed": True, "imaging_verified": True, "fasting_confirmed": True,
    "medications_held_confirmed": True, "iv_placed": True, "driver_confirmed": True,
}


def book_monday(site, **made) -> int:
    return case_made(site=site, start=MONDAY_START, **made).pk


@pytest.fixture
def case_id(unit, front_desk, clock):
    booked = book_monday(unit, by=front_desk.user)
    clock.move_to(ARRIVAL)
    return booked


def call(client, case_id, action, body=None, method="post"):
    return getattr(client, method)(f"{URL}{case_id}/{action}/", body, format="json")


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def refused(response, status, code):
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    return response.json()


def checklist(client, case_id, body):
    return call(client, case_id, "checklist", body, "patch")


def to_procedure(client, case_id, clock):
    """Checked in, pre-op started and finished 40 minutes later."""
    ok(call(client, case_id, "check-in"))
    ok(call(client, case_id, "stages/pre_op/start"))
    clock.shift(timedelta(minutes=40))
    ok(call(client, case_id, "stages/pre_op/finish"))


def ready_for_procedure(client, case_id):
    ok(checklist(client, case_id, TICKS))
    ok(call(client, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS}), 201)


def to_cement_set(client, case_id, clock):
    to_procedure(client, case_id, clock)
    ready_for_procedure(client, case_id)
    ok(call(client, case_id, "stages/procedure/start"))
    clock.shift(timedelta(minutes=45))
    ok(call(client, case_id, "stages/procedure/finish"))
    ok(call(client, case_id, "stages/cement_set/start"))


def to_recovery(client, case_id, clock):
    to_cement_set(client, case_id, clock)
    clock.shift(timedelta(minutes=60))
    ok(call(client, case_id, "stages/cement_set/finish"))
    ok(call(client, case_id, "stages/recovery/start"))


def history(client, case_id):
    return ok(client.get(f"{URL}{case_id}/"))["history"]


def at(text):
    return datetime.fromisoformat(text)


# The checklist


def test_the_checklist_answers_its_items_labels_and_what_is_missing(case_id, nurse):
    body = ok(nurse.get(f"{URL}{case_id}/checklist/"))
    assert body == {
        "items": {**dict.fromkeys(TICKS, False), "preop_vitals": False},
        "labels": {
            "consent_signed": "Consent signed",
            "imaging_verified": "Imaging verified",
            "fasting_confirmed": "Fasting confirmed",
            "medications_held_confirmed": "Held medicines confirmed stopped",
            "iv_placed": "IV placed",
            "driver_confirmed": "Driver confirmed",
            "preop_vitals": "Pre-op vitals recorded",
        },
        "complete": False,
        "missing": [*TICKS, "preop_vitals"],
        "inr": None,
        "inr_limit": 1.5,
        "driver_present": False,
    }


def test_patching_ticks_items_and_answers_the_checklist(case_id, nurse):
    body = ok(checklist(nurse, case_id, {"consent_signed": True, "iv_placed": True}))
    assert body["items"]["consent_signed"] is body["items"]["iv_placed"] is True
    assert body["missing"] == [
        "imaging_verified", "fasting_confirmed", "medications_held_confirmed",
        "driver_confirmed", "preop_vitals",
    ]
    assert body["complete"] is False
    body = ok(checklist(nurse, case_id, {"iv_placed": False, "driver_present": True}))
    assert body["items"]["iv_placed"] is False
    assert body["driver_present"] is True
    assert ok(nurse.get(f"{URL}{case_id}/checklist/")) == body
    tick = ChecklistTick.objects.get(case_id=case_id, code="consent_signed")
    assert (tick.by, tick.at) == (nurse.user, ARRIVAL)


def test_the_checklist_is_complete_with_the_ticks_and_pre_op_vitals(case_id, nurse):
    ok(call(nurse, case_id, "check-in"))
    ready_for_procedure(nurse, case_id)
    body = ok(nurse.get(f"{URL}{case_id}/checklist/"))
    assert (body["complete"], body["missing"], body["items"]["preop_vitals"]) == (True, [], True)


def test_the_inr_is_asked_for_warfarin_and_met_at_or_under_the_limit(unit, front_desk, nurse,
                                                                     clock):
    case_id = book_monday(unit, by=front_desk.user, medications=["warfarin"])
    body = ok(checklist(nurse, case_id, TICKS))
    assert body["items"]["inr"] is False
    assert "inr" in body["labels"]
    assert ok(checklist(nurse, case_id, {"inr": 1.6}))["missing"] == ["preop_vitals", "inr"]
    body = ok(checklist(nurse, case_id, {"inr": 1.5}))
    assert (body["inr"], body["items"]["inr"], body["missing"]) == (1.5, True, ["preop_vitals"])
    body = ok(checklist(nurse, case_id, {"inr": None}))
    assert (body["inr"], body["items"]["inr"]) == (None, False)


def test_the_inr_is_not_asked_without_a_drug_that_needs_it(unit, front_desk, nurse):
    case_id = book_monday(unit, by=front_desk.user, medications=["clopidogrel"])
    assert "inr" not in ok(nurse.get(f"{URL}{case_id}/checklist/"))["items"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"allergy_band": True}, "unknown_checklist_item", "allergy_band"),
        ({"preop_vitals": True}, "unknown_checklist_item", "preop_vitals"),
        ({"inr": True}, "invalid", "inr"),
        ({"inr": "1.2"}, "invalid", "inr"),
        ({"inr": 12}, "invalid", "inr"),
        ({"inr": 0.2}, "invalid", "inr"),
        ({"consent_signed": "yes"}, "invalid", "consent_signed"),
        ({"consent_signed": 1}, "invalid", "consent_signed"),
        ({"driver_present": None}, "invalid", "driver_present"),
    ],
)
def test_a_bad_checklist_value_is_400_naming_the_field(case_id, nurse, body, code, field):
    response = checklist(nurse, case_id, {"iv_placed": True, **body})
    assert field in refused(response, 400, code)["errors"]
    assert not ChecklistTick.objects.filter(case_id=case_id).exists()
    assert Case.objects.get(pk=case_id).inr is None


def test_a_checklist_body_that_is_not_an_object_is_400(case_id, nurse):
    refused(checklist(nurse, case_id, ["consent_signed"]), 400, "invalid")


def test_a_site_added_item_is_ticked_like_the_others(unit, case_id, nurse):
    ChecklistItem.objects.create(site=unit, code="allergy_band", label="Allergy band on",
                                 position=5)
    body = ok(checklist(nurse, case_id, {"allergy_band": True}))
    assert body["items"]["allergy_band"] is True
    assert body["labels"]["allergy_band"] == "Allergy band on"
    # In its position; after the standard item already there.
    assert list(body["items"])[5:8] == ["driver_confirmed", "allergy_band", "preop_vitals"]


def test_a_procedure_types_item_switches_a_site_item_off(unit, case_id, nurse):
    ChecklistItem.objects.create(
        site=unit, procedure_type=ProcedureType.objects.get(code="vertebroplasty"),
        code="driver_confirmed", label="Driver confirmed", active=False,
    )
    body = ok(nurse.get(f"{URL}{case_id}/checklist/"))
    assert "driver_confirmed" not in body["items"]
    response = checklist(nurse, case_id, {"driver_confirmed": True})
    assert "driver_confirmed" in refused(response, 400, "unknown_checklist_item")["errors"]


def test_the_front_desk_may_read_the_checklist_but_not_change_it(case_id, front_desk):
    ok(front_desk.get(f"{URL}{case_id}/checklist/"))
    refused(checklist(front_desk, case_id, {"consent_signed": True}), 403, "permission_denied")
    refused(checklist(front_desk, case_id, {"driver_present": True}), 403, "permission_denied")
    assert not ChecklistTick.objects.exists()
    assert Case.objects.get(pk=case_id).driver_present_at is None


def test_another_sites_case_is_404_for_every_bedside_call(case_id):
    north = SiteFactory(code="north", name="North Clinic")
    stranger = client_for(roles.NURSE, roles.CLINICIAN, sites=[north])
    assert stranger.get(f"{URL}{case_id}/checklist/").status_code == 404
    for action, body, method in [
        ("checklist", {"consent_signed": True}, "patch"),
        ("vitals", {"phase": "pre_op", **GOOD_VITALS}, "post"),
        ("discharge-assessment", FULL_SCORE, "post"),
        ("stages/procedure/start", {"override_reason": "Urgent."}, "post"),
        ("stages/cement_set/finish", {"early_reason": "Set."}, "post"),
        ("discharge", {"override_reason": "Transfer."}, "post"),
    ]:
        refused(call(stranger, case_id, action, body, method), 404, "not_found")
    assert not ChecklistTick.objects.exists()
    assert not VitalSigns.objects.exists()


def test_the_checklist_needs_a_login(case_id):
    assert APIClient().get(f"{URL}{case_id}/checklist/").status_code == 401


# Vitals


def test_vitals_are_recorded_with_their_alerts(unit, case_id, nurse):
    ok(call(nurse, case_id, "check-in"))
    body = ok(call(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS, "spo2": 90}), 201)
    assert body["alerts"] == ["spo2_low"]
    assert (body["phase"], body["spo2"], body["by"]) == ("pre_op", 90, nurse.user.username)
    assert at(body["taken_at"]) == ARRIVAL
    assert ok(call(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS}), 201)[
        "alerts"
    ] == []

    unit.spo2_alert_low = 88
    unit.save(update_fields=["spo2_alert_low"])
    body = ok(call(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS, "spo2": 90}), 201)
    assert body["alerts"] == []
    assert VitalSigns.objects.filter(case_id=case_id).count() == 3


@pytest.mark.parametrize(
    ("changes", "field", "code"),  # "invalid": what the JSON input's checks say, by field
    [
        ({"spo2": 101}, "spo2", "vitals_out_of_range"),
        ({"systolic": 20}, "systolic", "vitals_out_of_range"),
        ({"systolic": 120, "diastolic": 120}, "diastolic", "vitals_out_of_range"),
        ({"resp_rate": 99}, "resp_rate", "vitals_out_of_range"),
        ({"heart_rate": "72"}, "heart_rate", "invalid"),
        ({"spo2": 97.5}, "spo2", "invalid"),
        ({"phase": "surgery"}, "phase", "invalid"),
        ({"systolic": None}, "systolic", "invalid"),
    ],
)
def test_impossible_or_malformed_vitals_are_400_naming_the_field(case_id, nurse, changes, field,
                                                                 code):
    ok(call(nurse, case_id, "check-in"))
    response = call(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS, **changes})
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    if code == "vitals_out_of_range":
        assert response.json()["code"] == code
    assert not VitalSigns.objects.exists()


def test_a_vital_left_out_is_400_naming_it(case_id, nurse):
    ok(call(nurse, case_id, "check-in"))
    vitals = {"phase": "recovery", **GOOD_VITALS}
    del vitals["resp_rate"]
    response = call(nurse, case_id, "vitals", vitals)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["resp_rate"]


def test_vitals_before_check_in_are_409(case_id, nurse):
    response = call(nurse, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS})
    refused(response, 409, "not_checked_in")


def test_recovery_vitals_before_recovery_are_409(case_id, nurse, clock):
    to_cement_set(nurse, case_id, clock)
    response = call(nurse, case_id, "vitals", {"phase": "recovery", **GOOD_VITALS})
    refused(response, 409, "not_in_recovery")


# The discharge assessment


def test_the_assessment_is_recorded_with_its_total(case_id, nurse, clock):
    to_recovery(nurse, case_id, clock)
    body = ok(call(nurse, case_id, "discharge-assessment", FULL_SCORE | {"activity": 1}), 201)
    assert (body["total"], body["activity"], body["meets_minimum"]) == (9, 1, True)
    assert body["by"] == nurse.user.username
    body = ok(call(nurse, case_id, "discharge-assessment", FULL_SCORE | {"circulation": 0}), 201)
    assert (body["total"], body["meets_minimum"]) == (8, False)
    assert DischargeAssessment.objects.filter(case_id=case_id).count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"activity": 3}, "activity"), ({"consciousness": -1}, "consciousness"),
     ({"respiration": "2"}, "respiration"), ({"oxygen_saturation": None}, "oxygen_saturation")],
)
def test_a_score_out_of_0_to_2_is_400_naming_it(case_id, nurse, clock, changes, field):
    to_recovery(nurse, case_id, clock)
    response = call(nurse, case_id, "discharge-assessment", FULL_SCORE | changes)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not DischargeAssessment.objects.exists()


def test_the_assessment_before_recovery_is_409(case_id, nurse, clock):
    to_cement_set(nurse, case_id, clock)
    refused(call(nurse, case_id, "discharge-assessment", FULL_SCORE), 409, "not_in_recovery")


def test_the_front_desk_may_not_record_vitals_or_scores(case_id, front_desk, nurse, clock):
    to_recovery(nurse, case_id, clock)
    refused(call(front_desk, case_id, "vitals", {"phase": "recovery", **GOOD_VITALS}), 403,
            "permission_denied")
    refused(call(front_desk, case_id, "discharge-assessment", FULL_SCORE), 403,
            "permission_denied")


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
