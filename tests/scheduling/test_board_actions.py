"""The board's one-click steps (POST /board/cases/<id>/<action>/) and the buttons that send them,
through the HTTP client. The clock stands at Monday 2 March 2026, 07:00 in New York."""

import re
from datetime import date, timedelta

import pytest

from scheduling import roles
from scheduling.models import CaseEvent, CaseStatus, Stage
from tests.factories import GOOD_VITALS, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 3, 2)
BOARD = "/board/?site=main&date=2026-03-02"


@pytest.fixture
def case(unit, front_desk):
    return case_made(site=unit, start="2026-03-02T10:00:00-05:00", by=front_desk.user)


def logged_in(client, site, role):
    user = UserFactory(roles=[role])
    site.staff.add(user)
    client.force_login(user)
    return client


def act(client, case, action, **fields):
    """Send a step and follow the way back to the board, which shows (and so uses up) the
    messages."""
    data = {"site": "main", "date": MONDAY.isoformat()} | fields
    return client.post(f"/board/cases/{case.pk}/{action}/", data, follow=True)


def back_to(response) -> str:
    [(url, status)] = response.redirect_chain
    assert status == 302
    return url


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def buttons(client, case) -> list[str]:
    """The steps offered in the case's row of the board's fragment."""
    html = client.get("/board/partial/", {"site": "main", "date": MONDAY.isoformat()})
    row = html.content.decode().split(f'id="case-{case.pk}"')[1].split("</tr>")[0]
    return re.findall(r'data-(?:step|panel)="([^"]+)"', row)


MANUAL_ITEMS = [
    "consent_signed", "imaging_verified", "fasting_confirmed", "medications_held_confirmed",
    "iv_placed", "driver_confirmed",
]
FULL_SCORE = dict.fromkeys(
    ["activity", "respiration", "circulation", "consciousness", "oxygen_saturation"], "2"
)


def test_a_nurse_takes_a_case_through_the_day_on_the_board(client, unit, case, clock):
    logged_in(client, unit, roles.NURSE)
    assert buttons(client, case) == ["check-in"]
    act(client, case, "check-in")
    assert buttons(client, case) == ["start-pre-op", "undo"]
    act(client, case, "start-pre-op")
    assert buttons(client, case) == ["finish-pre-op", "checklist", "vitals-pre-op", "undo"]

    saved = act(client, case, "checklist", shown=MANUAL_ITEMS, item=MANUAL_ITEMS)
    assert flashed(saved) == ["Whitfield, Margaret: checklist saved; 1 still to do."]
    recorded = act(client, case, "vitals-pre-op", **GOOD_VITALS)
    assert flashed(recorded) == ["Whitfield, Margaret: pre-op vitals recorded."]
    wait(client, clock, 40)
    act(client, case, "finish-pre-op")
    assert buttons(client, case)[0] == "start-procedure"  # the checklist is complete
    act(client, case, "start-procedure")
    wait(client, clock, 45)
    act(client, case, "finish-procedure")
    act(client, case, "start-cement-set")

    # The cement set's hour: its step asks for a reason until the hour has passed.
    wait(client, clock, 20)
    assert 'data-panel="finish-cement-set"' in row_of(client, case)
    refused = act(client, case, "finish-cement-set")
    assert flashed(refused)[0].startswith(
        "Whitfield, Margaret: Cement set cannot be finished before its 60 minutes."
    )
    assert case_status(case) == CaseStatus.CEMENT_SETTING
    wait(client, clock, 40)
    assert buttons(client, case)[0] == "finish-cement-set"
    assert 'data-step="finish-cement-set"' in row_of(client, case)
    act(client, case, "finish-cement-set")
    act(client, case, "start-recovery")

    assert buttons(client, case) == [
        "discharge", "vitals-recovery", "assess", "driver-present", "undo"
    ]
    not_yet = act(client, case, "discharge")
    assert "does not meet the discharge criteria" in flashed(not_yet)[0]
    act(client, case, "vitals-recovery", **GOOD_VITALS)
    assert flashed(act(client, case, "assess", **FULL_SCORE)) == [
        "Whitfield, Margaret: Aldrete score 10/10 recorded."
    ]
    act(client, case, "driver-present")
    wait(client, clock, 30)
    assert buttons(client, case) == ["discharge", "vitals-recovery", "assess"]
    assert flashed(act(client, case, "discharge")) == ["Whitfield, Margaret is discharged."]

    assert case_status(case) == CaseStatus.DISCHARGED
    assert not CaseEvent.objects.filter(case=case).exclude(exception="").exists()
    assert buttons(client, case) == ["undo"]


def wait(client, clock, minutes: int) -> None:
    """Let time pass with the board open: it refreshes, which keeps the nurse's session alive."""
    for _ in range(0, minutes, 10):
        clock.shift(timedelta(minutes=min(10, minutes)))
        minutes -= 10
        refreshed = client.get("/board/partial/", {"site": "main", "date": "2026-03-02"})
        assert refreshed.status_code == 200


def row_of(client, case) -> str:
    html = client.get("/board/partial/", {"site": "main", "date": MONDAY.isoformat()})
    return html.content.decode().split(f'id="case-{case.pk}"')[1].split("</tr>")[0]


def case_status(case) -> str:
    case.refresh_from_db()
    return case.status


def test_a_clinician_may_start_the_procedure_without_the_checklist_with_a_reason(
    client, unit, case
):
    logged_in(client, unit, roles.NURSE)
    for step in ["check-in", "start-pre-op", "finish-pre-op"]:
        act(client, case, step)
    assert buttons(client, case)[:2] == ["checklist", "vitals-pre-op"]  # no way round it
    assert "start-procedure" not in buttons(client, case)

    logged_in(client, unit, roles.CLINICIAN)
    assert "start-procedure" in buttons(client, case)
    assert "Consent signed: not done." in row_of(client, case)
    refused = act(client, case, "start-procedure")
    assert flashed(refused)[0].startswith(
        "Whitfield, Margaret: The pre-op checklist is not complete."
    )
    act(client, case, "start-procedure", reason="Consent on paper; scanner down.")
    assert case_status(case) == CaseStatus.IN_PROCEDURE
    event = CaseEvent.objects.get(case=case, exception="preop_incomplete")
    assert event.reason == "Consent on paper; scanner down."
    assert "consent_signed" in event.unmet
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Procedure: started, started with the pre-op checklist incomplete" in page
    assert "Reason: Consent on paper; scanner down." in page


def test_a_nurse_cannot_discharge_before_the_criteria_even_with_a_reason(client, unit, case):
    logged_in(client, unit, roles.CLINICIAN)
    for step in ["check-in", "start-pre-op", "finish-pre-op"]:
        act(client, case, step)
    act(client, case, "start-procedure", reason="Emergency list.")
    act(client, case, "finish-procedure")
    act(client, case, "start-cement-set")
    act(client, case, "finish-cement-set", reason="Cement set checked by the surgeon.")
    act(client, case, "start-recovery")
    logged_in(client, unit, roles.NURSE)
    assert "Only a clinician may go ahead" in row_of(client, case)
    refused = act(client, case, "discharge", reason="Driver in a hurry.")
    assert flashed(refused)[0].startswith("Whitfield, Margaret: Only a clinician may go ahead")
    assert case_status(case) == CaseStatus.IN_RECOVERY
    early = CaseEvent.objects.get(case=case, exception="stage_too_early")
    assert (early.stage_kind, early.reason) == ("cement_set", "Cement set checked by the surgeon.")


def test_bad_vitals_and_scores_on_the_board_say_why_and_save_nothing(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    act(client, case, "check-in")
    impossible = act(client, case, "vitals-pre-op", **(GOOD_VITALS | {"spo2": 130}))
    assert "130 % is not possible" in flashed(impossible)[0]
    typed = act(client, case, "vitals-pre-op", **(GOOD_VITALS | {"heart_rate": "7O"}))
    assert flashed(typed) == ["Whitfield, Margaret: Give every value as a whole number."]
    inr = act(client, case, "checklist", shown=[], inr="high")
    assert "is not an INR" in flashed(inr)[0]
    assert not case.vitals.exists()


def test_each_step_says_what_was_done(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    assert flashed(act(client, case, "check-in")) == ["Whitfield, Margaret is checked in."]
    assert flashed(act(client, case, "start-pre-op")) == [
        "Whitfield, Margaret: pre-op started at 07:00."
    ]
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PRE_OP


def test_the_board_offers_undo_for_two_minutes_after_a_step(client, unit, case, clock):
    logged_in(client, unit, roles.NURSE)
    act(client, case, "check-in")
    act(client, case, "start-pre-op")
    assert buttons(client, case) == ["finish-pre-op", "checklist", "vitals-pre-op", "undo"]

    response = act(client, case, "undo")

    assert flashed(response) == ["Undone: Whitfield, Margaret is checked in again."]
    assert Stage.objects.get(case=case, kind="pre_op").actual_start is None
    assert buttons(client, case) == ["start-pre-op", "undo"]
    wait(client, clock, 2)
    assert buttons(client, case) == ["start-pre-op"]
    response = act(client, case, "undo")
    assert "can no longer be undone" in flashed(response)[0]
    case.refresh_from_db()
    assert case.status == CaseStatus.CHECKED_IN


def test_a_step_out_of_order_shows_the_services_reason_and_changes_nothing(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    assert flashed(act(client, case, "start-pre-op")) == [
        "Whitfield, Margaret: Check the patient in before pre-op."
    ]
    act(client, case, "check-in")
    act(client, case, "start-pre-op")
    before = (
        list(Stage.objects.filter(case=case).values_list("actual_start", "actual_end")),
        CaseEvent.objects.filter(case=case).count(),
    )

    refusals = {
        "start-pre-op": "Pre-op was already started at 07:00.",
        "start-procedure": "Finish pre-op before starting procedure.",
        "finish-procedure": "Procedure has not been started, so it cannot be finished.",
        "discharge": "Start recovery before discharging the patient.",
        "check-in": "The patient is already checked in.",
    }
    for step, reason in refusals.items():
        response = act(client, case, step)
        assert back_to(response) == f"{BOARD}#case-{case.pk}"
        assert flashed(response) == [f"Whitfield, Margaret: {reason}"]

    after = (
        list(Stage.objects.filter(case=case).values_list("actual_start", "actual_end")),
        CaseEvent.objects.filter(case=case).count(),
    )
    assert after == before
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PRE_OP


def test_the_message_shows_on_the_board_after_the_redirect(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    response = act(client, case, "start-procedure")
    message = "Whitfield, Margaret: Check the patient in before procedure."
    assert message in response.content.decode()


def test_another_sites_case_is_not_found(client, unit, case):
    north = build_unit(code="north", name="North Clinic")
    logged_in(client, north, roles.NURSE)

    assert act(client, case, "check-in").status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


def test_an_unknown_step_or_case_is_not_found(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    assert act(client, case, "start-lunch").status_code == 404
    assert client.post("/board/cases/999999/check-in/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, unit, case):
    response = act(client, case, "check-in")

    assert back_to(response).startswith("/accounts/login/")
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


def test_a_step_is_a_post_only(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    assert client.get(f"/board/cases/{case.pk}/check-in/").status_code == 405


def test_the_front_desk_checks_in_but_is_told_it_may_not_start_a_stage(client, unit, case):
    logged_in(client, unit, roles.FRONT_DESK)
    assert flashed(act(client, case, "check-in")) == ["Whitfield, Margaret is checked in."]

    response = act(client, case, "start-pre-op")

    assert back_to(response) == f"{BOARD}#case-{case.pk}"
    assert flashed(response) == [
        "Only a nurse or clinician may start or finish a stage or discharge a patient."
    ]
    assert Stage.objects.get(case=case, kind="pre_op").actual_start is None
    case.refresh_from_db()
    assert case.status == CaseStatus.CHECKED_IN


def test_an_administrator_sees_no_buttons_and_may_not_act(client, unit, case):
    logged_in(client, unit, roles.ADMIN)
    assert buttons(client, case) == []
    assert act(client, case, "check-in").status_code == 403


def test_the_way_back_keeps_a_valid_board_and_replaces_a_forged_one(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    kept = act(client, case, "check-in", refresh="1")
    assert back_to(kept) == f"{BOARD}&refresh=1#case-{case.pk}"

    forged = act(client, case, "undo", site="https://evil.example", date="2026-02-30", refresh="99")
    assert back_to(forged) == f"{BOARD}#case-{case.pk}"


def test_abnormal_vitals_are_flagged_in_the_row_by_the_sites_limits(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    act(client, case, "check-in")
    act(client, case, "start-pre-op")
    low = act(client, case, "vitals-pre-op", **(GOOD_VITALS | {"spo2": 90, "heart_rate": 130}))
    assert flashed(low) == [
        "Whitfield, Margaret: pre-op vitals recorded; look again: HR high, SpO2 low."
    ]
    assert "⚠ Vitals: HR high, SpO2 low" in row_of(client, case)
    unit.spo2_alert_low, unit.heart_rate_alert_high = 88, 140
    unit.save(update_fields=["spo2_alert_low", "heart_rate_alert_high"])
    assert "⚠ Vitals" not in row_of(client, case)
