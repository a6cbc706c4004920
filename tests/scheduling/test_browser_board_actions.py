"""The board's one-click steps in the browser (Chromium driven by Playwright): a nurse takes a case
through its day by clicking, and a second screen showing the same board follows without a
reload."""

import pytest
from playwright.sync_api import expect

from scheduling import roles
from scheduling.models import CaseStatus, Stage
from scheduling.services.tracking import STAGE_STATUS
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


def test_a_nurse_clicks_a_case_through_its_day_and_the_wall_screen_follows(
    page, unit, case, wall
):
    log_in(page, staff(unit, roles.NURSE).username)
    page.goto(BOARD)
    row = page.locator(f"#case-{case.pk}")
    wall_status = wall.locator(f"#case-{case.pk} .case-status")
    expect(wall_status).to_contain_text("Booked")

    # Check in from the keyboard: the buttons are plain, focusable form buttons.
    row.get_by_role("button", name="Check in").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash li.success")).to_have_text("Whitfield, Margaret is checked in.")
    expect(wall_status).to_contain_text("Checked in", timeout=FOLLOWS_WITHIN_MS)

    for stage in Stage.objects.filter(case=case).order_by("position"):
        name = stage.get_kind_display()
        block = wall.locator(f"#stage-{stage.pk}")

        row.get_by_role("button", name=f"Start {name.lower()}").click()
        expect(page.locator(".flash li.success")).to_contain_text(f"{name.lower()} started")
        expect(wall_status).to_contain_text(
            CaseStatus(STAGE_STATUS[stage.kind]).label, timeout=FOLLOWS_WITHIN_MS
        )
        expect(block).to_have_attribute("data-state", "running", timeout=FOLLOWS_WITHIN_MS)

        row.get_by_role("button", name=f"Finish {name.lower()}").click()
        expect(page.locator(".flash li.success")).to_contain_text(f"{name.lower()} finished")
        expect(block).to_have_attribute("data-state", "done", timeout=FOLLOWS_WITHIN_MS)
        expect(wall_status).to_contain_text(f"{name} done", timeout=FOLLOWS_WITHIN_MS)

    row.get_by_role("button", name="Discharge").click()
    expect(page.locator(".flash li.success")).to_have_text("Whitfield, Margaret is discharged.")
    expect(wall_status).to_contain_text("Discharged", timeout=FOLLOWS_WITHIN_MS)

    # A mistaken discharge is undone with one more click, and the wall screen follows too.
    row.get_by_role("button", name="Undo").click()
    # Back before the discharge: recovery is over, the patient waits to go home.
    expect(wall_status).to_contain_text("Recovery done", timeout=FOLLOWS_WITHIN_MS)
    assert wall.evaluate("window.boardNotReloaded") is True
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY


def test_a_refused_step_is_explained_on_the_board(page, unit, case):
    log_in(page, staff(unit, roles.FRONT_DESK).username)
    page.goto(BOARD)
    row = page.locator(f"#case-{case.pk}")

    row.get_by_role("button", name="Check in").click()
    row.get_by_role("button", name="Start pre-op").click()

    expect(page.locator(".flash li.error")).to_have_text(
        "Only a nurse or clinician may start or finish a stage or discharge a patient."
    )
    expect(page.locator(f"#case-{case.pk} .case-status")).to_contain_text("Checked in")

