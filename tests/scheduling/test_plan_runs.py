"""Planning off the request path, with the plan run task's work called directly: 202 and a plan
id, polling it, progress in words, a failure said clearly, and only the manager's own sites."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from scheduling import roles
from scheduling.plan.proposal import plan_propose
from scheduling.plan.runs import plan_run_execute
from scheduling.plan_models import PlanRun, PlanRunStatus
from scheduling.tasks import plan_run
from tests.conftest import TUESDAY, build_unit, client_for
from tests.factories import UserFactory, case_made
from tests.scheduling.test_plan_day import at, wait
from tests.scheduling.test_plan_page import API, manager

pytestmark = pytest.mark.django_db
PROPOSAL_KEYS = {"status", "message", "token", "placed", "moves", "end_of_day", "solve_seconds",
                 "rows", "what_if"}


def test_asking_for_a_plan_answers_202_and_the_poll_gives_the_proposal_when_done(unit):
    api = client_for(roles.ADMIN)
    late = case_made(site=unit, start=at(13), driver_name="")
    wait(unit)
    asked = api.post(API, {"time_limit": 2}, format="json")
    assert asked.status_code == 202
    body = asked.json()
    assert body["status"] == "queued"
    assert body["proposal"] is None
    assert asked["Location"] == body["url"]
    assert body["url"].endswith(f"{API}{body['id']}/")
    assert api.get(body["url"]).json()["status"] == "queued"

    plan_run(body["id"])  # the task, in this process

    done = api.get(body["url"])
    assert done.status_code == 200
    run = done.json()
    assert (run["status"], run["progress"], run["error"]) == ("done", "Done.", None)
    assert set(run["proposal"]) == PROPOSAL_KEYS
    assert run["proposal"]["placed"] == 2
    row = next(r for r in run["proposal"]["rows"] if r["key"] == f"case:{late.pk}")
    assert row["current_start"] == "2026-03-03T13:00:00-05:00"
    applied = api.post(API + "apply/", {"token": run["proposal"]["token"]}, format="json")
    assert applied.status_code == 200
    assert len(applied.json()["applied"]) == 2


def test_a_plan_is_solved_once_even_if_its_task_comes_twice(unit):
    wait(unit)
    run = PlanRun.objects.create(site=unit, day=TUESDAY, options={"time_limit": 2})
    assert plan_run_execute(run_id=run.pk).status == PlanRunStatus.DONE
    assert plan_run_execute(run_id=run.pk) is None
    assert plan_run_execute(run_id=run.pk + 1000) is None  # gone: nothing to do


def test_the_planner_says_what_it_is_doing(unit):
    case_made(site=unit, start=at(13), driver_name="")
    wait(unit)
    wait(unit, priority="urgent")
    said = []
    plan_propose(site=unit, day=TUESDAY, waiting_list=True, time_limit=2,
                 what_if="extra_recovery_bay", progress=said.append)
    assert said[:4] == [
        "Step 1 of 4: fitting the most patients, the most urgent first.",
        "Step 2 of 4: ending the day as early as it can.",
        "Step 3 of 4: changing as few bookings as it can.",
        "Step 4 of 4: bringing urgent patients as early as they can be.",
    ]
    assert "Planning the what-if: one more recovery bay." in said


def test_a_day_that_can_no_longer_be_planned_fails_with_its_reason(unit):
    api = client_for(roles.ADMIN)
    run = PlanRun.objects.create(site=unit, day=date(2026, 2, 2), options={})
    plan_run_execute(run_id=run.pk)
    body = api.get(f"/api/v1/sites/main/days/2026-02-02/plan/{run.pk}/").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "date_in_past"
    assert body["proposal"] is None


def test_a_plan_whose_worker_died_is_reported_failed_not_waited_on_for_ever(unit):
    api = client_for(roles.ADMIN)
    run = PlanRun.objects.create(site=unit, day=TUESDAY, status=PlanRunStatus.RUNNING)
    assert api.get(f"{API}{run.pk}/").json()["status"] == "running"
    PlanRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    body = api.get(f"{API}{run.pk}/").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "planner_lost"


def test_bad_input_is_refused_before_anything_is_queued(unit):
    api = client_for(roles.ADMIN)
    assert api.post(API, {"what_if": "more_coffee"}, format="json").status_code == 400
    past = api.post("/api/v1/sites/main/days/2026-02-01/plan/", {}, format="json")
    assert past.json()["code"] == "date_in_past"
    assert not PlanRun.objects.exists()


def test_another_sites_plan_is_not_found(client, unit):
    other = build_unit(code="north", name="North Clinic")
    theirs = PlanRun.objects.create(site=other, day=TUESDAY)
    api = client_for(roles.ADMIN, sites=[unit])
    assert api.get(f"{API}{theirs.pk}/").status_code == 404
    assert api.get(f"{API}{theirs.pk}/").json()["code"] == "not_found"
    assert api.get(f"/api/v1/sites/north/days/2026-03-03/plan/{theirs.pk}/").status_code == 404
    manager(client, unit)
    assert client.get(f"/plan/runs/{theirs.pk}/").status_code == 404
    assert client.get(f"/plan/?site=main&date=2026-03-03&run={theirs.pk}").status_code == 404
    # Nor is a plan of another day at the same site.
    mine = PlanRun.objects.create(site=unit, day=TUESDAY + timedelta(days=1))
    assert api.get(f"{API}{mine.pk}/").status_code == 404


def test_only_managers_may_poll_a_plan(client, unit):
    run = PlanRun.objects.create(site=unit, day=TUESDAY)
    assert client_for(roles.FRONT_DESK).get(f"{API}{run.pk}/").status_code == 403
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    client.force_login(clerk)
    assert client.get(f"/plan/runs/{run.pk}/").status_code == 403


def test_the_page_shows_progress_then_the_proposal(client, unit):
    manager(client, unit)
    wait(unit)
    asked = client.post("/plan/", {"site": "main", "date": "2026-03-03", "waiting_list": "on",
                                   "time_limit": "2"})
    assert asked.status_code == 302
    run = PlanRun.objects.get()
    waiting = client.get(asked["Location"]).content.decode()
    assert 'role="status" aria-live="polite">Waiting for the planner to start.' in waiting
    assert f'data-poll="/plan/runs/{run.pk}/"' in waiting
    plan_run_execute(run_id=run.pk)
    part = client.get(f"/plan/runs/{run.pk}/").content.decode()
    assert "data-poll" not in part
    assert "The proposal is ready." in part
    assert 'name="token"' in part
