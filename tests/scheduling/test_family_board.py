"""The waiting room's family board: codes given at check-in, stages as colour and word, no names."""

import re

import pytest
from django.db import connection
from django.templatetags.static import static
from django.test.utils import CaptureQueriesContext

from scheduling.board.family import CODE_SHAPE
from scheduling.models import Case, Site
from tests.factories import build_unit, case_made

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(db):
    """Room enough for ten cases on Monday morning, half an hour apart (a procedure room is held
    2 h 15 min a case, a surgeon 1 h, a recovery bay 2 h)."""
    return build_unit(rooms=5, pre_op_bays=3, recovery_bays=5, surgeons=3)


def book(site, number: int) -> Case:
    """Case `number` on Monday (today), from 09:00 New York, half an hour after the one before."""
    hour, minute = divmod(9 * 60 + 30 * number, 60)
    return case_made(
        site=site,
        start=f"2026-03-02T{hour:02d}:{minute:02d}:00-05:00",
        patient={"mrn": f"MRN-{2000 + number}", "last_name": f"Whitfield{number}"},
    )


def check_in(nurse, case: Case) -> Case:
    response = nurse.post(f"/api/v1/cases/{case.pk}/check-in/")
    assert response.status_code == 200, response.json()
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def token(unit) -> str:
    return Site.objects.get(pk=unit.pk).family_board_issue()


def board_html(client, token: str) -> str:
    response = client.get(f"/family/{token}/")
    assert response.status_code == 200
    return response.content.decode()


def test_check_in_gives_a_code_of_three_letters_and_two_digits_unique_that_day(
    unit, nurse
):
    cases = [check_in(nurse, book(unit, number)) for number in range(6)]
    codes = [case.family_code for case in cases]
    assert all(CODE_SHAPE.fullmatch(code) for code in codes), codes
    assert not any(character in "".join(codes) for character in "OI01")
    assert len(set(codes)) == len(codes)


def test_a_case_not_checked_in_has_no_code_and_is_not_listed(unit, client, token):
    case = book(unit, 0)
    assert case.family_code == ""
    html = board_html(client, token)
    assert "No patients checked in yet today." in html
    assert "family-checked-in\"><span" not in html


def test_undoing_a_check_in_keeps_the_code_and_takes_the_case_off_the_board(
    unit, nurse, client, token
):
    case = check_in(nurse, book(unit, 0))
    assert nurse.post(f"/api/v1/cases/{case.pk}/undo/").status_code == 200
    assert Case.objects.get(pk=case.pk).family_code == case.family_code
    assert case.family_code not in board_html(client, token)
    again = check_in(nurse, case)
    assert again.family_code == case.family_code
    assert case.family_code in board_html(client, token)


def test_the_board_shows_code_stage_word_and_colour_but_no_name_mrn_or_procedure(
    unit, nurse, client, token
):
    checked_in = check_in(nurse, book(unit, 0))
    in_pre_op = check_in(nurse, book(unit, 1))
    assert nurse.post(f"/api/v1/cases/{in_pre_op.pk}/stages/pre_op/start/").status_code == 200

    response = client.get(f"/family/{token}/")

    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    html = response.content.decode()
    assert f'class="case family-checked-in"><span class="code">{checked_in.family_code}' in html
    assert f'class="case family-pre-op"><span class="code">{in_pre_op.family_code}' in html
    assert "Checked in" in html
    assert "Pre-op" in html
    # The screen updates in place by script; without script the page reloads itself.
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in html
    assert "Updated at 07:00" in html  # 12:00 UTC is 07:00 in New York
    for case in (checked_in, in_pre_op):
        patient = case.patient
        for secret in (patient.first_name, patient.last_name, patient.mrn):
            assert secret not in html
    assert checked_in.procedure_type.name not in html
    assert "Vertebroplasty" not in html
    assert "vertebroplasty" not in html
    # Its one script is the static refresher: nothing of the day is written into a script.
    assert re.findall(r"<script[^>]*>", html) == [
        f'<script src="{static("js/family_board.js")}" defer>'
    ]


def test_a_cancelled_case_is_not_listed(unit, front_desk, nurse, client, token):
    kept = check_in(nurse, book(unit, 0))
    cancelled = check_in(nurse, book(unit, 1))
    response = front_desk.post(
        f"/api/v1/cases/{cancelled.pk}/cancel/", {"reason": "Fever"}, format="json"
    )
    assert response.status_code == 200, response.json()
    html = board_html(client, token)
    assert kept.family_code in html
    assert cancelled.family_code not in html


@pytest.mark.parametrize("bad", ["unknown-token-unknown-token-1234", "x" * 5000, "%00%27%22;--"])
def test_an_unknown_or_odd_token_is_a_404(unit, client, token, bad):
    assert client.get(f"/family/{bad}/").status_code == 404


def test_a_site_without_a_family_board_is_not_reached_by_an_empty_token(unit, client):
    assert client.get("/family/None/").status_code == 404
    assert client.get("/family//").status_code == 404


def test_a_revoked_token_is_a_404(unit, client, token):
    assert client.get(f"/family/{token}/").status_code == 200
    Site.objects.get(pk=unit.pk).family_board_revoke()
    assert client.get(f"/family/{token}/").status_code == 404


def test_a_new_link_retires_the_old_one(unit, client, token):
    new = Site.objects.get(pk=unit.pk).family_board_issue()
    assert new != token
    assert client.get(f"/family/{token}/").status_code == 404
    assert client.get(f"/family/{new}/").status_code == 200


def test_the_board_costs_the_same_queries_for_2_and_10_cases(
    unit, nurse, client, token
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            board_html(client, token)
        return len(queries)

    cases = [book(unit, number) for number in range(10)]
    for case in cases[:2]:
        check_in(nurse, case)
    two = count()
    for case in cases[2:]:
        check_in(nurse, case)
    html = board_html(client, token)
    assert html.count('<span class="code">') == 10
    assert count() == two <= 3


def test_the_admin_issues_and_revokes_the_link(unit, admin_client):
    changelist = "/admin/scheduling/site/"
    response = admin_client.post(
        changelist,
        {"action": "family_board_issue_links", "_selected_action": [unit.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token = Site.objects.get(pk=unit.pk).family_board_token
    assert token
    assert len(token) >= 32
    change_page = admin_client.get(f"/admin/scheduling/site/{unit.pk}/change/").content.decode()
    assert f"/family/{token}/" in change_page

    admin_client.post(
        changelist, {"action": "family_board_revoke_links", "_selected_action": [unit.pk]}
    )
    assert Site.objects.get(pk=unit.pk).family_board_token is None
    change_page = admin_client.get(f"/admin/scheduling/site/{unit.pk}/change/").content.decode()
    assert "/family/" not in change_page


def test_a_code_already_given_that_day_is_drawn_again(unit, nurse, monkeypatch):
    draws = iter(["BCD23", "BCD23", "FGH45"])
    monkeypatch.setattr("scheduling.board.family.family_code_new", lambda: next(draws))
    first = check_in(nurse, book(unit, 0))
    second = check_in(nurse, book(unit, 1))
    assert (first.family_code, second.family_code) == ("BCD23", "FGH45")
