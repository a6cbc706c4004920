"""The booking screen in a real browser (Chromium through Playwright): a new patient booked in
a dozen actions with the free times beside the form, the day-load strip, and typed work kept
through an idle logout."""

import os
import shutil
import time
from pathlib import Path

import pytest

from scheduling import roles
from scheduling.models import Case
from tests.conftest import log_in
from tests.factories import PatientFactory, UserFactory, case_made

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs/screenshots"
MOST_ACTIONS = 12
pytestmark = pytest.mark.django_db(transaction=True)


class Clerk:
    """Does what a clerk does on the page and counts it: a click, or a field typed (counted once,
    however many keys). Moving between fields (Tab) is not an action."""

    def __init__(self, page):
        self.page = page
        self.actions = 0

    def type(self, label: str, text: str, *, exact: bool = False) -> None:
        self.page.get_by_label(label, exact=exact).fill(text)
        self.actions += 1

    def click(self, locator) -> None:
        locator.click()
        self.actions += 1


def booking_opened(page) -> None:
    """After logging in a clerk lands on the booking page, its free times fetched. (Opening it
    again at once would race: every request saves the session, and the first page's fetch
    could save it back without the second page's one-time token.)"""
    page.get_by_role("heading", name="Book a case").wait_for()
    page.locator("#free-times .times").wait_for()
    page.wait_for_load_state("networkidle")


def clerk_of(site):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    site.staff.add(clerk)
    return clerk


def first_available(page):
    return page.get_by_label("First available")


def new_patient_typed(clerk: Clerk) -> None:
    page = clerk.page
    clerk.type("First name", "Margaret")
    clerk.type("Last name", "Whitfield")
    clerk.type("Date of birth", "03/17/1944")  # as the en-US site writes it
    clerk.type("MRN", "MRN-1001", exact=True)
    clerk.type("Mobile phone", "(212) 555-0100")
    clerk.click(page.get_by_role("button", name="Answers as expected"))
    clerk.type("Weeks of conservative treatment", "8")
    clerk.click(page.get_by_label("Clopidogrel"))
    clerk.type("Driver's name", "Tom Whitfield")
    clerk.type("Driver's phone", "(212) 555-0101")


def test_a_new_patient_with_a_held_medicine_and_a_driver_is_booked_in_twelve_actions(
    page, unit
):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, clerk_of(unit).username)
    booking_opened(page)
    clerk = Clerk(page)
    started = time.perf_counter()

    new_patient_typed(clerk)
    clerk.click(first_available(page))
    clerk.click(page.get_by_role("button", name="Book", exact=True))

    page.get_by_role("heading", name="Booking confirmation").wait_for()
    elapsed = time.perf_counter() - started
    case = Case.objects.get()
    assert case.patient.date_of_birth.isoformat() == "1944-03-17"
    assert [hold.drug.code for hold in case.held_medications.all()] == ["clopidogrel"]
    assert case.driver_name == "Tom Whitfield"
    assert case.procedure_start.isoformat() == "2026-03-02T13:30:00+00:00"  # 8:30 AM today
    assert clerk.actions <= MOST_ACTIONS
    print(f"\nbooking screen: {clerk.actions} actions, 2 page loads, {elapsed:.2f} s in Chromium")


def test_the_free_times_come_beside_the_form_without_a_page_load(page, unit, tmp_path):
    for start in ("03T08:30", "03T09:30", "04T08:30", "05T11:00"):
        case_made(site=unit, start=f"2026-03-{start}:00-05:00", patient=PatientFactory())
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, clerk_of(unit).username)
    booking_opened(page)
    page.evaluate("window.sameDocument = true")
    typed = page.get_by_label("First name")
    typed.fill("Margaret")

    strip = page.get_by_role("list", name="Next days: how full")
    assert strip.get_by_role("button").count() == 15
    tuesday = strip.get_by_role("button", name="Tue Mar 3").inner_text()
    assert "2 cases" in tuesday
    assert not tuesday.startswith("0%")
    strip.get_by_role("button", name="Thu Mar 5").click()
    times = page.get_by_role("group", name="Free times on Thursday, March 5, 2026")
    times.wait_for()
    assert page.get_by_label("Procedure date").input_value() == "2026-03-05"
    assert page.evaluate("window.sameDocument") is True  # no page load
    assert typed.input_value() == "Margaret"
    assert times.get_by_role("heading", name="Morning").is_visible()
    assert times.get_by_role("heading", name="Afternoon").is_visible()
    assert first_available(page).is_visible()
    # The rooms are said once for the day, not beside each time.
    assert times.get_by_text("Room 1", exact=False).count() == 1
    assert times.get_by_role("radio").count() > 20

    screenshots = {"booking.png": (1366, 900), "booking-phone.png": (390, 844)}
    for name, (width, height) in screenshots.items():
        page.set_viewport_size({"width": width, "height": height})
        if width < 600:
            times.scroll_into_view_if_needed()
        shot = tmp_path / name
        page.screenshot(path=shot)
        assert shot.stat().st_size > 10_000
        if os.environ.get("VERTEBRO_UPDATE_SCREENSHOTS"):  # refreshes the README's pictures
            shutil.copyfile(shot, SCREENSHOTS / name)


def test_without_javascript_show_free_times_still_lists_them(browser, live_server, unit):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, clerk_of(unit).username)
        page.get_by_role("heading", name="Book a case").wait_for()
        page.get_by_label("Procedure date").fill("2026-03-03")
        page.get_by_role("button", name="Show free times").click()
        times = page.get_by_role("group", name="Free times on Tuesday, March 3, 2026")
        assert times.get_by_role("radio").count() > 20
        # Nothing typed yet is not an error: Show free times is not Book.
        assert page.get_by_role("alert").count() == 0
    finally:
        context.close()


def test_a_logout_mid_booking_keeps_what_was_typed_and_says_why(page, unit):
    clerk = clerk_of(unit)
    log_in(page, clerk.username)
    booking_opened(page)
    new_patient_typed(Clerk(page))
    first_available(page).check()

    # The session ends while the clerk types (an idle logout): only the session cookie goes.
    context = page.context
    kept = [cookie for cookie in context.cookies() if cookie["name"] != "sessionid"]
    context.clear_cookies()
    context.add_cookies(kept)
    page.get_by_role("button", name="Book", exact=True).click()

    assert page.get_by_text("Your session ended; log in again to finish the booking").is_visible()
    assert Case.objects.count() == 0
    page.get_by_label("Username").fill(clerk.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()

    page.get_by_text("What you had typed is back").wait_for()
    assert page.get_by_label("Last name").input_value() == "Whitfield"
    assert page.get_by_label("Date of birth").input_value() == "03/17/1944"
    assert page.get_by_label("Clopidogrel").is_checked()
    assert page.get_by_label("Driver's phone").input_value() == "(212) 555-0101"
    page.get_by_role("group", name="Free times on Monday, March 2, 2026").wait_for()
    assert page.locator('.slots input[name="start"]:checked').count() == 1
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("heading", name="Booking confirmation").wait_for()
    assert Case.objects.get().patient.last_name == "Whitfield"


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CLINICIAN])
def test_on_a_phone_the_booking_page_and_its_menu_fit_the_screen_width(page, unit, role):
    # The menu of a clerk's six links, and the clinician's override reason (a wide textarea in
    # a fieldset, which sizes to its widest child unless told not to), made the page scroll
    # sideways at 390 px.
    user = UserFactory(roles=[role])
    unit.staff.add(user)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, user.username)
    booking_opened(page)
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_on_a_phone_the_confirmation_wraps_the_patients_long_link(page, unit):
    case = case_made(site=unit, start="2026-03-03T08:30:00-05:00", patient=PatientFactory())
    clerk = clerk_of(unit)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, clerk.username)
    booking_opened(page)
    page.goto(f"/cases/{case.pk}/confirmation/")
    page.get_by_role("heading", name="Booking confirmation").wait_for()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
