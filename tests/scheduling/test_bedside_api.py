"""The nurses' records through the API: the checklist (PATCH and GET, per site and procedure
type, the INR), vitals and the discharge assessment; bad input named by field, roles and site
scoping. The rules they feed: test_bedside_api_rules.py."""


import pytest
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.bedside_models import ChecklistItem, ChecklistTick, DischargeAssessment, VitalSigns
from scheduling.models import Case, ProcedureType
from tests.conftest import client_for
from tests.factories import FULL_SCORE, GOOD_VITALS, SiteFactory
from tests.scheduling.bedside_calls import (
    ARRIVAL,
    TICKS,
    URL,
    at,
    book_monday,
    call,
    checklist,
    ok,
    ready_for_procedure,
    refused,
    to_cement_set,
    to_recovery,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_id(unit, front_desk, clock):
    booked = book_monday(unit, by=front_desk.user)
    clock.move_to(ARRIVAL)
    return booked


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
