"""The reports page and its CSV exports through the HTTP client: who may open them, bad date
ranges, the CSV's content and its guard against spreadsheet formulas, and a query count that
does not grow with the number of cases."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import MessageKind, ReminderStatus
from scheduling import roles
from scheduling.models import Resource, ResourceKind, StageKind
from tests.conftest import build_unit
from tests.factories import UserFactory
from tests.scheduling.reports_data import MONDAY, case_written, message_made, ny, ran

pytestmark = pytest.mark.django_db
REPORTS = [
    "utilisation", "first-case", "turnover", "durations", "cancellations", "messages", "outcomes",
]


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    client.force_login(user)
    return user


@pytest.fixture
def admin(client, unit):
    staff(client, unit, roles.ADMIN)
    return client


@pytest.fixture
def week(unit):
    """Room 1 on Monday 9 February: a case planned 08:00-10:00 that ran 08:12-10:12."""
    case = case_written(unit, MONDAY, 8)
    ran(case, StageKind.PROCEDURE, (8, 12), (9, 12))
    ran(case, StageKind.CEMENT_SET, (9, 12), (10, 12))
    message_made(case, MessageKind.ARRIVAL, ny(MONDAY, 6), ReminderStatus.DELIVERED, sent=True,
                 note="")
    return case


def rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


# Who may open them


def test_an_admin_sees_every_report_with_charts_and_numbers(admin, week):
    response = admin.get("/reports/")  # the last four complete weeks: 2 February to 1 March

    assert response.status_code == 200
    html = response.content.decode()
    for anchor in REPORTS:
        assert f'id="{anchor}"' in html
        assert f"/reports/{anchor}.csv?site=main&amp;start=2026-02-02&amp;end=2026-03-01" in html
    assert html.count("<svg") == 8
    # Room 1 held 120 of 3,300 open minutes in week 7 (3.6%) and of 13,200 over the four weeks.
    assert "3.6% / 3.6%" in html
    assert ">0.9%</text>" in html
    assert "1 of 1 on time" not in html
    assert "0 of 1 on time (0.0%)" in html
    assert 'href="/reports/">Reports</a>' in html


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.NURSE, roles.CLINICIAN])
def test_other_roles_are_refused(client, unit, role):
    staff(client, unit, role)

    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/utilisation.csv").status_code == 403
    assert 'href="/reports/"' not in client.get("/board/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, unit):
    for url in ["/reports/", "/reports/messages.csv?site=main"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_admin_of_no_site_is_told_so(client, unit):
    client.force_login(UserFactory(roles=[roles.ADMIN]))

    response = client.get("/reports/")

    assert response.status_code == 200
    assert "You do not work at any site yet" in response.content.decode()
    assert client.get("/reports/durations.csv").status_code == 404


def test_an_unknown_site_or_another_sites_reports_answer_404(admin, unit):
    build_unit(code="north", name="North Clinic")

    assert admin.get("/reports/", {"site": "nowhere"}).status_code == 404
    assert admin.get("/reports/", {"site": "north"}).status_code == 404
    assert admin.get("/reports/durations.csv", {"site": "north"}).status_code == 404
    assert admin.get("/reports/everything.csv", {"site": "main"}).status_code == 404


# Bad ranges


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-02-20", "end": "2026-02-10"},
         "The last day (10 Feb 2026) is before the first day (20 Feb 2026)"),
        ({"start": "2025-01-01", "end": "2026-02-01"}, "A report covers at most one year"),
        ({"start": "last week"}, "From: Give the first day as a date (YYYY-MM-DD)."),
        ({"end": "2026-02-31"}, "Give the last day as a date (YYYY-MM-DD)."),
    ],
)
def test_a_bad_range_is_explained_on_the_page_and_refused_for_csv(admin, week, query, message):
    page = admin.get("/reports/", {"site": "main", **query})
    export = admin.get("/reports/utilisation.csv", {"site": "main", **query})

    assert page.status_code == 200
    html = page.content.decode()
    assert message in html
    assert "These dates cannot be shown" in html
    assert "<svg" not in html  # no report over dates that make no sense
    assert export.status_code == 400
    assert message.split(": ")[-1] in export.content.decode()


@pytest.mark.parametrize(("query", "shown"), [
    ({"start": "2026-02-09"}, "Monday 9 February 2026 to Sunday 8 March 2026"),
    ({"end": "2026-02-15"}, "Monday 19 January 2026 to Sunday 15 February 2026"),
])
def test_one_date_alone_gives_four_weeks_from_or_up_to_it(admin, week, query, shown):
    assert shown in admin.get("/reports/", query).content.decode()


def test_a_year_to_the_day_is_accepted(admin, week):
    response = admin.get("/reports/", {"start": "2025-03-02", "end": "2026-03-01"})

    assert response.status_code == 200
    assert "<svg" in response.content.decode()


# CSV


def test_each_csv_has_a_stable_header_and_the_reports_numbers(admin, week):
    query = {"site": "main", "start": "2026-02-09", "end": "2026-02-15"}
    headers = {}
    for report in REPORTS:
        response = admin.get(f"/reports/{report}.csv", query)
        assert response.status_code == 200
        assert f'filename="vertebro-{report}-main-20260209-20260215.csv"' in response[
            "Content-Disposition"]
        headers[report], *body = rows(response)
        headers[report + " body"] = body

    assert headers["utilisation"] == [
        "week", "resource", "kind", "open_minutes", "planned_minutes", "actual_minutes",
        "planned_pct", "actual_pct",
    ]
    assert ["2026-W07", "Room 1", "Procedure room", "3300", "120", "120", "3.6", "3.6"] in headers[
        "utilisation body"]
    assert headers["first-case body"] == [
        ["2026-02-09", "Room 1", "2026-02-09 08:00", "2026-02-09 08:12", "12", "no"]
    ]
    assert headers["turnover"][-2:] == ["turnover_minutes", "planned_minutes"]
    assert headers["durations body"][0][:4] == ["Vertebroplasty", "Procedure", "1", "1"]
    assert headers["cancellations body"] == [["2026-W07", "1", "0", "0", "0.0", "0.0"]]
    assert headers["messages body"] == [["2026-W07", "arrival", "1", "1", "1", "0", "0"]]


def test_csv_cells_that_a_spreadsheet_would_run_are_kept_as_text(admin, unit, week):
    Resource.objects.filter(site=unit, name="Room 1").update(name='=HYPERLINK("http://x","y")')
    Resource.objects.filter(site=unit, name="Room 2").update(name="+1 room")
    Resource.objects.filter(site=unit, name="Pre-op 2").update(name="-2 bay")
    Resource.objects.filter(site=unit, name="Recovery 3").update(name="@SUM(A1)")
    query = {"site": "main", "start": "2026-02-09", "end": "2026-02-09"}

    names = {row[1] for row in rows(admin.get("/reports/utilisation.csv", query))[1:]}
    first_case = rows(admin.get("/reports/first-case.csv", query))[1]

    assert {"'=HYPERLINK(\"http://x\",\"y\")", "'+1 room", "'-2 bay", "'@SUM(A1)"} <= names
    assert "Pre-op 1" in names  # an ordinary name is left alone
    assert first_case[1] == "'=HYPERLINK(\"http://x\",\"y\")"


# Cost


def cases_made(site, count, *, first=0):
    """`count` cases over the report's weeks, each in rooms and bays of its own (never
    overlapping, even under PostgreSQL's exclusion constraints), run and messaged."""
    Resource.objects.bulk_create(
        Resource(site=site, kind=kind, name=f"{prefix} x{first + number}")
        for number in range(count)
        for kind, prefix in [(ResourceKind.PRE_OP_BAY, "Pre-op"),
                             (ResourceKind.PROCEDURE_ROOM, "Room"),
                             (ResourceKind.RECOVERY_BAY, "Recovery")]
    )
    for number in range(first, first + count):
        day = MONDAY + timedelta(days=number % 5 + 7 * (number // 5 % 3))
        case = case_written(site, day, 8, room=f"Room x{number}", pre_op=f"Pre-op x{number}",
                         recovery=f"Recovery x{number}", levels=1 + number % 2)
        ran(case, StageKind.PROCEDURE, (8, number % 20), (9, 30))
        message_made(case, MessageKind.ARRIVAL, ny(day, 6), ReminderStatus.DELIVERED,
                     sent=True, note="")


def test_the_page_and_each_csv_cost_the_same_queries_for_5_and_50_cases(admin, unit):
    urls = ["/reports/"] + [f"/reports/{report}.csv" for report in REPORTS]
    cases_made(unit, 5)
    admin.get("/reports/")  # the session and the user's roles are warm from here on

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert admin.get(url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    cases_made(unit, 45, first=5)
    many = counts()

    assert few == many
    assert "Room x49" in admin.get("/reports/").content.decode()
