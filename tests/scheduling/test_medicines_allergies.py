"""Medicines and allergies: the NSAIDs in the hold table, the medicines question answered (the
ones taken, or none) with other medicines kept, and the patient's allergies, contrast and latex
shown on the day board's case row and in the case API."""

import pytest

from notifications.models import ReminderStatus
from scheduling import roles
from scheduling.models import Case, CaseStatus, Drug, Patient
from tests.conftest import case_payload
from tests.factories import PatientFactory, UserFactory, case_made
from tests.scheduling.test_pages_booking import URL, booking, clerk, shown_token  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "hold_days"),
    [("ibuprofen", 1), ("diclofenac", 1), ("celecoxib", 3), ("naproxen", 4), ("meloxicam", 4)],
)
def test_the_nsaids_are_in_the_hold_table_with_their_days(code, hold_days):
    drug = Drug.objects.get(code=code)
    assert drug.hold_days == hold_days
    assert drug.active


def test_an_nsaid_is_held_from_its_day_before_the_procedure(unit):
    case = case_made(site=unit, medications=["naproxen"])  # Tuesday 3 March
    assert str(case.held_medications.get().hold_starts_on) == "2026-02-27"


def test_a_booking_with_neither_medicines_nor_none_is_refused_next_to_the_medicines(
    client, clerk, unit  # noqa: F811
):
    data = booking(shown_token(client), no_medicines=None)

    response = client.post(URL, data)

    assert response.status_code == 200
    assert "Ask about these medicines: tick each one the patient takes, or “Takes none of " in (
        response.content.decode()
    )
    assert not Case.objects.exists()


def test_medicines_and_none_together_are_refused(client, clerk, unit):  # noqa: F811
    data = booking(shown_token(client), medications=["ibuprofen"], no_medicines="on")

    response = client.post(URL, data)

    assert "not both" in response.content.decode()
    assert not Case.objects.exists()


def test_takes_none_other_medicines_and_allergies_are_booked_with_a_new_patient(
    client, clerk, unit  # noqa: F811
):
    data = booking(
        shown_token(client), other_medicines="Metformin 500 mg twice a day",
        allergy_contrast="on", allergy_latex="on", allergy_other="Penicillin",
    )

    response = client.post(URL, data)

    assert response.status_code == 302
    case = Case.objects.get()
    assert case.takes_no_medicines
    assert case.other_medicines == "Metformin 500 mg twice a day"
    patient = case.patient
    assert (patient.allergy_contrast, patient.allergy_latex, patient.allergy_other) == (
        True, True, "Penicillin"
    )


def test_an_allergy_told_at_booking_is_added_to_a_registered_patients_record(
    client, clerk, unit  # noqa: F811
):
    known = PatientFactory(known_at=[unit], allergy_contrast=True, allergy_other="Iodine")
    data = booking(shown_token(client), find_mrn=known.mrn, allergy_latex="on",
                   allergy_other="Penicillin")

    response = client.post(URL, data)

    assert response.status_code == 302
    known.refresh_from_db()
    assert (known.allergy_contrast, known.allergy_latex) == (True, True)
    assert known.allergy_other == "Iodine; Penicillin"


def test_a_bone_cement_allergy_still_blocks_the_booking(client, clerk, unit):  # noqa: F811
    # From the front desk a blocked booking is held for a clinician's review (issue 15 item 3):
    # it is not booked, and the patient is told nothing until a clinician approves it.
    response = client.post(
        URL, booking(shown_token(client), cement_allergy="yes"), follow=True
    )

    case = Case.objects.get()
    assert case.status == CaseStatus.NEEDS_REVIEW
    assert "Allergy to bone cement." in response.content.decode()
    assert not case.reminders.exclude(status=ReminderStatus.CANCELLED).exists()


def test_contrast_and_latex_allergies_are_on_the_board_row(client, unit):
    case = case_made(site=unit, patient={"allergy_contrast": True})
    plain = case_made(site=unit, patient={"first_name": "Arthur"})
    Patient.objects.filter(pk=plain.patient.pk).update(allergy_latex=True)
    client.force_login(UserFactory(roles=[roles.NURSE], sites=[unit]))

    page = client.get("/board/", {"site": unit.code, "date": "2026-03-03"}).content.decode()
    api = client.get("/board/partial/", {"site": unit.code, "date": "2026-03-03"})

    assert 'class="flag flag-contrast_allergy">Contrast allergy<' in page
    assert 'class="flag flag-latex_allergy">Latex allergy<' in page
    assert "flag-contrast_allergy" in api.content.decode()
    assert case.pk != plain.pk


def test_the_case_api_answers_the_allergies_and_other_medicines(unit, front_desk):
    body = case_payload(takes_no_medicines=True, other_medicines="Metformin")
    body["patient"] = body["patient"] | {"mrn": "MRN-API-1"}
    created = front_desk.post("/api/v1/cases/", body, format="json")
    assert created.status_code == 201, created.json()
    case = Case.objects.get(pk=created.json()["id"])
    Patient.objects.filter(pk=case.patient.pk).update(allergy_latex=True)

    answer = front_desk.get(f"/api/v1/cases/{case.pk}/").json()

    assert answer["takes_no_medicines"] is True
    assert answer["other_medicines"] == "Metformin"
    assert answer["patient"]["allergies"] == {"contrast": False, "latex": True, "other": ""}
    assert "latex_allergy" in answer["flags"]


def test_the_api_refuses_medicines_with_takes_none(unit, front_desk):
    body = case_payload(takes_no_medicines=True, medications=["ibuprofen"])

    response = front_desk.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "medicines_conflict"
    assert not Case.objects.exists()

