"""The nurses' rules for the day, in the services: the pre-op checklist (per site and procedure
type, INR when warfarin is held), and the procedure that waits for it unless a clinician gives a
reason (a nurse's is refused, and nothing is written). Vitals, the cement set and discharge:
test_bedside_recovery.py."""

from datetime import timedelta
from decimal import Decimal

import pytest

from scheduling import bedside, roles
from scheduling.bedside_models import (
    ChecklistItem,
    ChecklistTick,
    VitalsPhase,
)
from scheduling.models import CaseAction, CaseStatus, ProcedureType
from scheduling.services.bedside import (
    case_checklist_get,
    checklist_update,
    discharge_assess,
    vitals_record,
)
from scheduling.services.tracking import (
    case_check_in,
    case_discharge,
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
)
from tests.scheduling.bedside_walk import (
    ALL_TICKED,
    ARRIVAL,
    STANDARD,
    TICKABLE,
    events,
    fresh,
    monday_case,
    pre_op_done,
    refused,
    stage,
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
