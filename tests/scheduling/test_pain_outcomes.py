"""The reports' outcomes section: median pain before the procedure and on each follow-up day,
by procedure type and by surgeon, with response rates (answered of asked), on the page as a
chart and a table, and as CSV; only the site's own cases, for its managers."""

import csv
import io

import pytest

from notifications.models import MessageKind, ReminderStatus
from scheduling import reports, roles
from scheduling.models import Case, CaseStatus, Site
from scheduling.pain_models import PainSource
from scheduling.reports import outcomes
from scheduling.reports.period import Period
from scheduling.services.pain import pain_score_record
from tests.conftest import build_unit
from tests.factories import ProcedureTypeFactory, SurgeonFactory, UserFactory
from tests.scheduling.reports_data import MONDAY, NEW_YORK, TUESDAY, case_written, message_made, ny

pytestmark = pytest.mark.django_db
QUERY = {"site": "main", "start": "2026-02-09", "end": "2026-02-15"}
WEEK = Period(MONDAY, MONDAY.replace(day=15), NEW_YORK)


def asked(case, day=None):
    """The pain ask for `day` (None: the booking's) went out by text."""
    message_made(case, MessageKind.PAIN_ASK, ny(case.day, 10), ReminderStatus.DELIVERED,
                 sent=True, note="" if day is None else f"day:{day}")


def answered(case, score, day=None, source=PainSource.SMS):
    pain_score_record(case=case, followup_day=day, score=score, source=source)


def written(site, day, hour, *, surgeon, kind="vertebroplasty", status=CaseStatus.DISCHARGED):
    case = case_written(site, day, hour, procedure_type=kind, status=status)
    Case.objects.filter(pk=case.pk).update(surgeon=surgeon)
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def history(unit):
    """Four cases of the week of 9 February, one cancelled, and one at another site.

    A  vertebroplasty, Dr Alpha: before 8; day 1: 3; day 7 asked, no answer
    B  vertebroplasty, Dr Beta:  before 6; day 1: 2; day 7: 1
    C  kyphoplasty,    Dr Alpha: before asked, no answer; day 1: 4
    F  vertebroplasty, Dr Beta:  before 7, on the page without an ask
    """
    ProcedureTypeFactory(code="kyphoplasty", name="Kyphoplasty")
    alpha = SurgeonFactory(name="Dr Alpha", sites=[unit])
    beta = SurgeonFactory(name="Dr Beta", sites=[unit])
    a = written(unit, MONDAY, 8, surgeon=alpha)
    b = written(unit, MONDAY, 11, surgeon=beta)
    c = written(unit, TUESDAY, 8, surgeon=alpha, kind="kyphoplasty")
    f = written(unit, TUESDAY, 11, surgeon=beta)
    for case in (a, b, c):
        asked(case)
        asked(case, 1)
    asked(a, 7)
    asked(b, 7)
    answered(a, 8)
    answered(a, 3, 1)
    answered(b, 6)
    answered(b, 2, 1)
    answered(b, 1, 7)
    answered(c, 4, 1)
    answered(f, 7, source=PainSource.LINK)
    cancelled = written(unit, MONDAY, 14, surgeon=alpha, status=CaseStatus.CANCELLED)
    asked(cancelled)
    answered(cancelled, 10)
    north = build_unit(code="north", name="North Clinic")
    elsewhere = written(north, MONDAY, 8, surgeon=alpha)
    asked(elsewhere)
    answered(elsewhere, 0)
    return unit


def cells(report, name):
    line = next(line for line in report.lines if line.name == name)
    return [(m.median, m.answered, m.asked) for m in line.moments]


def test_it_gives_the_median_and_the_answered_of_asked_per_moment(history):
    report = reports.outcomes_get(site=history, period=WEEK)

    assert report.labels == ["Before", "Day 1", "Day 7", "Day 30"]
    assert cells(report, "All cases") == [(7, 3, 4), (3, 3, 3), (1, 1, 2), (None, 0, 0)]
    assert report.total.moments[0].response_pct == 75.0


def test_it_splits_by_procedure_type_and_by_surgeon(history):
    report = reports.outcomes_get(site=history, period=WEEK)

    assert [(line.group, line.name) for line in report.lines] == [
        ("all", "All cases"),
        ("procedure type", "Kyphoplasty"),
        ("procedure type", "Vertebroplasty"),
        ("surgeon", "Dr Alpha"),
        ("surgeon", "Dr Beta"),
    ]
    assert cells(report, "Vertebroplasty")[:3] == [(7, 3, 3), (2.5, 2, 2), (1, 1, 2)]
    assert cells(report, "Kyphoplasty")[:2] == [(None, 0, 1), (4, 1, 1)]
    assert cells(report, "Dr Alpha")[:3] == [(8, 1, 2), (3.5, 2, 2), (None, 0, 1)]
    assert cells(report, "Dr Beta")[:3] == [(6.5, 2, 2), (2, 1, 1), (1, 1, 1)]


@pytest.mark.postgres
def test_the_database_counts_the_moments_as_python_does(history):
    nobody = written(history, TUESDAY, 14, surgeon=None)
    asked(nobody, 1)
    again = nobody.reminders.get()
    again.pk, again.channel, again.recipient = None, "email", "nobody@example.org"
    again.save()  # asked by email too: still one moment asked
    answered(nobody, 5, 30)  # a day the site does not ask, answered on the page

    in_database = outcomes._cells_in_database(history, WEEK)

    assert in_database == outcomes._cells_added_here(history, WEEK)
    assert in_database[("surgeon", outcomes.NO_SURGEON, 1)] == (1, 0, None)
    assert in_database[("all", outcomes.ALL_CASES, 1)] == (4, 3, 3.0)


def test_a_site_with_no_answers_shows_an_empty_total(unit):
    report = reports.outcomes_get(site=unit, period=WEEK)

    assert [(line.group, line.name) for line in report.lines] == [("all", "All cases")]
    assert cells(report, "All cases")[0] == (None, 0, 0)


# The page and the CSV


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    client.force_login(user)
    return user


@pytest.fixture
def admin(client, unit):
    staff(client, unit, roles.ADMIN)
    return client


def test_the_page_shows_the_outcomes_chart_and_table(admin, history):
    response = admin.get("/reports/", QUERY)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="outcomes"' in html
    assert "Median pain (0-10) before the procedure and after it" in html
    assert 'id="chart-outcomes-title"' in html
    assert "<strong>2.5</strong> · 2 / 2 (100.0%)" in html
    assert "North Clinic" not in html


def test_the_csv_has_a_stable_header_and_one_row_per_line_and_moment(admin, history):
    response = admin.get("/reports/outcomes.csv", QUERY)

    assert response.status_code == 200
    assert 'filename="vertebro-outcomes-main-20260209-20260215.csv"' in response[
        "Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == [
        "group", "name", "asked_when", "followup_day", "asked", "answered", "response_pct",
        "median_pain",
    ]
    assert rows[:4] == [
        ["all", "All cases", "before", "", "4", "3", "75.0", "7.0"],
        ["all", "All cases", "day 1", "1", "3", "3", "100.0", "3.0"],
        ["all", "All cases", "day 7", "7", "2", "1", "50.0", "1.0"],
        ["all", "All cases", "day 30", "30", "0", "0", "", ""],
    ]
    assert len(rows) == 5 * 4


def test_only_the_sites_managers_see_it(client, history):
    staff(client, history, roles.FRONT_DESK)
    assert client.get("/reports/outcomes.csv", QUERY).status_code in (302, 403)

    north_admin = UserFactory(roles=[roles.ADMIN])
    north_admin.sites.add(Site.objects.get(code="north"))
    client.force_login(north_admin)
    assert client.get("/reports/outcomes.csv", QUERY).status_code == 404
    north = client.get("/reports/outcomes.csv", QUERY | {"site": "north"})
    assert list(csv.reader(io.StringIO(north.content.decode())))[1] == [
        "all", "All cases", "before", "", "1", "1", "100.0", "0.0",
    ]
