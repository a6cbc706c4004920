"""The day board in the browser (Chromium driven by Playwright): it shows the day's cases and
picks up a change made elsewhere without a reload."""

import pytest

from scheduling import roles
from scheduling.models import Stage, StageKind
from tests.conftest import TUESDAY, log_in
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def nurse_user(unit):
    user = UserFactory(roles=[roles.NURSE])
    unit.staff.add(user)
    return user


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def test_the_board_shows_the_day_and_a_change_made_elsewhere_without_a_reload(
    page, nurse_user, case
):
    log_in(page, nurse_user.username)
    page.goto(f"/board/?site=main&date={TUESDAY.isoformat()}&refresh=1")
    pre_op = Stage.objects.get(case=case, kind=StageKind.PRE_OP)
    block = page.locator(f"#stage-{pre_op.pk}")

    assert page.locator(f"#case-{case.pk}").get_by_role("link", name="Whitfield, Margaret").count()
    assert block.get_attribute("data-state") == "projected"
    page.evaluate("window.boardNotReloaded = true")

    Stage.objects.filter(pk=pre_op.pk).update(actual_start=pre_op.planned_start)

    page.wait_for_selector(f"#stage-{pre_op.pk}[data-state='running']", timeout=5_000)
    assert page.evaluate("window.boardNotReloaded") is True
