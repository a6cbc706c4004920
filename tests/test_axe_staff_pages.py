"""Every staff page, in a real browser (Debian's Chromium through Playwright), passes axe-core
with no serious or critical problem, and opens with a skip link to its main content.

The unit and its day are built once for the module, through the booking and tracking services:
a board with a case at each step of the day, a booked case with its messages, a cancelled one
that waiting-list patients could take, past weeks for the reports, an SIU message. The admin's
pages are every model's list, its form for a new row, and the form of a row of the models in
ROWS_OPENED. One browser, one login per
role; each page is visited and checked once, then each page's finding is its own test, so a
failure names the page and the rules it breaks."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from django.test import RequestFactory
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from notifications.links import patient_link
from notifications.models import InboundMessage, MessageKind, ReminderRule, ReminderStatus
from scheduling import roles
from scheduling.models import CaseStatus, Site, StageKind
from scheduling.services import case_cancel
from scheduling.services.closures import closure_create
from tests.axe import axe_source, serious
from tests.conftest import REFERENCE_DATA, log_in
from tests.factories import (
    NOW,
    TRACKED_STATUSES,
    TUESDAY,
    UserFactory,
    build_unit,
    case_confirmed,
    case_made,
    case_tracked,
)
from tests.hl7v2.test_sending_admin import message_of
from tests.scheduling.reports_data import case_written, message_made, ny, ran
from tests.scheduling.test_plan_day import at, wait

ANONYMOUS, FRONT_DESK, NURSE, MANAGER = "anonymous", "front desk", "nurse", "manager"
CLINICIAN = "clinician"
NO_ROLE = "staff without a role"
SCREENING = {
    "active infection": "No", "fracture painful": "Yes", "bleeding disorder": "No",
    "tumor spread": "No", "allergic to bone cement": "No", "caused by an injury": "No",
    "pre-op imaging": "Yes",
}
# Each test runs in a transaction of its own; the unit is committed once for the module, so the
# live server's thread sees it.
pytestmark = pytest.mark.django_db
REPORTS_FROM, REPORTS_TO = date(2026, 2, 16), date(2026, 2, 27)
CLOSED_DAY = date(2026, 3, 5)


@dataclass
class World:
    site: Site
    users: dict[str, object]
    booked: object
    cancelled: object
    family_token: str


def reference_data_restored() -> None:
    """The roles, drug table and message rules that a transactional test's flush empties."""
    if ReminderRule.objects.exists():
        return
    for entry in REFERENCE_DATA:
        module, function = entry.split(":")
        getattr(importlib.import_module(module), function)(apps, None)


def past_days(site: Site) -> None:
    """Two weeks of days the reports can read: two cases a day, run a little late, messaged."""
    day = REPORTS_FROM
    while day <= REPORTS_TO:
        if day.weekday() < 5:
            for hour, room in ((8, "Room 1"), (11, "Room 2")):
                case = case_written(site, day, hour, room=room)
                ran(case, StageKind.PRE_OP, (hour - 1, 0), (hour, 5))
                ran(case, StageKind.PROCEDURE, (hour, 5), (hour + 1, 10))
                ran(case, StageKind.CEMENT_SET, (hour + 1, 10), (hour + 2, 10))
                ran(case, StageKind.RECOVERY, (hour + 2, 10), (hour + 4, 0))
                due = ny(day, 9) - timedelta(days=1)
                message_made(case, MessageKind.CONFIRMATION, due, ReminderStatus.DELIVERED,
                             sent=True, note="")
            written = case_written(site, day, 14, room="Room 1", status=CaseStatus.NO_SHOW)
            message_made(written, MessageKind.ARRIVAL, ny(day, 7), ReminderStatus.FAILED,
                         sent=False, note="")
        day += timedelta(days=1)


def world_built() -> World:
    site = build_unit()
    nurse = UserFactory(roles=[roles.NURSE], sites=[site])
    users = {
        FRONT_DESK: UserFactory(roles=[roles.FRONT_DESK], sites=[site]),
        NURSE: nurse,
        MANAGER: UserFactory(roles=[roles.ADMIN], sites=[site], is_staff=True,
                             is_superuser=True),
        NO_ROLE: UserFactory(sites=[site]),
        CLINICIAN: UserFactory(roles=[roles.CLINICIAN], sites=[site]),
    }
    # Today's board: a case at every step, the furthest along first so each takes its place.
    for through in reversed(TRACKED_STATUSES):
        case_tracked(site=site, through=through, nurse=nurse)
    booked = case_confirmed(site=site, start=at(8, 30), medications=["warfarin"])
    cancelled = case_made(site=site, start=at(10, 45), driver_name="")
    wait(site, priority="urgent")
    wait(site)
    case_cancel(case=cancelled, reason="Patient has a cold", by=users[FRONT_DESK])
    # A day shut after a case was booked on it: the case is flagged, the pages say why.
    case_made(site=site, day=CLOSED_DAY)
    closure_create(site=site, start_date=CLOSED_DAY, end_date=CLOSED_DAY,
                   reason="Burst pipe", created_by=users[MANAGER])
    call_lists_filled(site, booked)
    past_days(site)
    message_of(booked)  # an SIU message for its admin form
    return World(site=site, users=users, booked=booked, cancelled=cancelled,
                 family_token=site.family_board_issue())


def call_lists_filled(site: Site, booked) -> None:
    """A booking awaiting a clinician's review, a patient the unit calls, a failed message and
    a text that needs a call: the review list and the front desk's call lists have rows."""
    case_made(site=site, start=at(12, 0), screening={"cement_allergy": True},
              request_review=True, patient={"last_name": "Held"})
    case_made(site=site, start=at(13, 0), unit_will_call=True,
              patient={"last_name": "Silent", "phone": "", "email": ""})
    message_made(booked, MessageKind.CONFIRMATION, NOW, ReminderStatus.FAILED, sent=False,
                 note="axe")
    InboundMessage.objects.create(from_phone="+12125550100", body="Can I bring my dog?",
                                  kind="other", provider_message_id="SM-axe", site=site)


@dataclass
class Visit:
    name: str
    role: str
    path: str = ""
    steps: Callable | None = None  # what the user does on the page already open, to reach it


def book_form_errors(page) -> None:
    page.get_by_label("Find a registered patient").fill("MRN-NOBODY")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("alert").first.wait_for()


def book_free_times(page) -> None:
    for label, value in [("First name", "Ada"), ("Last name", "Quill"),
                         ("Date of birth", "1946-02-11"), ("MRN", "MRN-AXE-1"),
                         ("Mobile phone", "(212) 555-0199")]:
        page.get_by_label(label, exact=True).fill(value)
    for question, answer in SCREENING.items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("Weeks of conservative treatment tried (rest, pain relief, brace)",
                      exact=True).fill("8")
    page.get_by_label("Takes none of these", exact=True).check()
    page.get_by_label("Procedure date", exact=True).fill(TUESDAY.isoformat())
    page.get_by_role("button", name="Show free times", exact=True).click()
    page.get_by_role("group", name="Free times on Tuesday, March 3, 2026").wait_for()


def book_confirmed(page) -> None:
    page.get_by_role("group", name="Free times on Tuesday, March 3, 2026").get_by_role(
        "radio").first.check()
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("heading", name="Booking confirmation").wait_for()


REVIEW_DAY = "Free times on Wednesday, March 4, 2026"  # the en-US site writes it month first


def book_for_review(page) -> None:
    """A screening answer blocks the booking: the clerk is told it goes to a clinician."""
    for label, value in [("First name", "Bea"), ("Last name", "Rook"),
                         ("Date of birth", "1944-03-17"), ("MRN", "MRN-AXE-2"),
                         ("Mobile phone", "(212) 555-0198")]:
        page.get_by_label(label, exact=True).fill(value)
    for question, answer in (SCREENING | {"allergic to bone cement": "Yes"}).items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("Weeks of conservative treatment tried (rest, pain relief, brace)",
                      exact=True).fill("8")
    page.get_by_label("Takes none of these").check()
    page.get_by_label("Procedure date", exact=True).fill((TUESDAY + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show free times", exact=True).click()
    page.get_by_role("group", name=REVIEW_DAY).wait_for()
    page.locator("#review-notice").wait_for()


def booked_for_review(page) -> None:
    page.get_by_role("group", name=REVIEW_DAY).get_by_role("radio").first.check()
    page.get_by_role("button", name="Book for a clinician's review", exact=True).click()
    page.get_by_text("Awaiting a clinician's review").wait_for()


def panels_opened(page) -> None:
    """The board's steps that ask for more (checklist, vitals, a reason) open in place."""
    page.locator("details.board-panel").first.wait_for(state="attached")
    page.evaluate("document.querySelectorAll('details.board-panel').forEach(d => d.open = true)")


def docs_drawn(page) -> None:
    """Swagger UI draws the operations from the schema after the page has loaded."""
    page.locator(".swagger-ui .opblock").first.wait_for()


def plan_proposed(page) -> None:
    page.get_by_label("Think for up to").select_option("2")
    page.get_by_role("button", name="Propose a plan").click()
    page.get_by_role("heading", name="Proposal beside the day as booked").wait_for()


def closure_form_errors(page) -> None:
    page.get_by_label("First day closed").fill("2026-12-25")
    page.get_by_label("Last day closed (included)").fill("2026-12-24")
    page.get_by_role("button", name="Add the closure").click()
    page.get_by_role("alert").first.wait_for()


# The admin forms of rows the unit's day has, opened at the first row of each.
ROWS_OPENED = (
    "scheduling.Site", "scheduling.Resource", "scheduling.Surgeon", "scheduling.Closure",
    "scheduling.ProcedureType", "scheduling.Drug", "scheduling.Patient", "scheduling.Case",
    "scheduling.WaitingListEntry", "notifications.ReminderRule", "notifications.Reminder",
    "notifications.InboundMessage", "auditlog.LogEntry", "auth.User", "hl7v2.OutboundMessage",
)


def row_opened(label: str) -> Callable:
    def open_first_row(page) -> None:
        model = apps.get_model(label)
        row = model.objects.order_by("pk").first()
        assert row is not None, f"no {label} to open"
        meta = model._meta
        response = page.goto(f"/admin/{meta.app_label}/{meta.model_name}/{row.pk}/change/")
        assert response is not None, "no answer"
        assert response.ok, f"HTTP {response.status}"

    return open_first_row


def opening_hours_row_added(page) -> None:
    """A site's form with a row of opening hours added, as a manager adds a day."""
    response = page.goto(f"/admin/scheduling/site/{Site.objects.get(code='main').pk}/change/")
    assert response is not None, "no answer"
    page.get_by_role("button", name="Add another Opening hours").click()
    page.locator("tr.dynamic-opening_hours:not(.empty-form):not(.has_original)").first.wait_for()


def admin_pages() -> list[Visit]:
    """Every list the admin shows, its form for a new row where it has one, and the form of a
    row of the models in ROWS_OPENED (as the unit manager, a superuser, sees them)."""
    request = RequestFactory().get("/admin/")
    request.user = User(is_active=True, is_superuser=True)
    pages = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        pages.append(Visit(f"admin list: {meta.label}", MANAGER, url))
        if model_admin.has_add_permission(request):
            pages.append(Visit(f"admin form: new {meta.label}", MANAGER, f"{url}add/"))
    pages.extend(Visit(f"admin form: a {label}", MANAGER, steps=row_opened(label))
                 for label in ROWS_OPENED)
    pages.append(Visit("admin form: a site, a row added", MANAGER,
                       steps=opening_hours_row_added))
    return sorted(pages, key=lambda visit: visit.name)


def visits(world: World) -> list[Visit]:
    booked, cancelled = world.booked.pk, world.cancelled.pk
    day = f"site=main&date={TUESDAY.isoformat()}"
    return [
        Visit("login", ANONYMOUS, "/accounts/login/"),
        Visit("family board", ANONYMOUS, f"/family/{world.family_token}/"),
        Visit("patient page", ANONYMOUS, urlsplit(patient_link(world.booked)).path),
        Visit("home", NO_ROLE, "/"),
        Visit("book", FRONT_DESK, "/book/"),
        Visit("book: errors", FRONT_DESK, steps=book_form_errors),
        Visit("book: free times", FRONT_DESK, "/book/", steps=book_free_times),
        Visit("book: confirmation", FRONT_DESK, steps=book_confirmed),
        Visit("book: for review", FRONT_DESK, "/book/", steps=book_for_review),
        Visit("case detail: awaiting review", FRONT_DESK, steps=booked_for_review),
        Visit("confirmation of a booked case", FRONT_DESK, f"/cases/{booked}/confirmation/"),
        Visit("case detail", FRONT_DESK, f"/cases/{booked}/"),
        Visit("case detail: cancelled, with backfill", FRONT_DESK, f"/cases/{cancelled}/"),
        Visit("reschedule", FRONT_DESK, f"/cases/{booked}/reschedule/"),
        Visit("patient search", FRONT_DESK, "/patients/?q=Whitfield"),
        Visit("patient record", FRONT_DESK, f"/patients/{world.booked.patient_id}/"),
        Visit("patient search: empty", FRONT_DESK, "/patients/"),
        Visit("day list", FRONT_DESK, f"/day/?{day}"),
        Visit("day list: a closed day", FRONT_DESK, f"/day/?site=main&date={CLOSED_DAY}"),
        Visit("review list", CLINICIAN, "/review/"),
        Visit("patients to call", FRONT_DESK, "/messages/needs-call/"),
        Visit("not reached", FRONT_DESK, "/messages/not-reached/"),
        Visit("day board", NURSE, "/board/?site=main"),
        Visit("closures", FRONT_DESK, "/closures/?site=main"),
        Visit("closures: form errors", FRONT_DESK, "/closures/?site=main",
              steps=closure_form_errors),
        Visit("day board: steps opened", NURSE, steps=panels_opened),
        Visit("day board: a closed day", NURSE, f"/board/?site=main&date={CLOSED_DAY}"),
        Visit("reports", MANAGER,
              f"/reports/?site=main&start={REPORTS_FROM}&end={REPORTS_TO}"),
        Visit("home: manager", MANAGER, "/"),
        Visit("plan", MANAGER, f"/plan/?{day}"),
        Visit("plan: proposal", MANAGER, steps=plan_proposed),
        Visit("plan: a closed day", MANAGER, f"/plan/?site=main&date={CLOSED_DAY}"),
        Visit("API browsable: closures", MANAGER, "/api/v1/sites/main/closures/"),
        Visit("admin index", MANAGER, "/admin/"),
        *admin_pages(),
        Visit("API browsable", MANAGER, "/api/v1/sites/"),
        Visit("API browsable: a form", MANAGER, "/api/v1/waiting-list/"),
        Visit("API docs", MANAGER, "/api/docs/", steps=docs_drawn),
    ]


PAGES = [
    "login", "family board", "patient page", "home", "book", "book: errors", "book: free times",
    "book: confirmation", "book: for review", "case detail: awaiting review",
    "confirmation of a booked case", "case detail",
    "case detail: cancelled, with backfill", "reschedule", "patient search",
    "patient record", "patient search: empty", "day list", "review list", "patients to call",
    "not reached", "day board", "day board: steps opened", "reports",
    "home: manager", "plan", "plan: proposal",
    "admin index", "API browsable", "API browsable: a form", "API docs",
    "day list: a closed day", "day board: a closed day", "plan: a closed day",
    "API browsable: closures", "closures", "closures: form errors",
    *(visit.name for visit in admin_pages()),
]


def findings(tabs: dict, world: World) -> dict[str, list[str]]:
    source, found = axe_source(), {}
    for visit in visits(world):
        tab = tabs[visit.role]
        try:
            if visit.path:
                response = tab.goto(visit.path)
                assert response is not None, "no answer"
                assert response.ok, f"HTTP {response.status}"
            if visit.steps:
                visit.steps(tab)
            tab.wait_for_load_state("load")
            found[visit.name] = serious(tab, source)
        except Exception as error:  # noqa: BLE001 (one page's failure is that page's finding)
            found[visit.name] = [f"the page could not be reached: {error}"]
    return found


@pytest.fixture(scope="module")
def unit_day(django_db_setup, django_db_blocker, browser):
    """The unit built once, the live server, a logged-in tab per role, and what axe found."""
    overrides = override_settings(
        NOTIFICATIONS_SMS_BACKEND="notifications.backends.locmem.OutboxBackend",
        NOTIFICATIONS_EMAIL_BACKEND="notifications.backends.locmem.OutboxBackend",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                            "LOCATION": "axe"}},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False), overrides:
        reference_data_restored()
        world = world_built()
        connections.close_all()  # the live server's threads open their own
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        contexts = []
        try:
            tabs = {}
            for role in (ANONYMOUS, NO_ROLE, FRONT_DESK, NURSE, MANAGER, CLINICIAN):
                context = browser.new_context(base_url=server.url)
                context.set_default_timeout(10_000)
                contexts.append(context)
                tabs[role] = context.new_page()
                if role != ANONYMOUS:
                    log_in(tabs[role], world.users[role].username)
                    tabs[role].wait_for_url(lambda url: "/accounts/login/" not in url)
            found = findings(tabs, world)
            yield {"contexts": dict(zip(tabs, contexts, strict=True)), "found": found,
                   "url": server.url, "family_token": world.family_token}
        finally:
            for context in contexts:
                context.close()
            server._live_server_modified_settings.disable()
            server.stop()
            # The tests after this module find the database as the migrations left it.
            call_command("flush", interactive=False, verbosity=0)
            reference_data_restored()
            connections.close_all()


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in PAGES])
def test_axe_finds_nothing_serious_on_the_page(unit_day, name):
    found = unit_day["found"]
    assert name in found, f"{name} was not visited"
    assert found[name] == [], f"{name}: " + "; ".join(found[name])


def test_every_page_listed_is_checked(unit_day):
    assert sorted(unit_day["found"]) == sorted(PAGES)


def test_the_first_tab_reaches_the_skip_link_and_enter_moves_to_the_main_content(unit_day):
    tab = unit_day["contexts"][FRONT_DESK].new_page()
    tab.goto(f"/day/?site=main&date={TUESDAY.isoformat()}")
    tab.keyboard.press("Tab")
    focused = tab.evaluate(
        "(() => { const e = document.activeElement; const box = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), href: e.getAttribute('href'),"
        " width: box.width, height: box.height, top: box.top}; })()"
    )
    assert focused["text"] == "Skip to main content"
    assert focused["href"] == "#main"
    # Hidden until focused, then on screen where a sighted keyboard user sees it.
    assert focused["width"] > 20
    assert focused["height"] > 10
    assert focused["top"] >= 0
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.closest('main') !== null")
    tab.close()


def test_the_family_board_brings_its_codes_up_to_date_in_place(unit_day, browser):
    """No timed reload of the page (axe's meta-refresh): the screen fetches the board and swaps
    in its content, so a screen reader keeps its place."""
    context = browser.new_context(base_url=unit_day["url"])
    try:
        context.clock.install()
        tab = context.new_page()
        tab.goto(f"/family/{unit_day['family_token']}/")
        codes = tab.locator("main .code").all_text_contents()
        assert len(codes) == len(TRACKED_STATUSES)  # a case at each step, checked in to home
        tab.evaluate("window.notReloaded = true")
        tab.evaluate("document.querySelector('main').replaceChildren()")
        tab.clock.run_for(16_000)
        tab.locator("main .code").first.wait_for()
        assert tab.locator("main .code").all_text_contents() == codes
        assert tab.evaluate("window.notReloaded") is True
    finally:
        context.close()
