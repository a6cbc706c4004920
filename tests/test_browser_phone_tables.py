"""The front desk's tables on a phone: a wide table scrolls inside its own box, so the page never
scrolls sideways and the menu, headings and buttons stay on screen."""

import pytest

from scheduling import roles
from tests.conftest import log_in
from tests.factories import TUESDAY, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_no_front_desk_page_with_a_table_is_wider_than_a_phone(page):
    site = build_unit(code="main")
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[site])
    case = case_made(site=site, medications=["warfarin"])
    page.set_viewport_size(PHONE)
    log_in(page, clerk.username)

    for address, table in [
        (f"/day/?site=main&date={TUESDAY.isoformat()}", "table.day-list"),
        (f"/cases/{case.pk}/", "#case-messages"),
        ("/patients/?q=Whitfield", "#search-results"),
        (f"/patients/{case.patient.pk}/", "#patient-cases"),
    ]:
        page.goto(address)
        page.locator(table).first.wait_for()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{address} is {wide} px wide on a {PHONE['width']} px phone"


def test_the_plan_page_fits_a_managers_phone(page):
    site = build_unit(code="main")
    manager = UserFactory(roles=[roles.ADMIN], sites=[site])
    page.set_viewport_size(PHONE)
    log_in(page, manager.username)
    page.goto(f"/plan/?site=main&date={TUESDAY.isoformat()}")
    page.get_by_label("What if").wait_for()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the plan page is {wide} px wide on a {PHONE['width']} px phone"
