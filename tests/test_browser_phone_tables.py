"""The front desk's and the manager's tables on a phone (and the reports on a tablet): a wide
table scrolls inside its own box, so the page never scrolls sideways and the menu, headings and
buttons stay on screen."""

import pytest

from scheduling import roles
from tests.conftest import log_in
from tests.factories import TUESDAY, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


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
    case_made(site=site)  # the day as booked is a table
    page.set_viewport_size(PHONE)
    log_in(page, manager.username)
    page.goto(f"/plan/?site=main&date={TUESDAY.isoformat()}")
    page.get_by_label("What if").wait_for()
    page.locator("table.current-plan").wait_for()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the plan page is {wide} px wide on a {PHONE['width']} px phone"


@pytest.mark.parametrize("screen", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_reports_of_eight_weeks_fit_a_managers_phone_and_tablet(page, screen):
    # A column a week: the turnover and utilisation tables are far wider than a phone.
    site = build_unit(code="main")
    manager = UserFactory(roles=[roles.ADMIN], sites=[site])
    page.set_viewport_size(screen)
    log_in(page, manager.username)
    page.goto("/reports/?site=main&start=2026-01-05&end=2026-03-01")
    page.locator("#turnover table").wait_for(state="attached")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= screen["width"], f"the reports are {wide} px wide on {screen['width']} px"
