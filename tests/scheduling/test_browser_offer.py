"""The offer's page in a real browser (Debian's Chromium), logged out, on a phone: the patient
taps Accept and gets the time (the form's CSRF check passes: the page sends its origin), and
the page passes axe-core, in English and in Spanish."""

import pytest
from playwright.sync_api import expect

from scheduling.offer_models import OfferStatus
from scheduling.offers.links import offer_token
from scheduling.services import case_cancel
from tests.axe import axe_source, serious
from tests.factories import UserFactory, case_made
from tests.scheduling.offer_helpers import DAYTIME, offer_of, offered, waiting
from tests.scheduling.test_plan_day import at

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def daytime(clock):
    clock.move_to(DAYTIME)



@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def offer_for(site, **patient):
    entry = waiting(site, **patient)
    case = case_made(site=site, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    return offer_of(entry)


def test_a_patient_accepts_an_offer_on_a_phone(tiny_unit, phone):
    offer = offer_for(tiny_unit, first_name="Lena")
    phone.goto(f"/o/{offer_token(offer)}/")
    expect(phone.get_by_role("heading", name="Hello Lena")).to_be_visible()
    assert serious(phone, axe_source()) == []
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    phone.get_by_role("button", name="Accept this time").click()
    expect(phone.get_by_text("The time is yours.")).to_be_visible()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.case_id is not None


def test_the_spanish_page_passes_axe_and_declines(tiny_unit, phone):
    offer = offer_for(tiny_unit, first_name="María", language="es")
    phone.goto(f"/o/{offer_token(offer)}/")
    expect(phone.get_by_role("heading", name="Hola, María")).to_be_visible()
    assert serious(phone, axe_source()) == []
    phone.get_by_role("button", name="No, gracias").click()
    expect(phone.get_by_text("Gracias. Sigue en la lista de espera")).to_be_visible()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
