"""The nurses' rules for the day, in the services: the pre-op checklist (per site and procedure
type, INR when warfarin is held), vitals (impossible refused, abnormal flagged), the Aldrete
assessment, the cement set's hour, the discharge criteria, and the clinician's reason that
bends them (a nurse's is refused, and nothing is written)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from scheduling import bedside, roles
from scheduling.bedside_models import (
    ChecklistItem,
    ChecklistTick,
    DischargeAssessment,
    VitalSigns,
    VitalsPhase,
)
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseAction, CaseEvent, CaseStatus, ProcedureType, Stage
from scheduling.services.bedside import (
    case_checklist_get,
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
    ProcedureTypeFactory,
    SiteFactory,
    UserFactory,
    case_made,
    case_ready_for_discharge,
    case_ready_for_procedure,
)

pytestmark = pytest.mark.django_db

MONDAY_START = "2026-03-02T10:00:00-05:00"  # arrival 08:30 New York
ARRIVAL = datetime.fromisoformat("2026-03-02T13:30:00+00:00")
TICKABLE = [
    "consent_signed", "imaging_verified", "fasting_confirmed", "medications_held_confirmed",
    "iv_placed", "driver_confirmed",
]
STANDARD = [*TICKABLE, "preop_vitals"]  # and the INR, when a held drug asks for it
ALL_TICKED = dict.fromkeys(TICKABLE, True)


@pytest.fixture
def nurse_user(unit):
    return UserFactory(roles=[roles.NURSE], sites=[unit])


@pytest.fixture
def clinician_user(unit):
    return UserFactory(roles=[roles.CLINICIAN], sites=[unit])


def monday_case(unit, clock, **made):
    case = case_made(site=unit, start=MONDAY_START, **made)
    clock.move_to(ARRIVAL)
    return case


@pytest.fixture
def case(unit, clock):
    return monday_case(unit, clock)


def refused(code, call, **kwargs):
    with pytest.raises(SchedulingError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.detail
    return error.value


def fresh(case):
    return Case.objects.get(pk=case.pk)


def stage(case, kind):
    return Stage.objects.get(case_id=case.pk, kind=kind)


def pre_op_done(case, nurse, clock):
    """Checked in, pre-op started and finished 40 minutes later: the procedure is next."""
    case_check_in(case=case, by=nurse)
    stage_start(case=case, kind="pre_op", by=nurse)
    clock.shift(timedelta(minutes=40))
    stage_finish(case=case, kind="pre_op", by=nurse)


def to_cement_set(case, nurse, clock):
    pre_op_done(case, nurse, clock)
    case_ready_for_procedure(case, nurse=nurse)
    stage_start(case=case, kind="procedure", by=nurse)
    clock.shift(timedelta(minutes=45))
    stage_finish(case=case, kind="procedure", by=nurse)
    stage_start(case=case, kind="cement_set", by=nurse)


def to_recovery(case, nurse, clock):
    to_cement_set(case, nurse, clock)
    clock.shift(timedelta(minutes=60))
    stage_finish(case=case, kind="cement_set", by=nurse)
    stage_start(case=case, kind="recovery", by=nurse)


def events(case, **filters):
    return list(CaseEvent.objects.filter(case_id=case.pk, **filters).order_by("at", "id"))


# The checklist and its items


def test_a_new_site_starts_with_the_standard_checklist(unit):
    north = SiteFactory(code="north", name="North Clinic")
    items = ChecklistItem.objects.filter(site=north, procedure_type=None).order_by("position")
    assert [item.code for item in items] == [code for code, _ in bedside.STANDARD_CHECKLIST]
    assert all(item.active for item in items)
    assert items.get(code="consent_signed").label == "Consent signed"


def test_a_new_case_has_every_item_missing_and_no_inr_without_warfarin(case):
    checklist = case_checklist_get(case=case)
    assert [item.code for item in checklist.items] == STANDARD
    assert checklist.missing == STANDARD
    assert checklist.complete is False


@pytest.mark.parametrize(
    ("drugs", "asked"),
    [(["warfarin"], True), (["clopidogrel"], False), (["apixaban", "warfarin"], True), ([], False)],
)
def test_the_inr_is_asked_only_when_a_held_drug_needs_an_inr_check(unit, clock, drugs, asked):
    case = monday_case(unit, clock, medications=drugs)
    codes = [item.code for item in case_checklist_get(case=case).items]
    assert ("inr" in codes) is asked
    assert codes[: len(STANDARD)] == STANDARD


def test_the_inr_is_met_only_at_or_under_the_sites_limit(unit, clock, nurse_user):
    case = monday_case(unit, clock, medications=["warfarin"])
    checklist_update(case=case, by=nurse_user, ticks=ALL_TICKED)
    assert "inr" in case_checklist_get(case=case).missing
    assert "inr" in checklist_update(case=case, by=nurse_user, inr=Decimal("1.6")).missing
    assert "inr" not in checklist_update(case=case, by=nurse_user, inr=Decimal("1.5")).missing
    assert fresh(case).inr == Decimal("1.5")

    unit.inr_limit = Decimal("1.4")
    unit.save(update_fields=["inr_limit"])
    assert "inr" in case_checklist_get(case=fresh(case)).missing
    assert "inr" in checklist_update(case=case, by=nurse_user, inr=None).missing
    assert fresh(case).inr is None


def test_ticks_are_kept_with_who_and_when_and_may_be_taken_back(case, nurse_user, clock):
    checklist = checklist_update(
        case=case, by=nurse_user, ticks={"consent_signed": True, "iv_placed": True}
    )
    assert checklist.done["consent_signed"] is checklist.done["iv_placed"] is True
    assert "consent_signed" not in checklist.missing
    tick = ChecklistTick.objects.get(case_id=case.pk, code="consent_signed")
    assert (tick.done, tick.by, tick.at) == (True, nurse_user, ARRIVAL)

    clock.shift(timedelta(minutes=5))
    checklist = checklist_update(case=case, by=nurse_user, ticks={"consent_signed": False})
    assert "consent_signed" in checklist.missing
    tick.refresh_from_db()
    assert (tick.done, tick.at) == (False, ARRIVAL + timedelta(minutes=5))
    assert ChecklistTick.objects.filter(case_id=case.pk).count() == 2


def test_pre_op_vitals_tick_their_item_and_cannot_be_ticked_by_hand(case, nurse_user):
    error = refused(
        "unknown_checklist_item", checklist_update,
        case=case, by=nurse_user, ticks={"consent_signed": True, "preop_vitals": True},
    )
    assert list(error.errors) == ["preop_vitals"]
    assert error.status == 400
    assert not ChecklistTick.objects.filter(case_id=case.pk).exists()  # not even the consent

    case_check_in(case=case, by=nurse_user)
    vitals_record(case=case, phase=VitalsPhase.PRE_OP, values=GOOD_VITALS, by=nurse_user)
    assert case_checklist_get(case=case).done["preop_vitals"] is True


def test_the_inr_is_given_as_a_number_not_ticked(unit, clock, nurse_user):
    case = monday_case(unit, clock, medications=["warfarin"])
    error = refused(
        "unknown_checklist_item", checklist_update, case=case, by=nurse_user, ticks={"inr": True}
    )
    assert "`inr`" in error.errors["inr"][0]


def test_an_item_the_checklist_does_not_ask_is_refused_by_name(case, nurse_user):
    error = refused(
        "unknown_checklist_item", checklist_update,
        case=case, by=nurse_user, ticks={"iv_placed": True, "allergy_band": True},
    )
    assert list(error.errors) == ["allergy_band"]
    assert not ChecklistTick.objects.filter(case_id=case.pk).exists()


def test_a_site_may_add_an_item_and_it_is_asked_in_its_place(unit, case, nurse_user):
    ChecklistItem.objects.create(
        site=unit, code="allergy_band", label="Allergy band on", position=2
    )
    checklist_update(case=case, by=nurse_user, ticks=ALL_TICKED)
    checklist = case_checklist_get(case=case)
    codes = [item.code for item in checklist.items]
    assert codes.index("allergy_band") == codes.index("fasting_confirmed") + 1
    assert checklist.missing == ["allergy_band", "preop_vitals"]
    assert checklist.label("allergy_band") == "Allergy band on"
    checklist = checklist_update(case=case, by=nurse_user, ticks={"allergy_band": True})
    assert checklist.missing == ["preop_vitals"]


def test_another_sites_item_is_not_asked(unit, case, nurse_user):
    north = SiteFactory(code="north", name="North Clinic")
    ChecklistItem.objects.create(site=north, code="allergy_band", label="Allergy band on")
    assert "allergy_band" not in [item.code for item in case_checklist_get(case=case).items]
    refused(
        "unknown_checklist_item", checklist_update,
        case=case, by=nurse_user, ticks={"allergy_band": True},
    )


def test_a_procedure_types_item_replaces_the_site_item_of_the_same_code(unit, clock, nurse_user):
    vertebroplasty = ProcedureType.objects.get(code="vertebroplasty")
    kyphoplasty = ProcedureTypeFactory(code="kyphoplasty", name="Kyphoplasty")
    ChecklistItem.objects.create(
        site=unit, procedure_type=kyphoplasty, code="consent_signed",
        label="Kyphoplasty consent (balloon) signed", position=0,
    )
    ChecklistItem.objects.create(
        site=unit, procedure_type=vertebroplasty, code="fasting_confirmed",
        label="Fasting confirmed", position=2, active=False,
    )
    kypho = case_made(site=unit, start="2026-03-02T13:00:00-05:00", procedure_type="kyphoplasty")
    vertebro = monday_case(unit, clock)

    kypho_list = case_checklist_get(case=kypho)
    assert kypho_list.label("consent_signed") == "Kyphoplasty consent (balloon) signed"
    assert [item.code for item in kypho_list.items] == STANDARD  # once, in its place
    vertebro_list = case_checklist_get(case=vertebro)
    assert vertebro_list.label("consent_signed") == "Consent signed"
    assert "fasting_confirmed" not in [item.code for item in vertebro_list.items]
    assert "fasting_confirmed" in [item.code for item in kypho_list.items]

    # Switched off for vertebroplasty: not asked, so neither missing nor tickable.
    ticks = {code: True for code in TICKABLE if code != "fasting_confirmed"}
    assert checklist_update(case=vertebro, by=nurse_user, ticks=ticks).missing == [
        "preop_vitals"
    ]
    refused(
        "unknown_checklist_item", checklist_update,
        case=vertebro, by=nurse_user, ticks={"fasting_confirmed": True},
    )


def test_a_switched_off_site_item_is_not_asked(unit, case):
    ChecklistItem.objects.filter(site=unit, code="driver_confirmed").update(active=False)
    assert "driver_confirmed" not in [item.code for item in case_checklist_get(case=case).items]


def test_the_driver_is_marked_present_at_any_stage_and_unmarked(case, nurse_user, clock):
    checklist_update(case=case, by=nurse_user, driver_present=True)
    assert fresh(case).driver_present_at == ARRIVAL
    clock.shift(timedelta(minutes=30))
    checklist_update(case=case, by=nurse_user, driver_present=True)  # already: kept as it was
    assert fresh(case).driver_present_at == ARRIVAL
    checklist_update(case=case, by=nurse_user, driver_present=False)
    assert fresh(case).driver_present_at is None


def test_a_discharged_case_takes_no_more_bedside_records(case, nurse_user, clock):
    to_recovery(case, nurse_user, clock)
    case_ready_for_discharge(case, nurse=nurse_user)
    clock.shift(timedelta(minutes=30))
    case_discharge(case=case, by=nurse_user)
    for call, kwargs in [
        (checklist_update, {"ticks": {"iv_placed": False}}),
        (vitals_record, {"phase": "recovery", "values": GOOD_VITALS}),
        (discharge_assess, {"scores": FULL_SCORE}),
    ]:
        refused("case_not_active", call, case=case, by=nurse_user, **kwargs)


# The procedure waits for the checklist


def test_the_procedure_waits_for_the_checklist_naming_each_missing_item(case, nurse_user, clock):
    pre_op_done(case, nurse_user, clock)
    checklist_update(case=case, by=nurse_user, ticks={"consent_signed": True})

    error = refused("preop_incomplete", stage_start, case=case, kind="procedure", by=nurse_user)

    assert error.status == 409
    assert list(error.errors) == STANDARD[1:]
    assert "IV placed: not done." in error.detail
    assert stage(case, "procedure").actual_start is None
    assert fresh(case).status == CaseStatus.IN_PRE_OP
    assert not events(case, action=CaseAction.STAGE_START, stage_kind="procedure")


def test_the_procedure_starts_once_the_checklist_is_complete(unit, clock, nurse_user):
    case = monday_case(unit, clock, medications=["warfarin"])
    pre_op_done(case, nurse_user, clock)
    checklist_update(case=case, by=nurse_user, ticks=ALL_TICKED)
    vitals_record(case=case, phase="pre_op", values=GOOD_VITALS, by=nurse_user)
    checklist_update(case=case, by=nurse_user, inr=Decimal("1.7"))
    error = refused("preop_incomplete", stage_start, case=case, kind="procedure", by=nurse_user)
    assert list(error.errors) == ["inr"]

    checklist_update(case=case, by=nurse_user, inr=Decimal("1.2"))
    stage_start(case=case, kind="procedure", by=nurse_user)

    assert fresh(case).status == CaseStatus.IN_PROCEDURE
    (started,) = events(case, action=CaseAction.STAGE_START, stage_kind="procedure")
    assert (started.exception, started.unmet, started.reason) == ("", [], "")


def test_a_clinician_may_start_the_procedure_anyway_with_a_reason(
    case, nurse_user, clinician_user, clock
):
    pre_op_done(case, nurse_user, clock)
    checklist_update(case=case, by=nurse_user, ticks=ALL_TICKED)
    reason = "  Vitals machine down; taken by hand and charted on paper.  "

    stage_start(case=case, kind="procedure", by=clinician_user, override_reason=reason)

    assert fresh(case).status == CaseStatus.IN_PROCEDURE
    (started,) = events(case, action=CaseAction.STAGE_START, stage_kind="procedure")
    assert started.by == clinician_user
    assert started.at == ARRIVAL + timedelta(minutes=40)
    assert started.exception == "preop_incomplete"
    assert started.unmet == ["preop_vitals"]
    assert started.reason == reason.strip()


def test_a_nurses_reason_to_skip_the_checklist_is_refused_and_nothing_is_written(
    case, nurse_user, clock
):
    pre_op_done(case, nurse_user, clock)
    before = len(events(case))
    error = refused(
        "permission_denied", stage_start,
        case=case, kind="procedure", by=nurse_user, override_reason="Surgeon is waiting.",
    )
    assert error.status == 403
    assert "clinician" in error.detail
    assert stage(case, "procedure").actual_start is None
    assert fresh(case).status == CaseStatus.IN_PRE_OP
    assert len(events(case)) == before


def test_a_blank_reason_is_no_reason(case, nurse_user, clinician_user, clock):
    pre_op_done(case, nurse_user, clock)
    refused(
        "preop_incomplete", stage_start,
        case=case, kind="procedure", by=clinician_user, override_reason="   ",
    )


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

