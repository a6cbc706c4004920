"""Correcting a case's screening answers and medicines on its page, until check-in: the answers
are checked again as at booking, held drugs and their messages follow, and the correction is a
step on the case's history with who made it."""

from datetime import date

import pytest

from notifications.models import MessageKind, Reminder, ReminderStatus
from scheduling import roles
from scheduling.models import Case, CaseAction, CaseStatus
from scheduling.services.tracking import case_check_in
from tests.factories import CLEAR_SCREENING, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db

NEXT_TUESDAY = date(2026, 3, 10)


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles), sites=[site], first_name="Cora", last_name="Rect")
    client.force_login(user)
    return user


def correction(case, *, medications=(), no_medicines=False, **answers) -> dict:
    """The correction form as the case page fills it, with the changes given."""
    screening = CLEAR_SCREENING | {
        name: getattr(case, name) for name in CLEAR_SCREENING
    } | answers
    data = {
        name: ("yes" if value else "no") if isinstance(value, bool) else str(value)
        for name, value in screening.items()
    }
    data["version"] = case.version
    data["medications"] = list(medications)
    if no_medicines:
        data["no_medicines"] = "on"
    return data


@pytest.fixture
def case(unit):
    return case_made(site=unit, day=NEXT_TUESDAY, medications=["warfarin"])


def holds(case) -> dict[str, str]:
    return {
        reminder.note: reminder.status
        for reminder in Reminder.objects.filter(case=case, kind=MessageKind.MEDICATION_HOLD)
    }


def test_a_drug_added_is_held_and_its_pause_is_texted_and_one_taken_off_is_not(
    client, unit, case
):
    staff(client, unit, roles.FRONT_DESK)
    assert holds(case) == {"hold:2026-03-05": ReminderStatus.PLANNED}  # warfarin, 5 days

    response = client.post(
        f"/cases/{case.pk}/correct/", correction(case, medications=["naproxen"])
    )

    assert response.status_code == 302
    held = Case.objects.get(pk=case.pk).held_medications.get()
    assert (held.drug.code, held.hold_starts_on) == ("naproxen", date(2026, 3, 6))
    assert holds(case) == {
        "hold:2026-03-05": ReminderStatus.CANCELLED,
        "hold:2026-03-06": ReminderStatus.PLANNED,
    }
    page = client.get(f"/cases/{case.pk}/").content.decode()
    history = page.split('id="history-heading"')[1].split("</table>")[0]
    assert "Screening or medicines corrected" in history
    assert "Cora Rect" in history
    assert "Naproxen (NSAID) held; Warfarin not held." in history


def test_a_drug_added_too_late_for_its_full_pause_is_pointed_out(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(
        f"/cases/{case.pk}/correct/",
        correction(case, medications=["warfarin", "piroxicam", "naproxen"]), follow=True,
    )

    # Piroxicam pauses 10 days: from 28 Feb, before today (2 Mar). Warfarin was already held
    # and naproxen's pause starts on 6 Mar: neither is told.
    said = [str(message) for message in response.context["messages"]]
    assert said[1:] == [
        "Piroxicam (NSAID): its pause should already have begun. The hold is shorter than "
        "planned: tell the clinician."
    ]


def test_the_case_page_and_its_correction_form_spell_the_en_us_way(client, unit):
    doctor = UserFactory(roles=[roles.CLINICIAN], sites=[unit])
    case = case_made(site=unit, day=NEXT_TUESDAY, by=doctor, screening={"tumor_in_canal": True},
                     override_reason="Canal clear on the latest MRI")
    staff(client, unit, roles.CLINICIAN)

    page = client.get(f"/cases/{case.pk}/").content.decode()

    assert "Tumor in the spinal canal" in page  # the answers
    assert "Tumor extends into the spinal canal." in page  # why it blocks
    assert "Has a tumor spread into the spinal canal?" in page  # the correction form
    assert "umour" not in page


def test_takes_none_and_other_medicines_are_kept_on_the_case(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)
    data = correction(case, no_medicines=True) | {"other_medicines": "Metformin 500 mg"}

    client.post(f"/cases/{case.pk}/correct/", data)

    fresh = Case.objects.get(pk=case.pk)
    assert fresh.takes_no_medicines
    assert fresh.other_medicines == "Metformin 500 mg"
    assert not fresh.held_medications.exists()
    assert holds(case) == {"hold:2026-03-05": ReminderStatus.CANCELLED}


def test_neither_medicines_nor_none_is_an_error_next_to_the_medicines(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(f"/cases/{case.pk}/correct/", correction(case))

    assert response.status_code == 200
    assert "Tick each medicine the patient takes, or “Takes none of these”." in (
        response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).held_medications.get().drug.code == "warfarin"


def test_a_positive_answer_from_the_front_desk_is_refused_as_at_booking(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(
        f"/cases/{case.pk}/correct/",
        correction(case, medications=["warfarin"], active_infection=True),
    )

    assert response.status_code == 200
    assert "Screening blocks this booking: Active infection." in response.content.decode()
    assert Case.objects.get(pk=case.pk).active_infection is False


def test_a_clinician_overrides_a_positive_answer_with_a_reason(client, unit, case):
    clinician = staff(client, unit, roles.CLINICIAN)
    data = correction(case, medications=["warfarin"], active_infection=True) | {
        "override_reason": "Treated; cleared by infectious disease."
    }

    client.post(f"/cases/{case.pk}/correct/", data)

    fresh = Case.objects.get(pk=case.pk)
    assert fresh.active_infection is True
    assert fresh.screening_overridden_by == clinician
    assert fresh.screening_override_reason == "Treated; cleared by infectious disease."


def test_an_override_stands_for_a_correction_that_adds_no_blocker(client, unit):
    clinician = UserFactory(roles=[roles.CLINICIAN], sites=[unit])
    case = case_made(
        site=unit, day=NEXT_TUESDAY, screening={"active_infection": True}, by=clinician,
        override_reason="Cleared.",
    )
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(
        f"/cases/{case.pk}/correct/", correction(case, medications=["ibuprofen"])
    )

    assert response.status_code == 302
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.held_medications.get().drug.code == "ibuprofen"
    assert fresh.screening_overridden_by == clinician


def test_after_check_in_the_form_is_gone_and_a_post_is_refused(client, unit):
    case = case_made(site=unit, day=date(2026, 3, 2))
    nurse = UserFactory(roles=[roles.NURSE], sites=[unit])
    case_check_in(case=case, by=nurse)
    case = Case.objects.get(pk=case.pk)
    staff(client, unit, roles.FRONT_DESK)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(
        f"/cases/{case.pk}/correct/", correction(case, medications=["warfarin"])
    )

    assert 'id="case-correction"' not in page
    assert response.status_code == 409
    assert "can no longer be corrected here" in response.content.decode()
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.CHECKED_IN
    assert not fresh.held_medications.exists()
    assert not fresh.events.filter(action=CaseAction.CORRECT).exists()


def test_a_page_drawn_before_another_change_does_not_correct(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)
    data = correction(case, medications=["naproxen"])
    Case.objects.filter(pk=case.pk).update(driver_name="Someone Else")

    response = client.post(f"/cases/{case.pk}/correct/", data, follow=True)

    assert "changed by someone else" in response.content.decode()
    assert Case.objects.get(pk=case.pk).held_medications.get().drug.code == "warfarin"


def test_a_nurse_may_not_correct_and_another_sites_case_is_not_found(client, unit, case):
    staff(client, unit, roles.NURSE)
    assert client.post(f"/cases/{case.pk}/correct/", correction(case)).status_code == 403

    other = build_unit(code="north", name="North Spine Center")
    staff(client, other, roles.FRONT_DESK)
    assert client.post(
        f"/cases/{case.pk}/correct/", correction(case, no_medicines=True)
    ).status_code == 404
    assert Case.objects.get(pk=case.pk).held_medications.get().drug.code == "warfarin"


@pytest.mark.parametrize(
    "odd",
    [
        {"conservative_treatment_weeks": "-3"},
        {"conservative_treatment_weeks": "many"},
        {"medications": ["snake-oil"]},
        {"active_infection": "perhaps"},
        {"other_medicines": "x" * 501},
        {"version": "\x00"},
    ],
)
def test_odd_input_answers_with_the_form_and_changes_nothing(client, unit, case, odd):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(
        f"/cases/{case.pk}/correct/", correction(case, medications=["warfarin"]) | odd
    )

    assert response.status_code in (200, 302)
    assert Case.objects.get(pk=case.pk).held_medications.get().drug.code == "warfarin"
    assert not Case.objects.get(pk=case.pk).events.filter(action=CaseAction.CORRECT).exists()
