"""The security baseline: login lockout behind the proxy, idle and deactivated sessions, the
Content-Security-Policy, production settings and logs without patient data."""

import json
import logging
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from limits.client import client_ip
from scheduling import roles
from tests.conftest import case_payload, client_for, production_environ
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"
PROXY = "10.0.0.2"  # the reverse proxy, as the app sees it (REMOTE_ADDR)


def log_in(client, username, password, **headers):
    return client.post(LOGIN, {"username": username, "password": password}, **headers)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def nurse_user(db):
    return UserFactory(roles=[roles.NURSE])


@pytest.fixture
def behind_proxy(settings):
    settings.PROXY_COUNT = 1


# Login lockout


def test_five_failed_logins_lock_out_the_sixth_even_with_the_right_password(client, nurse_user):
    for _ in range(4):
        assert log_in(client, nurse_user.username, "wrong").status_code == 200
    fifth = log_in(client, nurse_user.username, "wrong")
    assert fifth.status_code == 429
    sixth = log_in(client, nurse_user.username, PASSWORD)
    assert sixth.status_code == 429
    assert b"Too many failed logins" in sixth.content
    assert sixth["Retry-After"] == "900"
    assert not logged_in(client)


def test_four_failures_do_not_lock_and_a_success_starts_the_count_again(client, nurse_user):
    for _ in range(4):
        log_in(client, nurse_user.username, "wrong")
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, nurse_user.username, "wrong")
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 302


def test_the_lockout_is_for_that_username_from_that_address(client, nurse_user):
    other = UserFactory(roles=[roles.NURSE])
    for _ in range(5):
        log_in(client, nurse_user.username, "wrong")
    assert log_in(client, other.username, PASSWORD).status_code == 302
    client.logout()
    elsewhere = log_in(client, nurse_user.username, PASSWORD, REMOTE_ADDR="192.0.2.50")
    assert elsewhere.status_code == 302


def test_the_lockout_ends_15_minutes_after_the_last_attempt(client, nurse_user, clock):
    for _ in range(5):
        log_in(client, nurse_user.username, "wrong")
    clock.shift(timedelta(minutes=14))
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 429
    clock.shift(timedelta(minutes=14))  # 28 minutes after the fifth failure, 14 after the last try
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 429
    clock.shift(timedelta(minutes=15, seconds=1))
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 302


def test_behind_the_proxy_a_made_up_forwarded_address_does_not_unlock(
    client, nurse_user, behind_proxy
):
    real_client = "203.0.113.7"
    for attempt in range(5):
        log_in(
            client, nurse_user.username, "wrong",
            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.{attempt}, {real_client}",
        )
    sixth = log_in(
        client, nurse_user.username, PASSWORD,
        REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.99, {real_client}",
    )
    assert sixth.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {real_client}
    # Another client behind the same proxy is not locked out.
    other = log_in(
        client, nurse_user.username, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert other.status_code == 302


def test_without_a_proxy_a_forwarded_header_is_ignored(client, nurse_user, settings):
    settings.PROXY_COUNT = 0
    for attempt in range(5):
        log_in(client, nurse_user.username, "wrong", HTTP_X_FORWARDED_FOR=f"6.6.6.{attempt}")
    assert log_in(
        client, nurse_user.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1"
    ).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "10.0.0.2"),
        (0, "203.0.113.7", "10.0.0.2"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6,203.0.113.7", "203.0.113.7"),
        (1, "203.0.113.7:51234", "203.0.113.7"),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        (1, "6.6.6.6, 2001:db8::7", "2001:db8::7"),
        (1, None, "10.0.0.2"),  # not through the proxy: the peer is all we know
        (1, "6.6.6.6, not-an-address", "10.0.0.2"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),  # fewer entries than proxies
    ],
)
def test_the_client_address_is_the_entry_the_outermost_proxy_wrote(
    settings, proxies, forwarded, expected
):
    settings.PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)
    assert client_ip(request) == expected


def test_the_api_token_endpoint_counts_failures_and_locks_out(nurse_user):
    api = APIClient()
    for _ in range(4):
        response = api.post(TOKEN, {"username": nurse_user.username, "password": "wrong"})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    api.post(TOKEN, {"username": nurse_user.username, "password": "wrong"})
    locked = api.post(TOKEN, {"username": nurse_user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert "token" not in locked.json()


def test_token_failures_and_page_failures_share_one_count(client, nurse_user):
    api = APIClient()
    for _ in range(3):
        api.post(TOKEN, {"username": nurse_user.username, "password": "wrong"})
    for _ in range(2):
        log_in(client, nurse_user.username, "wrong")
    assert log_in(client, nurse_user.username, PASSWORD).status_code == 429
    token = api.post(TOKEN, {"username": nurse_user.username, "password": PASSWORD})
    assert token.status_code == 429


# Sessions


# A staff page a nurse may open (answers 200 while logged in).
STAFF_PAGE = "/patients/"


def test_a_session_ends_after_15_idle_minutes(client, nurse_user, clock):
    client.force_login(nurse_user)
    assert client.get(STAFF_PAGE).status_code == 200
    clock.shift(timedelta(minutes=14))
    assert client.get(STAFF_PAGE).status_code == 200
    clock.shift(timedelta(minutes=14))  # 28 minutes in, but never 15 idle
    assert client.get(STAFF_PAGE).status_code == 200
    clock.shift(timedelta(minutes=15, seconds=1))
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_the_session_cookie_is_http_only_and_lives_15_minutes(client, nurse_user):
    response = log_in(client, nurse_user.username, PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["max-age"] == 900
    assert cookie["samesite"] == "Lax"


def test_a_deactivated_user_is_logged_out_of_an_open_session(client, nurse_user):
    client.force_login(nurse_user)
    assert client.get(STAFF_PAGE).status_code == 200
    nurse_user.is_active = False
    nurse_user.save(update_fields=["is_active"])
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_a_deactivated_users_token_stops_working(unit):
    api = client_for(roles.NURSE)
    assert api.get("/api/v1/sites/").status_code == 200
    api.user.is_active = False
    api.user.save(update_fields=["is_active"])
    response = api.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_post_without_the_csrf_token_is_refused(nurse_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(nurse_user)
    assert strict.post("/accounts/logout/").status_code == 403


# Headers


def test_pages_carry_the_content_security_policy_and_security_headers(client):
    response = client.get(LOGIN)
    policy = dict(
        (directive.split(" ", 1) + [""])[:2]
        for directive in response["Content-Security-Policy"].split("; ")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


SERVED_TEMPLATES = [
    path
    for path in (ROOT / "templates").rglob("*.html")
    if path.relative_to(ROOT / "templates").parts[:2] != ("notifications", "email")
]


@pytest.mark.parametrize("template", SERVED_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_served_template_has_an_inline_script(template):
    """script-src 'self' blocks them: they would silently not run in the browser."""
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE):
        assert "src=" in tag or "application/json" in tag, f"inline <script> in {template}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, flags=re.IGNORECASE), (
        f"inline event handler (onclick=...) in {template}"
    )
    assert "javascript:" not in html.lower()


def csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return found


def test_the_api_docs_and_the_browsable_api_run_under_the_policy(page, unit):
    violations = csp_violations(page)
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
    user = UserFactory(roles=[roles.NURSE])
    page.goto("/api-auth/login/?next=/api/v1/sites/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").click()
    page.get_by_role("button", name="Log out").wait_for()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.goto("/api/v1/sites/").status == 401
    assert violations == []


def test_the_login_page_and_the_admin_run_under_the_policy(page, db):
    from tests.conftest import log_in as browser_log_in

    violations = csp_violations(page)
    admin = UserFactory(roles=[roles.ADMIN], is_staff=True, is_superuser=True)
    browser_log_in(page, admin.username)
    page.goto("/admin/scheduling/site/add/")
    page.get_by_role("button", name="Save and add another").wait_for()
    page.goto("/admin/audit/accesslog/")
    assert violations == []


# Production settings


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_environ(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_trusts_one_proxy_and_secures_cookies():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ["
        "'DEBUG', 'PROXY_COUNT', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SESSION_COOKIE_AGE']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=production_environ(),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "PROXY_COUNT": 1,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_AGE": 900,
    }


# Logs


def test_booking_and_reading_a_case_log_no_patient_data(unit, front_desk, client, caplog):
    caplog.set_level(logging.DEBUG)
    payload = case_payload(medications=["warfarin"])
    patient = payload["patient"]
    with CaptureQueriesContext(connection):  # SQL, with its parameters, would be logged now
        bad = front_desk.post("/api/v1/cases/", case_payload(levels=99), format="json")
        assert bad.status_code == 400
        case = front_desk.post("/api/v1/cases/", payload, format="json").json()
        front_desk.get(f"/api/v1/cases/{case['id']}/")
        front_desk.get(f"/api/v1/cases/{case['id'] + 1000}/")
        front_desk.post(f"/api/v1/cases/{case['id']}/cancel/", {"reason": "Whitfield is ill"},
                        format="json")
        log_in(client, "nobody", "wrong")
    assert caplog.records, "nothing was logged at all: the test would prove nothing"
    text = "\n".join(record.getMessage() for record in caplog.records)
    for detail in ["Margaret", "Whitfield", patient["mrn"], "1948-05-17", "2125550100",
                   "m.whitfield@example.org"]:
        assert detail not in text, f"{detail!r} reached the logs"
