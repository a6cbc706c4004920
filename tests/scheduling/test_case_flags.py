"""A case's flags (scheduling/flags.py): one rule, and the case API and the day board show the
same flags in the same order."""

import pytest

from scheduling import roles
from scheduling.flags import FLAG_LABELS, case_flags
from tests.conftest import TUESDAY, client_for
from tests.factories import case_made

CLEAR = {
    "status": "confirmed",
    "driver_name": "Tom",
    "driver_phone": "+12125550101",
    "inr_check": False,
    "screening_override_reason": "",
    "not_reached": False,
    "patient_phone": "+12125550100",
    "patient_email": "",
    "allergy_contrast": False,
    "allergy_latex": False,
    "on_closed_day": False,
}


def test_a_confirmed_case_with_a_driver_and_a_phone_has_no_flag():
    assert case_flags(**CLEAR) == []


def test_every_flag_raised_comes_in_the_order_of_its_labels():
    everything = CLEAR | {
        "on_closed_day": True,
        "status": "booked",
        "driver_phone": "",
        "inr_check": True,
        "screening_override_reason": "Clinician judged safe.",
        "not_reached": True,
        "patient_phone": "",
        "allergy_contrast": True,
        "allergy_latex": True,
    }
    # Awaiting review and not confirmed exclude each other: one status raises each.
    assert case_flags(**everything) == [f for f in FLAG_LABELS if f != "needs_review"]
    held = case_flags(**everything | {"status": "needs_review"})
    assert held == [f for f in FLAG_LABELS if f != "not_confirmed"]


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        ({"status": "booked"}, "not_confirmed"),
        ({"driver_name": ""}, "driver_missing"),
        ({"driver_phone": ""}, "driver_missing"),
        ({"inr_check": True}, "inr_check"),
        ({"screening_override_reason": "Judged safe."}, "screening_overridden"),
        ({"not_reached": True}, "not_reached"),
        ({"patient_phone": ""}, "not_reachable"),
        ({"allergy_contrast": True}, "contrast_allergy"),
        ({"allergy_latex": True}, "latex_allergy"),
        ({"on_closed_day": True}, "on_closed_day"),
    ],
)
def test_each_flag_is_raised_by_its_own_fact(change, flag):
    assert case_flags(**CLEAR | change) == [flag]


def test_an_email_alone_keeps_the_patient_reachable():
    assert case_flags(**CLEAR | {"patient_phone": "", "patient_email": "a@example.org"}) == []


@pytest.mark.django_db
def test_the_case_api_and_the_board_list_the_same_flags_in_the_same_order(unit):
    front_desk = client_for(roles.FRONT_DESK)
    booked = case_made(site=unit, patient={"phone": "", "email": ""}, medications=["warfarin"],
                       driver_name="", driver_phone="", by=front_desk.user, unit_will_call=True)

    case = front_desk.get(f"/api/v1/cases/{booked.pk}/").json()
    board = front_desk.get(
        "/api/v1/board/", {"site": "main", "date": TUESDAY.isoformat()}
    ).json()

    expected = ["not_confirmed", "driver_missing", "inr_check", "not_reachable"]
    assert case["flags"] == expected
    assert [line["flags"] for line in board["cases"]] == [expected]
