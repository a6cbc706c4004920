"""A clerk books in a real browser (Chromium through Playwright), finding every control by its
label or role, as a keyboard or screen-reader user would."""

import os
import shutil
from pathlib import Path

import pytest

from scheduling import roles
from scheduling.models import Case
from tests.conftest import TUESDAY, log_in
from tests.factories import PatientFactory, UserFactory, case_made

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs/screenshots/booking-confirmation.png"
ANSWERS = {
    "active infection": "No",
    "fracture painful": "Yes",
    "bleeding disorder": "No",
    "tumor spread": "No",
    "allergic to bone cement": "No",
    "caused by an injury": "No",
    "pre-op imaging": "Yes",
}
pytestmark = pytest.mark.django_db(transaction=True)


def clerk_of(site):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    site.staff.add(clerk)
    return clerk


def fill_in_and_show_free_times(page):
    page.get_by_label("First name").fill("Margaret")
    page.get_by_label("Last name").fill("Whitfield")
    page.get_by_label("Date of birth").fill("1948-05-17")
    page.get_by_label("MRN", exact=True).fill("MRN-1001")
    page.get_by_label("Mobile phone").fill("(212) 555-0100")
    page.get_by_label("Email address").fill("m.whitfield@example.org")
    for question, answer in ANSWERS.items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("Weeks of conservative treatment").fill("8")
    page.get_by_label("Clopidogrel").check()
    page.get_by_label("Driver's name").fill("Tom Whitfield")
    page.get_by_label("Driver's phone").fill("(212) 555-0101")
    page.get_by_label("Procedure date").fill(TUESDAY.isoformat())
    page.get_by_role("button", name="Show free times").click()


def free_times(page):
    times = page.get_by_role("group", name="Free times on Tuesday, March 3, 2026")
    return times.locator('.slots input[name="start"]')


def test_a_clerk_books_from_an_empty_form_to_the_confirmation(page, unit, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, clerk_of(unit).username)

    fill_in_and_show_free_times(page)
    free_times(page).first.check()
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_role("heading", name="Booking confirmation").wait_for()
    case = Case.objects.get()
    assert page.url.endswith(f"/cases/{case.pk}/confirmation/")
    arrival = page.get_by_role("row", name="Arrival time").inner_text()
    assert arrival.split("\t")[-1].startswith("7:00 AM (checking in")  # the en-US site's clock
    assert page.get_by_role("row", name="Clopidogrel").is_visible()
    shot = tmp_path / "booking-confirmation.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("VERTEBRO_UPDATE_SCREENSHOTS"):  # refreshes the README's picture
        shutil.copyfile(shot, SCREENSHOT)


def test_a_time_lost_to_another_clerk_is_told_with_the_free_times_now(page, tiny_unit):
    log_in(page, clerk_of(tiny_unit).username)
    fill_in_and_show_free_times(page)
    chosen = free_times(page).first
    chosen.check()
    lost = chosen.get_attribute("value")

    # Another clerk books that very time while this one is still on the page, for another
    # patient (not a second Margaret Whitfield, whom the form would offer to reuse).
    case_made(site=tiny_unit, start=lost, patient=PatientFactory(), driver_name="")
    page.get_by_role("button", name="Book", exact=True).click()

    assert page.get_by_role("alert").first.inner_text().startswith("That time was just taken")
    told = page.get_by_text("That time was just taken; here are the free times now.")
    assert told.first.is_visible()
    assert free_times(page).count() > 0
    assert page.locator(f'input[name="start"][value="{lost}"]').count() == 0
    assert Case.objects.count() == 1
