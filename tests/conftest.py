"""Shared fixtures. The clock is frozen at Monday 2 March 2026, 12:00 UTC (07:00 in New York), so
"the past" and "today" mean the same thing in every run."""

import os
import secrets

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling import roles
from tests.factories import (
    CLEAR_SCREENING,
    NOW,
    TUESDAY,
    PatientFactory,
    UserFactory,
    build_unit,
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


REFERENCE_DATA = [
    # migrations whose data a transactional test's flush empties
    "scheduling.migrations.0003_staff_roles:create_roles",
    "scheduling.migrations.0004_seed_drug_table:seed",
    "scheduling.migrations.0016_medicines_allergies:seed",
    "notifications.migrations.0002_seed_reminder_rules:seed",
    "notifications.migrations.0005_driver_ready_kind:seed_driver_ready",
    "notifications.migrations.0006_running_late_kind:seed_running_late",
    "notifications.migrations.0008_driver_told_of_changes:seed_driver_notices",
    "notifications.migrations.0010_pain_ask:seed_pain_asks",
]


@pytest.fixture(autouse=True)
def reference_data(request):
    """Put back the roles, drug table and message rules for tests that commit for real."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "live_server" in request.fixturenames
    )
    if not transactional:
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for entry in REFERENCE_DATA:
        module, function = entry.split(":")
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def outbox(settings):
    """Messages go to the in-memory outbox; each test starts with it empty."""
    from notifications import backends
    from notifications.backends import locmem

    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.backends.locmem.OutboxBackend"
    settings.NOTIFICATIONS_EMAIL_BACKEND = "notifications.backends.locmem.OutboxBackend"
    backends._cache.clear()
    locmem.reset()
    yield locmem.outbox
    backends._cache.clear()
    locmem.reset()


@pytest.fixture(autouse=True)
def rate_limits_counted_afresh(settings):
    """The rate limits count in the cache: each test starts with nothing counted, in this
    process's memory even when CACHE_URL names a Redis (clearing it would empty that Redis)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "tests"}}
    cache.clear()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unit(db):
    """Open Monday-Friday 07:00-18:00 New York time; 2 rooms, 2 pre-op bays, 3 recovery bays."""
    return build_unit()


@pytest.fixture
def tiny_unit(db):
    """One room, one pre-op bay, one recovery bay, one surgeon: one case per slot."""
    return build_unit(rooms=1, pre_op_bays=1, recovery_bays=1)


@pytest.fixture
def vertebroplasty(unit):
    from scheduling.models import ProcedureType

    return ProcedureType.objects.get(code="vertebroplasty")


@pytest.fixture
def patient(db):
    return PatientFactory()


class StaffClient(APIClient):
    """An API client for one staff member. Unless a test names their sites (`sites=[...]`),
    they work at every site that exists when each request is made."""

    def request(self, **kwargs):
        from scheduling.models import Site

        if self.sites is None:
            self.user.sites.set(Site.objects.all())
        return super().request(**kwargs)


def client_for(*user_roles, sites=None):
    user = UserFactory(roles=list(user_roles))
    client = StaffClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    client.sites = sites
    if sites is not None:
        user.sites.set(sites)
    return client


@pytest.fixture
def front_desk(db):
    return client_for(roles.FRONT_DESK)


@pytest.fixture
def clinician(db):
    return client_for(roles.CLINICIAN)


@pytest.fixture
def nurse(db):
    return client_for(roles.NURSE)


@pytest.fixture
def manager(unit):
    """An API client who may book, read the board and plan the day."""
    return client_for(roles.FRONT_DESK, roles.NURSE, roles.ADMIN)


@pytest.fixture
def staff_page(client, unit):
    """The test client, logged in as a member of staff in every role at the unit."""
    user = UserFactory(roles=list(roles.ALL_ROLES))
    unit.staff.add(user)
    client.force_login(user)
    return client


def case_payload(**overrides):
    payload = {
        "site": "main",
        "procedure_type": "vertebroplasty",
        "levels": 1,
        "date": TUESDAY.isoformat(),
        "patient": {
            "first_name": "Margaret",
            "last_name": "Whitfield",
            "date_of_birth": "1948-05-17",
            "mrn": "MRN-1001",
            "phone": "+1 212 555 0100",
            "email": "m.whitfield@example.org",
            "preferred_channel": "sms",
            "language": "en",
        },
        "driver": {"name": "Tom Whitfield", "phone": "(212) 555-0101"},
        "screening": dict(CLEAR_SCREENING),
        "medications": [],
    }
    payload.update(overrides)
    return payload


def case_booked(client=None, **overrides):
    """A case booked through the API (by a new front-desk user unless a client is given), with
    case_payload's answers and the overrides: for the site-isolation tests, whose subject is
    what the API lets each site's staff do. A test that only needs a case uses
    tests.factories.case_made."""
    from scheduling.models import Case

    client = client or client_for(roles.FRONT_DESK)
    response = client.post("/api/v1/cases/", case_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return Case.objects.get(pk=response.json()["id"])


def production_environ(**extra) -> dict[str, str]:
    """The environment of a production server, for settings read in a subprocess: this run's
    PostgreSQL and Redis when it has them, else addresses where nothing listens (importing the
    settings connects to neither), a strong key, and `extra` on top."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "CACHE_URL"))
    }
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = "postgres://vertebro@127.0.0.1:1/vertebro"
    if not env.get("CELERY_BROKER_URL", "").startswith("redis"):
        env["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60)[:60],
        DJANGO_ALLOWED_HOSTS="example.org",
        DJANGO_SETTINGS_MODULE="vertebro_site.settings",
    )
    env.update(extra)
    return env


# Modules that use the machine's Redis server (one stops and restarts it) run one after another
# on the same worker when the suite runs in parallel (pytest-xdist, --dist loadgroup).
REDIS_SERVER = pytest.mark.xdist_group("redis-server")


def project_broker_forget() -> None:
    """The project's Celery app keeps the broker connection pool of the broker the environment
    named when it first sent a task; a test that pointed CELERY_BROKER_URL elsewhere for a while
    leaves it there. Forgotten, the next send takes the broker the environment names now (kombu
    keeps one pool per broker, shared, so nothing is closed here)."""
    from vertebro_site.celery import app

    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need the real database. Off PostgreSQL they are skipped in a
    developer's quick run; with VERTEBRO_REQUIRE_SERVICES set (as .ci/run does) the run stops.

    In a parallel run a module's tests stay on one worker (its module-scoped fixtures are built
    once), unless the module names a group of its own."""
    from django.db import connection

    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    if connection.vendor == "postgresql":
        return
    if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
        raise pytest.UsageError(
            "VERTEBRO_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL."
        )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://..."))


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Missing: skipped in a quick local run, a failure
    when VERTEBRO_REQUIRE_SERVICES is set (as .ci/run does)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the test's own database calls are still
    # plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page, username: str, password: str = "correct-horse-battery") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def redis_test_url(db: int) -> str:
    """Our own database number on the Redis of CELERY_BROKER_URL (as .ci/run sets it); a Redis
    that cannot be reached fails the test under .ci/run and skips it elsewhere."""
    import redis

    configured = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    host = configured.split("//", 1)[-1].split("/", 1)[0]
    url = f"redis://{host}/{db}"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail(f"Redis at {host} cannot be reached: {exc}")
        pytest.skip(f"Redis at {host} cannot be reached")
    return url


@pytest.fixture
def pgbouncer(django_db_blocker):
    """A PgBouncer in transaction pooling mode before the test database's PostgreSQL, on a spare
    port (tests/notifications/pgbouncer.py). A PgBouncer that cannot start fails the test."""
    from django.db import connection

    from tests.notifications.pgbouncer import PgBouncer, PgBouncerError

    db = connection.settings_dict
    bouncer = PgBouncer(host=db["HOST"], port=int(db["PORT"] or 5432), user=db["USER"])
    try:
        bouncer.start()
    except PgBouncerError as exc:
        bouncer.stop()
        pytest.fail(str(exc))
    yield bouncer
    bouncer.stop()
