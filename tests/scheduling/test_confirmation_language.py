"""The booking confirmation the front desk prints: what the patient takes home is in the language
of their messages (through the catalogue, locale/<language>); the notes for staff stay English and
are left off the paper."""

import re

import pytest

from scheduling import roles
from tests.axe import axe_source, serious
from tests.conftest import log_in
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client, unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    client.force_login(user)
    return client


def confirmation(client, case) -> str:
    response = client.get(f"/cases/{case.pk}/confirmation/")
    assert response.status_code == 200
    return response.content.decode()


def handout(page: str) -> str:
    """The part for the patient: the element carrying their language."""
    return re.search(r'<div lang="(?:en|es)">(.*?)</div>\s*\n', page, re.S).group(1)


def test_a_spanish_speaking_patient_takes_home_spanish(clerk_client, unit):
    case = case_made(site=unit, patient={"language": "es", "first_name": "María"},
                     medications=["warfarin", "apixaban"], driver_name="")

    page = confirmation(clerk_client, case)
    part = handout(page)

    assert '<div lang="es">' in page
    for spanish in (
        "Cuándo y dónde",
        "martes 3 de marzo de 2026",
        "Hora de llegada</th><td><strong>07:00</strong>",
        "después de las <strong>00:30 del martes 3 de marzo</strong>",
        "Solo líquidos claros",
        "Medicamentos que se pausan",
        "jueves 26 de febrero de 2026",
        "El INR se mide el día de la cita.",
        "Se omiten 4 dosis.",
        "Siga las instrucciones de su equipo médico",
        "documento de identidad con foto",
        "Zapatos sin cordones",
        "un adulto debe llevarle a casa",
        "Puede leer todo esto, confirmar que vendrá",
    ):
        assert spanish in part, spanish
    for english in ("When and where", "Arrival time", "Tuesday", "March", "Photo ID",
                    "care team", "Eating and drinking"):
        assert english not in part, english
    # The clerk's own words stay English, and stay off the paper.
    assert "<h1>Confirmación de su cita</h1>" in part
    assert "<title>Booking confirmation" in page
    assert "is in Spanish, the language of their messages" in page
    staff_note = re.search(r'<p class="error no-print" lang="en">No driver recorded\.', part)
    assert staff_note


def test_an_english_speaking_patient_takes_home_english(clerk_client, unit):
    case = case_made(site=unit, medications=["warfarin"])

    page = confirmation(clerk_client, case)
    part = handout(page)

    assert '<div lang="en">' in page
    # The unit's own language is written the site's way (en-US: a 12-hour clock, month first).
    assert "Arrival time</th><td><strong>7:00 AM</strong>" in part
    assert "after <strong>12:30 AM on Tue Mar 3</strong>" in part
    assert "Thursday, February 26, 2026" in part
    assert "born 05/17/1948, MRN" in part
    assert "Follow your care team's instructions" in part
    assert "Tom Whitfield, phone (212) 555-0101. You can only go home with an adult driver." in part
    assert "the language of their messages" not in page


def test_an_english_handout_follows_the_site_clock_24_h_in_en_gb_12_h_in_en_us(clerk_client,
                                                                              unit):
    case = case_made(site=unit, medications=["warfarin"])
    assert "Arrival time</th><td><strong>7:00 AM</strong>" in handout(
        confirmation(clerk_client, case))

    unit.locale = "en-GB"
    unit.save(update_fields=["locale"])
    part = handout(confirmation(clerk_client, case))

    assert "Arrival time</th><td><strong>07:00</strong>" in part
    assert "Procedure starts at about</th><td>08:30</td>" in part
    assert "after <strong>00:30 on Tue 3 Mar</strong>" in part
    assert "Thursday 26 February 2026" in part
    assert " AM" not in part
    assert " PM" not in part


def test_a_spanish_handout_keeps_its_language_s_24_hour_clock_on_an_en_us_site(clerk_client,
                                                                              unit):
    case = case_made(site=unit, patient={"language": "es"})

    part = handout(confirmation(clerk_client, case))

    assert "Hora de llegada</th><td><strong>07:00</strong>" in part
    assert " AM" not in part


def test_a_patient_in_a_language_not_written_takes_home_english(clerk_client, unit):
    case = case_made(site=unit, patient={"language": "tlh"})

    page = confirmation(clerk_client, case)

    assert '<div lang="en">' in page
    assert "When and where" in handout(page)


@pytest.mark.django_db(transaction=True)
def test_the_spanish_handout_prints_without_the_staff_notes_and_passes_axe(page, unit):
    """In Chromium, on a phone: the page passes axe-core; printed, the paper carries the
    patient's Spanish and none of the clerk's English notes."""
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    case = case_made(site=unit, patient={"language": "es"}, medications=["warfarin"],
                     driver_name="")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, clerk.username)

    page.goto(f"/cases/{case.pk}/confirmation/")

    assert serious(page, axe_source()) == []
    assert page.get_by_role("heading", name="Cuándo y dónde").is_visible()
    assert page.get_by_text("No driver recorded.").is_visible()
    page.emulate_media(media="print")
    assert page.get_by_role("heading", name="Cuándo y dónde").is_visible()
    assert page.get_by_text("un adulto debe llevarle a casa").is_visible()
    assert not page.get_by_text("No driver recorded.").is_visible()
    assert not page.get_by_text("already passed").is_visible()
    assert page.get_by_role("heading", name="Confirmación de su cita").is_visible()
