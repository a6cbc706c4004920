"""The reports and the front desk's not-reached list read only the rows of the days they show,
through indexes: the site's cases by day, then each case's stages, messages and pain scores from
the covering indexes of migrations scheduling 0019 and notifications 0013. A test table is tiny
and a sequential scan cheapest, so the plans are taken with sequential scans switched off: they
show whether an index answers the question at all, and how it is bounded."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import MessageKind, Reminder, ReminderStatus
from notifications.selectors import reminders_not_reached
from scheduling import reports
from scheduling.models import Case, Stage, StageKind
from scheduling.pain_models import PainScore
from scheduling.reports.volume import message_case_days
from tests.conftest import NOW
from tests.scheduling.reports_data import MONDAY, NEW_YORK, case_written, message_made, ny, ran

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
PERIOD = reports.Period(MONDAY, MONDAY + timedelta(days=6), NEW_YORK)
HISTORY_TABLES = ("scheduling_case", "scheduling_stage", "notifications_reminder",
                  "scheduling_painscore")
# The site's cases found by the (site, day) index with a bound on the day.
CASES_BY_DAY = re.compile(r"Index Cond: \(\(site_id = \d+\) AND \(day >=")
# Then each case's rows through an index on the case.
BY_CASE = re.compile(r"Index Cond: \(+case_id = scheduling_case\.id\)")


def plans(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            if any(f'"{table}"' in query["sql"] for table in HISTORY_TABLES):
                cursor.execute(f"EXPLAIN {query['sql']}")
                found.append("\n".join(line for (line,) in cursor.fetchall()))
    return found


def assert_no_scan_of_history(found: list[str]) -> None:
    for plan in found:
        for table in HISTORY_TABLES:
            assert not re.search(rf"Seq Scan on {table}\b", plan), plan


@pytest.fixture
def week(unit):
    case = case_written(unit, MONDAY, 8)
    ran(case, StageKind.PROCEDURE, (8, 12), (9, 12))
    message_made(case, MessageKind.PAIN_ASK, ny(MONDAY, 6), ReminderStatus.DELIVERED,
                 sent=True, note="")
    history_made(case)
    return case


def history_made(case: Case, days: int = 400) -> None:
    """A copy of the case, with its stages, messages and pain scores, on each of `days` days
    before it, and the planner told: a site with a history, where reading every case of the
    site costs more than reading the days asked for."""
    shift = "(c.day - k.day) * interval '1 day'"
    copy(Case, "c.id = %s", {"day": "c.day - g"}, shift.replace("(c.day - k.day)", "g"),
         source="scheduling_case c CROSS JOIN generate_series(1, %s) g", params=[days, case.pk])
    clones = "scheduling_case k JOIN scheduling_case c ON c.id = %s AND k.patient_id = c.patient_id"
    for model in (Stage, Reminder, PainScore):
        copy(model, "r.case_id = c.id AND k.id <> c.id", {"case_id": "k.id"}, shift,
             source=f"{model._meta.db_table} r CROSS JOIN {clones}", params=[case.pk], row="r")
    with connection.cursor() as cursor:
        for table in HISTORY_TABLES:
            cursor.execute(f"ANALYZE {table}")


def copy(model, where: str, replaced: dict, shift: str, *, source: str, params: list,
         row: str = "c") -> None:
    """INSERT ... SELECT of `model`'s rows from `source`, its instants moved back by `shift`."""
    fields = [f for f in model._meta.concrete_fields if f.column != "id"]
    values = [
        replaced.get(f.column)
        or (f"{row}.{f.column} - {shift}" if f.get_internal_type() == "DateTimeField"
            else f"{row}.{f.column}")
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(f.column for f in fields)})"
            f" SELECT {', '.join(values)} FROM {source} WHERE {where}",
            params,
        )


@pytest.mark.parametrize("selector", [
    reports.utilisation_get, reports.first_cases_get, reports.turnovers_get,
    reports.durations_get,
])
def test_the_stage_reports_read_the_periods_stages_from_the_stage_index(unit, week, selector):
    found = plans(lambda: selector(site=unit, period=PERIOD))
    stages = [plan for plan in found if "scheduling_stage" in plan]
    assert stages
    for plan in stages:
        assert CASES_BY_DAY.search(plan), plan
        assert BY_CASE.search(plan), plan
    assert_no_scan_of_history(found)


def test_the_messages_report_reads_the_messages_of_the_cases_of_a_window_of_days(unit):
    """Messages due in the period are counted through their cases' days: a message whose case
    lies outside the window of days it can belong to is never read."""
    first, last = message_case_days(unit, PERIOD)
    for day, note in ((first, "in"), (last, "in"), (first - timedelta(days=1), "out"),
                      (last + timedelta(days=1), "out")):
        case = case_written(unit, day, 8)
        message_made(case, MessageKind.CONFIRMATION, ny(MONDAY, 9), ReminderStatus.DELIVERED,
                     sent=True, note=note)

    result = reports.messages_get(site=unit, period=PERIOD)

    assert (result.total.planned, result.total.delivered) == (2, 2)


def test_the_outcomes_report_reads_scores_and_asks_from_the_indexes_alone(unit, week):
    scores, asks = plans(lambda: reports.outcomes_get(site=unit, period=PERIOD))
    assert "Index Only Scan using pain_score_case_report" in scores, scores
    assert "Index Only Scan using reminder_case_report" in asks, asks
    assert_no_scan_of_history([scores, asks])


def test_the_not_reached_list_reads_only_the_cases_to_come(unit, week):
    [plan] = plans(lambda: list(reminders_not_reached(site=unit, now=NOW)))
    assert CASES_BY_DAY.search(plan), plan
    assert_no_scan_of_history([plan])


def test_a_confirmation_sent_in_the_period_for_a_case_months_later_is_counted(unit):
    later = MONDAY + timedelta(days=120)
    case = case_written(unit, later, 8)
    message_made(case, MessageKind.CONFIRMATION, ny(MONDAY, 9), ReminderStatus.DELIVERED,
                 sent=True, note="")

    result = reports.messages_get(site=unit, period=PERIOD)

    assert (result.total.planned, result.total.delivered) == (1, 1)


def test_the_window_reaches_from_the_last_followup_back_to_the_booking_horizon_ahead(
    unit, settings
):
    settings.BOOKING_HORIZON_DAYS = 400
    unit.pain_followup_days = "1,7,30"

    first, last = message_case_days(unit, PERIOD)

    assert first == MONDAY - timedelta(days=30 + 31)
    assert last == PERIOD.end + timedelta(days=400)
