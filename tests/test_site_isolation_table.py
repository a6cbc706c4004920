"""Staff of one site see and change nothing of another site's patients, on any staff page, API
operation or admin screen.

The table is made at collection time from Django's URL resolver (the staff pages and the admin)
and drf-spectacular's schema (the API), so a page, an operation or an admin model added later is
walked without editing this file. Each address is asked by a member of site B's staff, in each
role, about site A's objects: today's case (checked in, in pre-op), tomorrow's (booked, with a
message that failed) and a cancelled one, the texts patients sent, a waiting-list entry; with
site A's code and day in the query, and bodies that name site A's patient by id, MRN or name
and date of birth (tests/site_isolation_asks.py). An answer passes when:

- it refuses what names site A's objects (403/404, a redirect to the login, or a 400/409 that
  reads the same as for a site or patient that does not exist);
- none of site A's patients' details is in it (tests/site_isolation_world.py: distinctive
  names, MRNs, phones, emails, dates of birth, the driver, the texts, the internal id);
- nothing of site A's changed.

Addresses that are not staff pages are excluded in NOT_STAFF_PAGES with the reason; an address
that is neither walked nor excluded fails test_every_address_is_walked_or_excluded_with_a_reason.
"""

import pytest
import time_machine
from django.db import transaction
from django.test import Client, override_settings
from django.urls import get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Patient
from tests.conftest import NOW
from tests.site_isolation_addresses import (
    ADMIN_PREFIX,
    ADMIN_SITE_PARAMS,
    API_PREFIX,
    OBJECTS_OF_SITE,
    model_admin_of,
    operations,
    routes,
    unfillable,
)
from tests.site_isolation_asks import (
    OUT,
    admin_asks,
    api_asks,
    change_url,
    page_asks,
    problems_of,
    shown,
)
from tests.site_isolation_world import leaks_in, world_build

pytestmark = pytest.mark.django_db

# Addresses that are not a member of staff's window on patients, each with the reason.
NOT_STAFF_PAGES = {
    "healthz": "the load balancer's health check: no login, no data",
    "api-schema": "the OpenAPI document: describes the operations, holds no data",
    "api-docs": "Swagger UI over the schema: no data",
    "rest_framework:login": "the browsable API's login form",
    "rest_framework:logout": "the browsable API's logout",
    "login": "the staff login page",
    "logout": "the staff logout",
    "password_change": "the user's own password",
    "password_change_done": "the user's own password",
    "password_reset": "the user's own password, by email",
    "password_reset_done": "the user's own password, by email",
    "password_reset_confirm": "the user's own password, by email",
    "password_reset_complete": "the user's own password, by email",
    "patient-page": "the patient's own page: a signed link, no staff login "
    "(tests/notifications/test_patient_page.py)",
    "patient-ics": "the patient's calendar file, by the same signed link",
    "patient-confirm": "the patient's confirmation, by the same signed link",
    "patient-cancel": "the patient's cancel, by the same signed link",
    "patient-move": "the patient's request for another time, by the same signed link",
    "patient-pain": "the patient's pain score, by the same signed link "
    "(tests/scheduling/test_pain_followup.py)",
    "offer-page": "a waiting patient's offer of a freed time: its signed link, no staff login "
    "(tests/scheduling/test_offers_api.py)",
    "family-board": "the waiting room's board: the site's token, no names "
    "(tests/scheduling/test_family_board.py)",
    "twilio-status": "Twilio's delivery webhook: Twilio's signature, not a staff login "
    "(tests/notifications/test_twilio_webhooks.py)",
    "twilio-inbound": "Twilio's inbound-text webhook: Twilio's signature, not a staff login",
    "fhir-operation-definition": "the FHIR scheduling operations' definitions: open like "
    "the CapabilityStatement, no data (tests/fhir/test_fhir_resources.py)",
    "admin:login": "the admin's login form",
    "admin:logout": "the admin's logout",
    "admin:password_change": "the admin user's own password",
    "admin:password_change_done": "the admin user's own password",
    "admin:jsi18n": "the admin's translated JavaScript strings",
    "admin/(?P<url>.*)$": "the admin's catch-all: any other address under /admin/ is a "
    "redirect to the login or a 404, with nothing to name",
}

ROLES = roles.ALL_ROLES
ROUTES = list(routes(get_resolver()))
PAGES = [
    route for route in ROUTES
    if not route.route.startswith((API_PREFIX, ADMIN_PREFIX)) and route.key not in NOT_STAFF_PAGES
]
ADMIN_ROUTES = [
    route for route in ROUTES
    if route.route.startswith(ADMIN_PREFIX) and route.key not in NOT_STAFF_PAGES
]
OPERATIONS = operations()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Both sites, built once for the module in a transaction rolled back at its end; each test
    runs in a savepoint of it, and each request in a savepoint of the test."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with time_machine.travel(NOW, tick=False), override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                NOTIFICATIONS_SMS_BACKEND="notifications.backends.locmem.OutboxBackend",
                NOTIFICATIONS_EMAIL_BACKEND="notifications.backends.locmem.OutboxBackend",
            ):
                built = world_build()
                built.tokens = {
                    role: Token.objects.create(user=user).key
                    for role, user in built.staff_b.items()
                }
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _report(who: str, problems: list[str]) -> str:
    return f"As site B's {who}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.key)
def test_staff_page(world, page, role):
    client = Client()
    client.force_login(world.staff_b[role])
    problems = [
        problem for ask in page_asks(page, world)
        for problem in problems_of(client, ask, world, api=False)
    ]
    assert not problems, _report(role, problems)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_api_operation(world, operation, role):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    problems = [
        problem for ask in api_asks(operation, world)
        for problem in problems_of(client, ask, world, api=True)
    ]
    assert not problems, _report(role, problems)


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda route: route.key)
def test_admin_address(world, route):
    """As site B's admin, is_staff with every permission of the unit's apps (what a unit
    manager is given to configure the unit), not a superuser."""
    client = Client()
    client.force_login(world.staff_b[roles.ADMIN])
    problems = [
        problem for ask in admin_asks(route, world)
        for problem in problems_of(client, ask, world, api=False)
    ]
    assert not problems, _report("admin (is_staff)", problems)


def test_every_address_is_walked_or_excluded_with_a_reason():
    api_names = {operation.url_name for operation in OPERATIONS}
    problems = []
    for route in ROUTES:
        if route.key in NOT_STAFF_PAGES:
            continue
        if route.route.startswith(API_PREFIX):
            if route.name not in api_names:
                problems.append(f"{route.route} is under the API but not in its schema")
        elif route.route.startswith(ADMIN_PREFIX):
            unknown = set(route.params) - ADMIN_SITE_PARAMS
            if unknown and (model_admin_of(route) is None or len(route.params) > 1):
                problems.append(f"{route.route}: the table cannot fill {sorted(unknown)}")
        elif unknown := unfillable(route.route, route.params):
            problems.append(f"{route.key} ({route.route}): the table cannot fill {unknown}")
    for operation in OPERATIONS:
        if unknown := unfillable(operation.path, [p["name"] for p in operation.params("path")]):
            problems.append(f"{operation}: the table cannot fill {unknown}")
    keys = {route.key for route in ROUTES}
    problems += [f"{key} is excluded but no longer exists"
                 for key in NOT_STAFF_PAGES if key not in keys]
    assert not problems, "\n".join(problems)


def test_the_table_counts_what_it_walks(world):
    """The count for the record (printed: run with -s to see it), with a floor under it, so
    that a resolver or schema that stops yielding its addresses is noticed."""
    requests = len(ROLES) * (
        sum(len(page_asks(page, world)) for page in PAGES)
        + sum(len(api_asks(operation, world)) for operation in OPERATIONS)
    ) + sum(len(admin_asks(route, world)) for route in ADMIN_ROUTES)
    count = (
        f"Site isolation table: {len(PAGES) + len(OPERATIONS) + len(ADMIN_ROUTES)} endpoints: "
        f"{len(PAGES)} staff pages and {len(OPERATIONS)} API operations, each as "
        f"{len(ROLES)} roles, and {len(ADMIN_ROUTES)} admin addresses as the admin; "
        f"{(len(PAGES) + len(OPERATIONS)) * len(ROLES) + len(ADMIN_ROUTES)} test cases, "
        f"{requests} requests"
    )
    print(count)
    assert len(PAGES) >= 19, count
    assert len(OPERATIONS) >= 29, count
    assert len(ADMIN_ROUTES) >= 120, count


def test_the_table_names_site_as_schedules_and_their_busy_slots(world):
    """Schedules and Slots hold no patient's details, so the control below cannot show that
    their ids are right: each of site A's rooms, bays and surgeons, and the times its cases hold
    them, are asked about."""
    schedules, slots = (OBJECTS_OF_SITE[kind](world.alpha.code) for kind in ("schedules", "slots"))
    assert len(schedules) == 8  # seven rooms and bays, one surgeon
    held = {slot.split(".")[0] for slot in slots}
    assert len(held) >= 4  # Tuesday's case: a pre-op bay, a room, a recovery bay, the surgeon


def test_site_a_staff_see_what_the_table_looks_for(world):
    """The control: the same questions from site A's own staff do show the patient, so a
    refusal to site B is the site rule at work, not a wrong id in the table."""
    pages, api = Client(), APIClient()
    pages.force_login(world.staff_a_all)
    api.force_authenticate(world.staff_a_all)
    seen = set()
    for page in PAGES:
        for ask in page_asks(page, world):
            if ask.method == "GET" and ask.allowed == OUT and leaks_in(
                shown(pages.get(ask.url)), "", world
            ):
                seen.add(page.key)
    for operation in OPERATIONS:
        for ask in api_asks(operation, world):
            if ask.method == "GET" and ask.allowed == OUT and leaks_in(
                shown(api.get(ask.url)), "", world
            ):
                seen.add(operation.url_name)
    if leaks_in(shown(pages.get(change_url(Patient, world.patients_a[0].pk))), "", world):
        seen.add("admin:scheduling_patient_change")
    expected = {"case-detail", "case-confirmation", "api-case", "api-case-messages",
                "api-waiting-entry", "admin:scheduling_patient_change", "fhir-encounter",
                "fhir-servicerequest"}
    assert expected <= seen, f"site A's staff do not see their patient on {expected - seen}"
