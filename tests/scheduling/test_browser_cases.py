"""A clerk reschedules and cancels a case in the browser (Chromium driven by Playwright)."""

import re

import pytest

from scheduling import roles
from scheduling.models import Case, CaseStatus
from tests.conftest import log_in
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clerk(unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    return user


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def test_a_clerk_reschedules_a_case_to_a_free_time(page, clerk, case):
    log_in(page, clerk.username)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Reschedule").click()

    page.get_by_label("New date").fill("2026-03-04")
    page.get_by_role("button", name="Show free times").click()
    page.get_by_role("radio", name=re.compile(r"^10:00 AM ")).check()
    page.get_by_role("button", name="Reschedule to the chosen time").click()

    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.locator(".flash").inner_text().startswith(
        "Rescheduled to Wednesday, March 4, 2026: arrival 8:30 AM, procedure 10:00 AM."
    )
    assert page.locator("#case-day").inner_text() == "Wednesday, March 4, 2026"
    assert page.locator("#case-procedure-start").inner_text() == "10:00 AM"
    assert page.locator("#case-status").inner_text() == "Booked"
    case.refresh_from_db()
    assert case.plan_version == 2


def test_a_clerk_cancels_a_case_with_a_reason(page, clerk, case):
    log_in(page, clerk.username)
    page.goto(f"/cases/{case.pk}/")
    cancel = page.get_by_role("button", name="Cancel the case")

    cancel.click()
    assert page.get_by_role("alert").inner_text() == "Say why the case is cancelled."
    page.get_by_label("Why is the case cancelled?").fill("The patient's pain has settled.")
    cancel.click()

    assert page.locator(".flash").inner_text() == (
        "The case is cancelled. Its rooms and bays are free again."
    )
    assert page.locator("#case-status").inner_text() == "Cancelled"
    assert page.locator("#cancel-reason").inner_text() == "The patient's pain has settled."
    assert page.get_by_role("button", name="Cancel the case").count() == 0
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CANCELLED
