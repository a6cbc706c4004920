"""The patient's page in a real browser (Debian's Chromium), logged out, on a phone (390x844),
in English and in Spanish: confirm passes the CSRF check (the page once answered "403 Origin
null"), cancel with a reason, ask for another time and pick one; axe-core finds nothing serious
or critical on any of the pages. One browser and one live server for the module."""

from datetime import date, datetime
from urllib.parse import urlsplit

import pytest

from notifications.links import patient_link
from scheduling.models import Case, CaseEvent
from tests.axe import axe_source, serious
from tests.factories import build_unit, case_made

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
THURSDAY = date(2026, 3, 5)

WORDS = {
    "en": {
        "confirm": "Confirm I will come", "confirmed": "Confirmed",
        "cancel": "Cancel my visit", "reason": "I cannot come that day", "continue": "Continue",
        "sure": "Yes, cancel my visit", "cancelled": "This appointment has been cancelled.",
        "another": "Ask for another time", "move": "Move my visit to this time",
        "moved": "Your visit has moved.", "when": "When", "legend": "Why are you cancelling?",
    },
    "es": {
        "confirm": "Confirmo que iré", "confirmed": "Confirmada",
        "cancel": "Cancelar mi cita", "reason": "No puedo ir ese día", "continue": "Continuar",
        "sure": "Sí, cancelar mi cita", "cancelled": "Esta cita ha sido cancelada.",
        "another": "Pedir otro horario", "move": "Cambiar mi cita a este horario",
        "moved": "Su cita ha cambiado de horario.", "when": "Cuándo",
        "legend": "¿Por qué cancela la cita?",
    },
}


@pytest.fixture
def phone(browser, live_server):
    """A logged-out phone: no session, no cookie but the CSRF one the page sets."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def booked(language: str, site=None) -> Case:
    return case_made(site=site or build_unit(), day=THURSDAY, patient={"language": language})


def open_page(phone, case: Case) -> str:
    path = urlsplit(patient_link(case)).path
    phone.goto(path)
    return path


def fits_the_phone(phone) -> bool:
    return phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_confirm_works_in_the_browser(phone, language):
    words = WORDS[language]
    case = booked(language)
    open_page(phone, case)
    assert phone.locator("html").get_attribute("lang") == language
    assert phone.get_by_role("heading", name=words["when"]).is_visible()
    assert fits_the_phone(phone)

    phone.get_by_role("button", name=words["confirm"]).click()

    phone.get_by_role("status").filter(has_text=words["confirmed"]).wait_for()
    assert "403" not in phone.content()
    assert Case.objects.get(pk=case.pk).status == "confirmed"
    assert CaseEvent.objects.get(case=case).source == "patient_link"


@pytest.mark.parametrize("language", ["en", "es"])
def test_cancel_with_a_reason_works_in_the_browser(phone, language):
    words = WORDS[language]
    case = booked(language)
    open_page(phone, case)

    phone.get_by_role("link", name=words["cancel"]).click()
    phone.get_by_role("group", name=words["legend"]).get_by_label(words["reason"]).check()
    assert fits_the_phone(phone)
    phone.get_by_role("button", name=words["continue"]).click()
    phone.get_by_role("button", name=words["sure"]).click()

    phone.get_by_role("alert").filter(has_text=words["cancelled"]).wait_for()
    cancelled = Case.objects.get(pk=case.pk)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "I cannot come that day")


@pytest.mark.parametrize("language", ["en", "es"])
def test_ask_for_another_time_and_pick_one_works_in_the_browser(phone, language):
    words = WORDS[language]
    case = booked(language)
    open_page(phone, case)

    phone.get_by_role("link", name=words["another"]).click()
    choices = phone.get_by_role("radio")
    assert choices.count() == 5
    assert fits_the_phone(phone)
    choices.nth(3).check()
    picked = choices.nth(3).get_attribute("value")
    phone.get_by_role("button", name=words["move"]).click()

    phone.get_by_role("status").filter(has_text=words["moved"]).wait_for()
    moved = Case.objects.get(pk=case.pk)
    assert moved.procedure_start.isoformat() != case.procedure_start.isoformat()
    assert moved.procedure_start == datetime.fromisoformat(picked)


def test_axe_finds_nothing_serious_on_the_patients_pages(phone):
    source = axe_source()
    found = {}
    site = build_unit()
    for language in ("en", "es"):
        case = booked(language, site)
        path = open_page(phone, case)
        found[f"{language} page"] = serious(phone, source)
        phone.goto(f"{path}cancel/")
        found[f"{language} cancel"] = serious(phone, source)
        phone.get_by_role("radio").first.check()
        phone.get_by_role("button", name=WORDS[language]["continue"]).click()
        found[f"{language} are you sure"] = serious(phone, source)
        phone.goto(f"{path}move/")
        found[f"{language} move"] = serious(phone, source)
    phone.goto("/p/not-a-token/")
    found["invalid link"] = serious(phone, source)

    assert {name: problems for name, problems in found.items() if problems} == {}
