"""Planning with real parts: a `celery worker` subprocess on Redis and PostgreSQL solves the plan
run this process asks for through the API; in a real browser, the manager's page shows the run
waiting, then its proposal once the worker's work is done, and applies it.

The worker runs on the tests' clock (Monday 2 March 2026, ticking), so the day planned is ahead
of it as it is of this process. These tests commit for real (transaction=True), so the worker's
own connections see the rows; the task is sent after commit, as in production.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scheduling import roles
from scheduling.models import WaitingStatus
from scheduling.plan.runs import plan_run_execute
from scheduling.plan_models import PlanRun, PlanRunStatus
from tests.axe import axe_source, serious
from tests.conftest import REDIS_SERVER, client_for, log_in, project_broker_forget
from tests.factories import NOW, UserFactory, case_made
from tests.notifications.test_delivery_worker import (
    _wait_for_group_to_die,
    _wait_for_worker_connections_to_close,
    database_url,
)
from tests.scheduling.test_plan_day import at, wait
from tests.scheduling.test_plan_page import API

pytestmark = [REDIS_SERVER, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90  # seconds for the worker to start and plan
WORKER = (
    "import sys, time_machine\n"
    f"time_machine.travel({NOW.timestamp()}, tick=True).start()\n"
    "from celery.__main__ import main\n"
    "sys.argv = ['celery', '-A', 'vertebro_site', 'worker', '--pool', 'solo',\n"
    "            '--loglevel', 'WARNING', '--without-gossip', '--without-mingle',\n"
    "            '-n', 'planner@%h']\n"
    "main()\n"
)


@pytest.fixture
def start_worker(tmp_path):
    """`start_worker()` starts a worker on the tests' Redis (CELERY_BROKER_URL); it is stopped
    when the test ends."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail("VERTEBRO_REQUIRE_SERVICES is set but CELERY_BROKER_URL is not Redis")
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    project_broker_forget()  # the plan run is sent on commit, to the broker the worker reads
    log = tmp_path / "worker.log"
    started = []

    def start() -> None:
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker,
               "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
        with open(log, "ab") as out:
            started.append(subprocess.Popen(
                [sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            ))

    yield start
    for process in started:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        _wait_for_group_to_die(process.pid)
    _wait_for_worker_connections_to_close()
    if started and log.exists():
        print(log.read_text(errors="replace")[-3000:])


def test_a_worker_plans_the_day_asked_for_through_the_api(unit, start_worker):
    api = client_for(roles.ADMIN)
    late = case_made(site=unit, start=at(13), driver_name="")
    wait(unit)
    start_worker()
    asked = api.post(API, {"time_limit": 2}, format="json")
    assert asked.status_code == 202
    url = asked.json()["url"]
    deadline = time.monotonic() + DEADLINE
    seen = [asked.json()["status"]]
    while seen[-1] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        body = api.get(url).json()
        seen.append(body["status"])
    assert seen[0] == "queued"
    assert seen[-1] == "done", body
    assert body["proposal"]["placed"] == 2
    row = next(r for r in body["proposal"]["rows"] if r["key"] == f"case:{late.pk}")
    assert row["moved"] is True
    assert PlanRun.objects.get().started_at is not None


def test_in_the_browser_a_manager_plans_sees_progress_then_the_proposal_and_applies(page, unit):
    user = UserFactory(roles=[roles.ADMIN])
    unit.staff.add(user)
    late = case_made(site=unit, start=at(13), driver_name="")
    entry = wait(unit, priority="urgent")
    log_in(page, user.username)
    page.goto("/plan/?site=main&date=2026-03-03")
    page.get_by_label("Think for up to").select_option("2")
    page.get_by_role("button", name="Propose a plan").click()

    # Nobody has solved it yet: the page says the plan is waiting, in a polite live region.
    progress = page.locator(".plan-progress")
    assert progress.inner_text() == "Waiting for the planner to start."
    assert progress.get_attribute("aria-live") == "polite"
    assert serious(page, axe_source()) == []
    # The worker's work, done here (the test above has a real worker take the task from Redis);
    # the page, polling, shows the proposal once the run is done.
    plan_run_execute(run_id=PlanRun.objects.get().pk)

    page.get_by_text("The proposal is ready.").wait_for(timeout=DEADLINE * 1000)
    assert PlanRun.objects.get().status == PlanRunStatus.DONE
    table = page.locator(".plan-table")
    moved = table.locator(f'tr[data-key="case:{late.pk}"]')
    assert moved.locator("td").nth(1).inner_text() == "13:00"
    assert moved.locator("td").nth(5).inner_text() == "moved"
    new = table.locator(f'tr[data-key="entry:{entry.pk}"]')
    assert new.locator("td").nth(5).inner_text() == "new booking"
    assert page.locator(".plan-status").inner_text() == "The best plan for this day."
    assert serious(page, axe_source()) == []

    page.get_by_role("button", name=re.compile(r"^Apply this plan \(2 changes\)")).click()
    assert page.locator(".flash").inner_text().startswith("Plan applied: 2 cases booked or moved")
    assert "13:00" not in page.locator(".current-plan").inner_text()
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.SCHEDULED
