"""The patient's record in a real browser: a clerk finds the patient, opens the record from the
search results, corrects the phone and an allergy, and sees the change with their name."""

import os
import shutil
from pathlib import Path

import pytest

from scheduling import roles
from scheduling.models import Patient
from tests.conftest import log_in
from tests.factories import UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs/screenshots/patient-record.png"


def test_a_clerk_corrects_a_patients_phone_and_allergies_from_the_search(page, tmp_path):
    site = build_unit(code="main")
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[site], first_name="Rosa",
                        last_name="Alvarez")
    case = case_made(site=site, medications=["warfarin"], patient={"language": "es"})
    Patient.objects.filter(pk=case.patient.pk).update(allergy_other="Penicillin")
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, clerk.username)

    page.goto("/patients/?q=Whitfield")
    page.get_by_role("link", name="Whitfield, Margaret").click()
    page.get_by_role("heading", name="Whitfield, Margaret").wait_for()
    page.get_by_label("Mobile phone").fill("(212) 555-0142")
    page.get_by_label("Allergic to latex").check()
    page.get_by_role("button", name="Save").click()

    page.get_by_text("Saved: phone, latex allergy. Unsent messages are re-planned.").wait_for()
    fresh = Patient.objects.get(pk=case.patient.pk)
    assert (fresh.phone, fresh.allergy_latex) == ("+12125550142", True)
    changes = page.locator("#patient-changes").inner_text()
    assert "Rosa Alvarez" in changes
    assert "Mon Mar 2, 2026, 7:00 AM" in changes  # in New York, where the case is (en-US)
    assert "Phone: +12125550100 → +12125550142" in changes
    assert page.locator("#patient-allergies").inner_text().count("Allergic") == 1
    book = page.get_by_role("link", name="Book for this patient")
    assert book.get_attribute("href") == f"/book/?patient={fresh.pk}"

    shot = tmp_path / "patient-record.png"
    page.screenshot(path=shot)
    if os.environ.get("VERTEBRO_UPDATE_SCREENSHOTS"):  # refreshes the README's picture
        shutil.copy(shot, SCREENSHOT)
