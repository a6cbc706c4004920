"""The demo's day at 11:00 for the board's browser tests: one room runs about 40 minutes late and
a cement set runs. Seeded once per module (tests/live_day.py) and read by each test in a browser
context of its own, logged in as the demo's nurse."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.conftest import log_in
from tests.live_day import day_served

DEMO_AT = datetime(2026, 3, 2, 11, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture(scope="module")
def demo_day(django_db_setup, django_db_blocker, browser):
    """The live server's address and the nurse's logged-in browser state."""
    with day_served(django_db_blocker, at=DEMO_AT,
                    build=lambda: call_command("seed_demo", stdout=io.StringIO())) as (url, _):
        context = browser.new_context(base_url=url)
        try:
            tab = context.new_page()
            log_in(tab, "nurse", "demo-nurse-2026")
            tab.wait_for_url(lambda address: "/accounts/login/" not in address)
            state = context.storage_state()
        finally:
            context.close()
        yield url, state


@pytest.fixture
def demo_board(browser, demo_day, clock):
    """A fresh tab (nothing remembered from another test, wall mode included) on the demo's
    day, at 11:00, logged in as the nurse. Mark the test `django_db`: its own transaction lets
    the live server's threads reach the database while it runs."""
    clock.move_to(DEMO_AT)
    url, state = demo_day
    context = browser.new_context(base_url=url, storage_state=state)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
