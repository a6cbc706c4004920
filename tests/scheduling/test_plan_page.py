"""The "Plan the day" page and its API: managers only, a plan asked for and solved by the plan
run task (called here directly; tests/scheduling/test_plan_worker.py runs it on a real worker),
the proposal beside the day as booked, applied on confirmation, a stale proposal refused with a
clear message."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling import roles
from scheduling.models import Case, WaitingStatus
from scheduling.plan.runs import plan_run_execute
from scheduling.plan_models import PlanRun, PlanRunStatus
from tests.conftest import build_unit, client_for
from tests.factories import UserFactory, case_made
from tests.scheduling.test_plan_day import at, wait

pytestmark = pytest.mark.django_db
API = "/api/v1/sites/main/days/2026-03-03/plan/"


def manager(client, site):
    user = UserFactory(roles=[roles.ADMIN])
    site.staff.add(user)
    client.force_login(user)
    return user


def run_queued() -> None:
    """What the worker does with each plan asked for."""
    for run in PlanRun.objects.filter(status=PlanRunStatus.QUEUED):
        plan_run_execute(run_id=run.pk)


def propose(client, **extra):
    """Ask for a plan on the page, let the task plan it, and read the page it redirects to."""
    data = {"site": "main", "date": "2026-03-03", "waiting_list": "on", "time_limit": "2",
            **extra}
    asked = client.post("/plan/", data)
    if asked.status_code != 302:
        return asked
    run_queued()
    return client.get(asked["Location"])


def test_a_manager_sees_the_proposal_beside_the_day_and_applies_it(client, unit):
    manager(client, unit)
    late = case_made(site=unit, start=at(13), driver_name="")
    entry = wait(unit, priority="urgent")
    page = propose(client)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Proposal beside the day as booked" in html
    assert f'data-key="case:{late.pk}"' in html
    assert f'data-key="entry:{entry.pk}"' in html
    row = re.search(rf'data-key="case:{late.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "13:00" in row
    assert "moved" in row
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)

    done = client.post("/plan/apply/", {"site": "main", "date": "2026-03-03", "token": token},
                       follow=True)
    assert "Plan applied: 2 cases booked or moved" in done.content.decode()
    late.refresh_from_db()
    entry.refresh_from_db()
    assert late.procedure_start < at(13)
    assert entry.status == WaitingStatus.SCHEDULED


def test_a_stale_proposal_is_refused_with_a_clear_message(client, unit):
    manager(client, unit)
    case_made(site=unit, start=at(13), driver_name="")
    html = propose(client).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    case_made(site=unit, driver_name="")  # a clerk books meanwhile
    done = client.post("/plan/apply/", {"site": "main", "date": "2026-03-03", "token": token},
                       follow=True)
    assert "The day changed since this plan was proposed" in done.content.decode()
    assert Case.objects.get(procedure_start=at(13))


def test_the_what_if_is_shown_with_the_proposal(client, unit):
    manager(client, unit)
    for _ in range(3):
        wait(unit)
    html = propose(client, what_if="extra_recovery_bay").content.decode()
    assert "What if one more recovery bay" in html


def test_a_closed_day_says_so(client, unit):
    manager(client, unit)
    wait(unit)
    html = propose(client, date="2026-03-08")
    assert "The site is closed on this day." in html.content.decode()


def test_only_managers_may_plan(client, unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    client.force_login(user)
    assert client.get("/plan/").status_code == 403
    assert "Plan the day" not in client.get("/board/").content.decode()
    assert client.post("/plan/apply/", {"site": "main"}).status_code == 403
    assert client_for(roles.FRONT_DESK).post(API, {}, format="json").status_code == 403


def test_another_sites_day_is_not_found(client, unit):
    other = build_unit(code="north", name="North Clinic")
    user = UserFactory(roles=[roles.ADMIN])
    other.staff.add(user)
    client.force_login(user)
    assert client.get("/plan/?site=main").status_code == 404
    api = client_for(roles.ADMIN, sites=[other])
    response = api.post(API, {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_site"


def test_a_manager_of_no_site_is_told_so_and_cannot_apply(client, unit):
    client.force_login(UserFactory(roles=[roles.ADMIN]))
    assert "You do not work at any site yet" in client.get("/plan/").content.decode()
    assert client.post("/plan/apply/", {"site": "main", "token": "x"}).status_code == 404


def test_the_page_costs_the_same_queries_for_one_case_or_six(client, unit):
    manager(client, unit)
    case_made(site=unit, driver_name="")
    with CaptureQueriesContext(connection) as one:
        propose(client)
    for _ in range(5):
        case_made(site=unit, driver_name="")
    with CaptureQueriesContext(connection) as six:
        propose(client)
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_api_proposes_and_applies(unit):
    api = client_for(roles.ADMIN)
    late = case_made(site=unit, start=at(13), driver_name="")
    wait(unit)
    asked = api.post(API, {"time_limit": 2}, format="json")
    assert asked.status_code == 202
    run_queued()
    body = api.get(asked.json()["url"]).json()
    assert body["status"] == "done"
    body = body["proposal"]
    assert body["status"] == "optimal"
    assert body["placed"] == 2
    assert body["moves"] == 1
    row = next(r for r in body["rows"] if r["key"] == f"case:{late.pk}")
    assert row["current_start"] == "2026-03-03T13:00:00-05:00"
    # One surgeon: the two cases an hour apart from the first start of the day.
    assert row["proposed_start"] in ("2026-03-03T08:30:00-05:00", "2026-03-03T09:30:00-05:00")

    applied = api.post(API + "apply/", {"token": body["token"]}, format="json")
    assert applied.status_code == 200, applied.json()
    assert len(applied.json()["applied"]) == 2
    again = api.post(API + "apply/", {"token": body["token"]}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "plan_stale"


def test_the_api_refuses_bad_input(unit):
    api = client_for(roles.ADMIN)
    assert api.post("/api/v1/sites/main/days/2026-13-45/plan/", {}, format="json").json()[
        "code"] == "invalid"
    assert api.post(API, {"what_if": "more_coffee"}, format="json").json()["code"] == "invalid"
    # A solve longer than the web server's request timeout would be cut off mid-answer.
    slow = api.post(API, {"time_limit": 25}, format="json")
    assert slow.status_code == 400
    assert "time_limit" in slow.json()["errors"]
    bad = api.post(API + "apply/", {"token": "forged"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    past = api.post("/api/v1/sites/main/days/2026-02-01/plan/", {}, format="json")
    assert past.json()["code"] == "date_in_past"
