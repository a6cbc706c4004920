"""The board's one-click steps (POST /board/cases/<id>/<action>/) and the buttons that send them,
through the HTTP client. The clock stands at Monday 2 March 2026, 07:00 in New York."""

from datetime import date, timedelta

import pytest

from scheduling import roles
from scheduling.models import CaseEvent, CaseStatus, Stage
from tests.factories import NOW, UserFactory, build_unit, case_made

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
    return [part.split('"')[0] for part in row.split('data-step="')[1:]]


def test_a_nurse_takes_a_case_through_every_step_with_one_click_each(client, unit, case):
    logged_in(client, unit, roles.NURSE)
    kinds = list(case.stages.order_by("position").values_list("kind", flat=True))
    assert buttons(client, case) == ["check-in"]
    steps = ["check-in"]
    for kind in kinds:
        slug = kind.replace("_", "-")
        steps += [f"start-{slug}", f"finish-{slug}"]
    steps.append("discharge")

    for number, step in enumerate(steps):
        assert buttons(client, case)[0] == step
        response = act(client, case, step)
        assert back_to(response) == f"{BOARD}#case-{case.pk}"
        [message] = flashed(response)
        assert message.startswith("Whitfield, Margaret"), message
        assert CaseEvent.objects.filter(case=case).count() == number + 1

    case.refresh_from_db()
    assert case.status == CaseStatus.DISCHARGED
    for stage in Stage.objects.filter(case=case):
        assert stage.actual_start == NOW
        assert stage.actual_end == NOW
    assert buttons(client, case) == ["undo"]


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
    assert buttons(client, case) == ["finish-pre-op", "undo"]

    response = act(client, case, "undo")

    assert flashed(response) == ["Undone: Whitfield, Margaret is checked in again."]
    assert Stage.objects.get(case=case, kind="pre_op").actual_start is None
    assert buttons(client, case) == ["start-pre-op", "undo"]
    clock.shift(timedelta(minutes=2))
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
        "discharge": "Finish recovery before discharging the patient.",
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
