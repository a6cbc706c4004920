"""The board's one-click steps in the browser (Chromium driven by Playwright): a nurse takes a case
through its day by clicking, and a second screen showing the same board follows without a
reload."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from scheduling import roles
from scheduling.models import CaseStatus
from scheduling.services.tracking import stage_finish
from tests.conftest import log_in
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db(transaction=True)
BOARD = "/board/?site=main&date=2026-03-02"
# The second screen polls every second (?refresh=1); allow a few polls for the fetch itself.
FOLLOWS_WITHIN_MS = 3_000


def staff(site, role):
    user = UserFactory(roles=[role])
    site.staff.add(user)
    return user


@pytest.fixture
def case(unit):
    return case_made(site=unit, start="2026-03-02T10:00:00-05:00")


@pytest.fixture
def wall(browser, live_server, unit):
    """A second browser, as on the wall screen, logged in as another nurse."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    log_in(tab, staff(unit, roles.NURSE).username)
    tab.goto(f"{BOARD}&refresh=1")
    tab.evaluate("window.boardNotReloaded = true")
    yield tab
    context.close()


MANUAL_ITEMS = [
    "Consent signed", "Imaging verified", "Fasting confirmed", "Held medicines confirmed stopped",
    "IV placed", "Driver confirmed",
]
VITALS = {
    "BP systolic": "126", "BP diastolic": "79", "Heart rate": "70", "SpO2": "97",
    "Resp. rate": "14",
}


def minutes_pass(clock, minutes: int, *screens) -> None:
    """Time passes with the boards open: a reload every ten minutes keeps each screen's session
    alive, as the board's own refresh does."""
    while minutes > 0:
        clock.shift(timedelta(minutes=min(10, minutes)))
        minutes -= 10
        for screen in screens:
            screen.reload()


def open_panel(row, label: str):
    """Open the step's form in place and answer it."""
    row.locator("details.board-panel > summary", has_text=label).click()
    return row.locator("details.board-panel[open] form")


def record_vitals(row, label: str) -> None:
    form = open_panel(row, label)
    for field, value in VITALS.items():
        form.get_by_label(field).fill(value)
    form.get_by_role("button", name="Record vitals").click()


def test_a_nurse_takes_a_case_through_its_day_and_the_wall_screen_follows(
    page, unit, case, wall, clock
):
    log_in(page, staff(unit, roles.NURSE).username)
    page.goto(BOARD)
    row = page.locator(f"#case-{case.pk}")
    success = page.locator(".flash li.success")
    wall_status = wall.locator(f"#case-{case.pk} .case-status")
    expect(wall_status).to_contain_text("Booked")

    # Check in from the keyboard: the buttons are plain, focusable form buttons.
    row.get_by_role("button", name="Check in").focus()
    page.keyboard.press("Enter")
    expect(success).to_have_text("Whitfield, Margaret is checked in.")
    expect(wall_status).to_contain_text("Checked in", timeout=FOLLOWS_WITHIN_MS)
    assert wall.evaluate("window.boardNotReloaded") is True  # it follows by its own refresh
    row.get_by_role("button", name="Start pre-op").click()
    expect(wall_status).to_contain_text("In pre-op", timeout=FOLLOWS_WITHIN_MS)

    # Pre-op: the checklist and the vitals, in place.
    checklist = open_panel(row, "Checklist 0/7")
    for item in MANUAL_ITEMS:
        checklist.get_by_label(item).check()
    checklist.get_by_role("button", name="Save checklist").click()
    expect(success).to_have_text("Whitfield, Margaret: checklist saved; 1 still to do.")
    record_vitals(row, "Pre-op vitals")
    expect(success).to_have_text("Whitfield, Margaret: pre-op vitals recorded.")
    expect(row.locator("summary", has_text="Checklist 7/7")).to_be_visible()
    minutes_pass(clock, 30, page, wall)
    row.get_by_role("button", name="Finish pre-op").click()
    row.get_by_role("button", name="Start procedure").click()
    expect(wall_status).to_contain_text("In procedure", timeout=FOLLOWS_WITHIN_MS)
    expect(success).to_contain_text("procedure started")
    minutes_pass(clock, 40, page, wall)
    row.get_by_role("button", name="Finish procedure").click()
    # Finished: the row says so at once, before the next stage starts.
    expect(wall_status).to_contain_text("Procedure done", timeout=FOLLOWS_WITHIN_MS)
    row.get_by_role("button", name="Start cement set").click()
    cement = wall.locator(f"#stage-{case.stages.get(kind='cement_set').pk}")
    expect(cement).to_have_attribute("data-state", "running", timeout=FOLLOWS_WITHIN_MS)

    # The cement set's hour: finishing it sooner asks why; after the hour it is one click.
    early = open_panel(row, "Finish cement set early")
    expect(early).to_contain_text("Cement set lasts at least 60 min, until 09:10.")
    expect(success).to_contain_text("cement set started")
    minutes_pass(clock, 60, page, wall)
    row.get_by_role("button", name="Finish cement set").click()
    expect(cement).to_have_attribute("data-state", "done", timeout=FOLLOWS_WITHIN_MS)
    row.get_by_role("button", name="Start recovery").click()
    expect(wall_status).to_contain_text("In recovery", timeout=FOLLOWS_WITHIN_MS)

    # Recovery: discharge waits for the criteria, each named.
    criteria = open_panel(row, "Discharge…")
    expect(criteria).to_contain_text("No recovery vitals are recorded.")
    expect(criteria).to_contain_text("Only a clinician may go ahead")
    record_vitals(row, "Recovery vitals")
    score = open_panel(row, "Aldrete score")
    for label in ["Activity", "Respiration", "Circulation", "Consciousness", "Oxygen saturation"]:
        score.get_by_label(label).select_option("2")
    score.get_by_role("button", name="Record score").click()
    expect(success).to_have_text("Whitfield, Margaret: Aldrete score 10/10 recorded.")
    row.get_by_role("button", name="Driver is here").click()
    expect(success).to_have_text("Whitfield, Margaret: the driver is here.")
    minutes_pass(clock, 30, page, wall)
    row.get_by_role("button", name="Discharge").click()
    expect(success).to_have_text("Whitfield, Margaret is discharged.")
    expect(wall_status).to_contain_text("Discharged", timeout=FOLLOWS_WITHIN_MS)

    # A mistaken discharge is undone with one more click, and the wall screen follows too.
    row.get_by_role("button", name="Undo").click()
    expect(wall_status).to_contain_text("In recovery", timeout=FOLLOWS_WITHIN_MS)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    assert case.stages.get(kind="recovery").actual_end is None


def test_the_front_desk_checks_in_but_gets_no_stage_steps(page, unit, case):
    log_in(page, staff(unit, roles.FRONT_DESK).username)
    page.goto(BOARD)
    row = page.locator(f"#case-{case.pk}")

    row.get_by_role("button", name="Check in").click()

    expect(page.locator(f"#case-{case.pk} .case-status")).to_contain_text("Checked in")
    expect(row.get_by_role("button", name="Undo")).to_be_visible()
    expect(row.get_by_role("button", name="Start pre-op")).to_have_count(0)


def test_an_open_form_survives_the_boards_refresh(page, unit, case):
    log_in(page, staff(unit, roles.NURSE).username)
    page.goto(f"{BOARD}&refresh=1")
    row = page.locator(f"#case-{case.pk}")
    row.get_by_role("button", name="Check in").click()
    row.get_by_role("button", name="Start pre-op").click()
    page.evaluate("window.boardNotReloaded = true")
    form = open_panel(row, "Pre-op vitals")
    form.get_by_label("Heart rate").fill("88")

    page.wait_for_timeout(3_000)  # three refreshes' worth

    expect(form.get_by_label("Heart rate")).to_have_value("88")
    row.locator("details.board-panel[open] > summary").click()  # closed: the refresh resumes
    stage_finish(case=case, kind="pre_op", by=staff(unit, roles.NURSE))  # on another screen
    expect(row.get_by_role("button", name="Finish pre-op")).to_have_count(
        0, timeout=FOLLOWS_WITHIN_MS
    )
    assert page.evaluate("window.boardNotReloaded") is True
