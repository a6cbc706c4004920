"""Every report of one period at once (reports.reports_get): the reports of the stages share one
read of the period's stages, and give what each gives alone."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling import reports
from scheduling.models import CaseStatus, StageKind
from tests.scheduling.reports_data import MONDAY, NEW_YORK, TUESDAY, case_written, ny, ran

pytestmark = pytest.mark.django_db
TWO_WEEKS = reports.Period(MONDAY, MONDAY + timedelta(days=13), NEW_YORK)


@pytest.fixture
def days(unit):
    """Two days in two rooms, run late and early, a cancelled case and one not run."""
    a = case_written(unit, MONDAY, 8, room="Room 2")
    ran(a, StageKind.PRE_OP, (7, 0), (8, 5))
    ran(a, StageKind.PROCEDURE, (8, 5), (9, 0))
    ran(a, StageKind.CEMENT_SET, (9, 0), (10, 0))
    b = case_written(unit, MONDAY, 9, room="Room 1", pre_op="Pre-op 2", recovery="Recovery 2",
                     levels=2)
    ran(b, StageKind.PROCEDURE, (9, 30), (10, 40))
    c = case_written(unit, MONDAY, 10, 15, room="Room 2", recovery="Recovery 3")
    ran(c, StageKind.PROCEDURE, (10, 20), (11, 0))
    ran(c, StageKind.CEMENT_SET, (11, 0), (12, 0))
    case_written(unit, TUESDAY, 13, status=CaseStatus.CANCELLED)
    d = case_written(unit, TUESDAY, 9, room="Room 1", status=CaseStatus.CONFIRMED)
    ran(d, StageKind.PROCEDURE, (8, 55), (9, 50))


def stage_reads(captured) -> int:
    return sum('"scheduling_stage"' in query["sql"] for query in captured.captured_queries)


def test_every_report_of_a_period_reads_the_periods_stages_once(unit, days):
    with CaptureQueriesContext(connection) as captured:
        reports.reports_get(site=unit, period=TWO_WEEKS)

    assert stage_reads(captured) == 1


def test_every_report_at_once_gives_what_each_report_gives_alone(unit, days):
    together = reports.reports_get(site=unit, period=TWO_WEEKS)

    alone = {
        "utilisation": reports.utilisation_get, "first_cases": reports.first_cases_get,
        "turnovers": reports.turnovers_get, "durations": reports.durations_get,
        "cancellations": reports.cancellations_get, "messages": reports.messages_get,
        "outcomes": reports.outcomes_get,
    }
    for name, selector in alone.items():
        assert getattr(together, name) == selector(site=unit, period=TWO_WEEKS), name
    assert len(together.first_cases.days) == 3
    [gap] = together.turnovers.gaps  # Room 2: A left at 10:00, C's procedure began at 10:20
    assert (gap.room, gap.minutes) == ("Room 2", 20)
    assert together.durations.lines


def test_first_cases_are_listed_by_day_then_room_name(unit, days):
    result = reports.first_cases_get(site=unit, period=TWO_WEEKS)

    assert [(first.day, first.room, first.planned_start) for first in result.days] == [
        (MONDAY, "Room 1", ny(MONDAY, 9)),
        (MONDAY, "Room 2", ny(MONDAY, 8)),
        (TUESDAY, "Room 1", ny(TUESDAY, 9)),
    ]
    assert [first.delay_minutes for first in result.days] == [30, 5, -5]
