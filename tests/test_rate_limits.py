"""Rate limits: the day planner per manager, the token endpoint, patient links and the family
board per client address; 429 `throttled` with Retry-After, in the API's error format or as a
short page; counted in the shared cache, so every web server sees the same count."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from notifications.links import patient_link, patient_token
from scheduling import roles
from tests.conftest import REDIS_SERVER, client_for, redis_test_url
from tests.factories import UserFactory, case_made

pytestmark = [REDIS_SERVER, pytest.mark.django_db]
PLAN = "/api/v1/sites/main/days/2026-03-03/plan/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them in a few requests."""
    settings.RATE_LIMITS = {"plan": "3/min", "token": "3/min", "patient_link": "3/min",
                            "family_board": "3/min"}
    return settings.RATE_LIMITS


def is_throttled_json(response) -> bool:
    if response.status_code != 429:
        return False
    assert response.json()["code"] == "throttled"
    assert response.json()["errors"] == {}
    assert 1 <= int(response["Retry-After"]) <= 60
    return True


PATIENT_WAIT = "Please wait a moment"


def is_throttled_page(response, heading: str = "Too many requests") -> bool:
    if response.status_code != 429:
        return False
    assert response["Content-Type"].startswith("text/html")
    assert heading in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60
    return True


# The day planner


def propose(client):
    return client.post(PLAN, {"time_limit": 0.5}, format="json")


def test_the_planner_api_refuses_a_manager_past_the_limit_and_not_another(unit, limits, clock):
    manager = client_for(roles.ADMIN)
    for _ in range(3):
        assert propose(manager).status_code == 202
    refused = propose(manager)
    assert is_throttled_json(refused)
    assert "Expected available in" in refused.json()["detail"]
    assert propose(client_for(roles.ADMIN)).status_code == 202  # per manager, not per address
    clock.shift(MINUTE)
    assert propose(manager).status_code == 202


def test_proposing_and_applying_share_the_managers_count(unit, limits):
    manager = client_for(roles.ADMIN)
    for _ in range(3):
        assert propose(manager).status_code == 202
    applied = manager.post(PLAN + "apply/", {"token": "x"}, format="json")
    assert is_throttled_json(applied)


def test_the_plan_page_answers_429_to_a_proposal_past_the_limit_but_still_shows_the_day(
    client, unit, limits
):
    user = UserFactory(roles=[roles.ADMIN])
    unit.staff.add(user)
    client.force_login(user)
    data = {"site": "main", "date": "2026-03-03", "time_limit": "2"}
    for _ in range(3):
        assert client.post("/plan/", data).status_code == 302  # to the page of the plan run
    assert is_throttled_page(client.post("/plan/", data))
    assert is_throttled_page(client.post("/plan/apply/", {**data, "token": "x"}))
    assert client.get("/plan/", {"site": "main", "date": "2026-03-03"}).status_code == 200


def test_the_schema_documents_the_429_of_each_limited_operation(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in (TOKEN, "/api/v1/sites/{code}/days/{day}/plan/",
                 "/api/v1/sites/{code}/days/{day}/plan/apply/"):
        assert "429" in paths[path]["post"]["responses"], path


# The token endpoint


@pytest.fixture
def nurse_user(db):
    return UserFactory(roles=[roles.NURSE])


def ask_token(client, user, **headers):
    return client.post(TOKEN, {"username": user.username, "password": PASSWORD}, **headers)


def test_the_token_endpoint_refuses_an_address_past_the_limit_even_with_the_right_password(
    client, nurse_user, limits
):
    for _ in range(3):
        assert ask_token(client, nurse_user).status_code == 200
    assert is_throttled_json(ask_token(client, nurse_user))
    assert ask_token(client, nurse_user, REMOTE_ADDR="192.0.2.50").status_code == 200


def test_behind_the_proxy_a_made_up_forwarded_address_does_not_reset_the_count(
    client, nurse_user, limits, settings
):
    settings.PROXY_COUNT = 1
    for attempt in range(3):
        answer = ask_token(client, nurse_user, REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR=f"6.6.6.{attempt}, 203.0.113.7")
        assert answer.status_code == 200
    refused = ask_token(client, nurse_user, REMOTE_ADDR="10.0.0.2",
                        HTTP_X_FORWARDED_FOR="6.6.6.99, 203.0.113.7")
    assert is_throttled_json(refused)
    other = ask_token(client, nurse_user, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert other.status_code == 200


# Patient links


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def test_patient_links_answer_a_short_429_page_past_the_limit_and_name_nobody(
    client, case, limits, clock
):
    page = urlsplit(patient_link(case)).path
    ics = reverse("patient-ics", args=[patient_token(case)])
    assert client.get(page).status_code == 200
    assert client.get(ics).status_code == 200
    assert client.get(page).status_code == 200
    refused = client.get(ics)
    assert is_throttled_page(refused, PATIENT_WAIT)
    assert "call the clinic" in refused.content.decode()  # the patient's page, not the staff's
    assert "Whitfield" not in refused.content.decode()
    assert client.get(page, REMOTE_ADDR="192.0.2.50").status_code == 200
    clock.shift(MINUTE)
    assert client.get(page).status_code == 200


def test_guessed_patient_links_count_too(client, unit, limits):
    for guess in range(3):
        assert client.get(f"/p/{guess}:guess/").status_code == 404
    assert is_throttled_page(client.get("/p/3:guess/"), PATIENT_WAIT)


# The family board


def test_the_family_board_answers_429_past_the_limit(client, unit, limits):
    unit.family_board_issue()
    board = reverse("family-board", args=[unit.family_board_token])
    for _ in range(3):
        assert client.get(board).status_code == 200
    refused = client.get(board)
    assert is_throttled_page(refused)
    assert "no-store" in refused["Cache-Control"]


def test_a_wall_screen_refreshing_all_day_is_never_refused_by_the_default_limit(
    client, unit, clock
):
    from scheduling.pages.family import REFRESH_SECONDS

    unit.family_board_issue()
    board = reverse("family-board", args=[unit.family_board_token])
    for _ in range(3 * 60 // REFRESH_SECONDS):  # three minutes of refreshes
        assert client.get(board).status_code == 200
        clock.shift(timedelta(seconds=REFRESH_SECONDS))


# The shared cache


def redis_url() -> str:
    return redis_test_url(5)


def test_with_redis_the_count_is_kept_where_every_web_server_reads_it(
    nurse_user, limits, settings, client
):
    import redis

    url, prefix = redis_url(), f"vertebro-test-rate-{nurse_user.pk}"
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
        "KEY_PREFIX": prefix,
    }}
    stored = f"{prefix}:1:vertebro:rate:token:address:127.0.0.1"
    server = redis.Redis.from_url(url, socket_timeout=2)
    try:
        for _ in range(3):
            assert ask_token(client, nurse_user).status_code == 200
        assert server.exists(stored)
        assert is_throttled_json(ask_token(client, nurse_user))
        # The count is what Redis holds, not this process's memory: without it, a fresh start.
        server.delete(stored)
        assert ask_token(client, nurse_user).status_code == 200
    finally:
        server.delete(stored)
