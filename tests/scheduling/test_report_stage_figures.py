"""The stage reports' figures (scheduling/reports/stages.py): on PostgreSQL the database adds
them up in one statement; elsewhere Python adds up the stages it reads. Both must give the
figures a manager would work out by hand, and the same figures as each other."""

from datetime import timedelta

import pytest

from scheduling import reports
from scheduling.models import CaseStatus, StageKind
from scheduling.reports import stages as stage_figures
from scheduling.reports.period import open_hours
from tests.scheduling.reports_data import MONDAY, NEW_YORK, TUESDAY, case_written, ny, ran

pytestmark = pytest.mark.django_db
SATURDAY = MONDAY + timedelta(days=5)  # the unit is shut at weekends
TWO_WEEKS = reports.Period(MONDAY, MONDAY + timedelta(days=13), NEW_YORK)


def ran_to_the_second(case, kind, start, end) -> None:
    """As `ran`, with (hour, minute, second) times."""
    case.stages.filter(kind=kind).update(
        actual_start=ny(case.day, *start[:2]) + timedelta(seconds=start[2]),
        actual_end=ny(case.day, *end[:2]) + timedelta(seconds=end[2]),
    )


@pytest.fixture
def fortnight(unit):
    """Room 1 on Monday: A 08:00 ran to the second, B 10:15 (2 levels) ran, C 17:00 runs past
    closing (18:00), never started. Room 2 on Monday: D 08:30 ran, E 11:00 cancelled. Tuesday:
    F in Room 2 entered before G's planned start, G not started. A Saturday case (shut) ran."""
    a = case_written(unit, MONDAY, 8)
    ran_to_the_second(a, StageKind.PRE_OP, (7, 0, 30), (8, 0, 45))
    ran_to_the_second(a, StageKind.PROCEDURE, (8, 1, 15), (9, 0, 50))
    ran_to_the_second(a, StageKind.CEMENT_SET, (9, 0, 50), (10, 1, 5))
    b = case_written(unit, MONDAY, 10, 15, levels=2)
    ran(b, StageKind.PROCEDURE, (10, 32), (11, 56))
    ran(b, StageKind.CEMENT_SET, (11, 56), (12, 56))
    ran(b, StageKind.RECOVERY, (12, 56), (14, 10))
    case_written(unit, MONDAY, 17, status=CaseStatus.CONFIRMED)
    d = case_written(unit, MONDAY, 8, 30, room="Room 2", pre_op="Pre-op 2",
                     recovery="Recovery 2")
    ran(d, StageKind.PROCEDURE, (8, 40), (9, 43))
    ran(d, StageKind.CEMENT_SET, (9, 43), (10, 40))
    case_written(unit, MONDAY, 11, room="Room 2", status=CaseStatus.CANCELLED)
    f = case_written(unit, TUESDAY, 9, room="Room 2", pre_op="Pre-op 2", recovery="Recovery 3")
    ran(f, StageKind.PROCEDURE, (8, 55), (9, 58))
    ran(f, StageKind.CEMENT_SET, (9, 58), (11, 2))
    g = case_written(unit, TUESDAY, 11, 30, room="Room 2", recovery="Recovery 2")
    ran(g, StageKind.PRE_OP, (10, 20), (11, 25))
    s = case_written(unit, SATURDAY, 9)
    ran(s, StageKind.PROCEDURE, (9, 0), (10, 0))


@pytest.mark.postgres
def test_the_database_adds_up_the_stages_as_python_does(unit, fortnight):
    hours = open_hours(unit, TWO_WEEKS)
    in_database = stage_figures._figures_in_database(unit, TWO_WEEKS, hours)
    added_here = stage_figures._figures_added_here(unit, TWO_WEEKS, hours)

    resources, used, use, durations, first_starts, gaps = in_database
    assert (resources, used) == added_here[:2]
    assert use.keys() == added_here[2].keys()
    for key, (planned, actual) in use.items():
        assert (planned, actual) == pytest.approx(added_here[2][key], abs=1e-9), key
    assert durations == added_here[3]  # the same medians, to the last bit
    assert first_starts == added_here[4]
    assert gaps == added_here[5]


def test_a_day_with_seconds_is_summed_within_opening_hours(unit, fortnight):
    result = reports.reports_get(site=unit, period=TWO_WEEKS)

    rooms = {line.name: line for line in result.utilisation.resources}
    first_week, _ = rooms["Room 1"].by_week
    # A's procedure and cement set 08:00-10:00, B's 10:15-12:45, C's 17:00-19:00 of which
    # 60 minutes before closing: 330 planned. Actual: A 08:01:15-10:01:05 (119 5/6 min),
    # B 10:32-12:56 (144): 263 5/6 of 5 x 660 open minutes.
    assert first_week.open_minutes == 5 * 660
    assert first_week.planned_minutes == 330
    assert first_week.actual_minutes == pytest.approx(263 + 5 / 6)
    assert (first_week.planned_pct, first_week.actual_pct) == (10.0, 8.0)
    # The Saturday procedure is outside every opening hour: counted nowhere.
    assert rooms["Room 1"].total.planned_minutes == 330
    room_2 = rooms["Room 2"].by_week[0]
    # D 08:30-10:30 (E, cancelled, not counted), F 09:00-11:00, G 11:30-13:30: planned 360;
    # ran D 120, F 127, G not yet.
    assert (room_2.planned_minutes, room_2.actual_minutes) == (360, 247)
    pre_op_1 = rooms["Pre-op 1"].by_week[0]
    # A's pre-op ran 07:00:30-08:00:45 (60.25 minutes), G's 10:20-11:25 (65).
    assert pre_op_1.actual_minutes == pytest.approx(125.25)


def test_medians_firsts_and_turnovers_of_the_fortnight(unit, fortnight):
    result = reports.reports_get(site=unit, period=TWO_WEEKS)

    lines = {(line.stage, line.levels): line for line in result.durations.lines}
    # One-level procedures timed: A 59 7/12 (08:01:15-09:00:50), D 63, F 63, Saturday 60:
    # the middle two, 60 and 63, give 61.5.
    procedure = lines[("Procedure", 1)]
    assert (procedure.count, procedure.actual_median, procedure.planned_median) == (4, 61.5, 60)
    # Cement sets: A 60 1/4, D 57, F 64: the middle one.
    assert lines[("Cement set", 1)].actual_median == 60.2
    assert lines[("Recovery", 2)].actual_median == 74
    firsts = [(first.day, first.room, first.delay_minutes) for first in result.first_cases.days]
    assert firsts == [
        (MONDAY, "Room 1", 1), (MONDAY, "Room 2", 10), (TUESDAY, "Room 2", -5),
        (SATURDAY, "Room 1", 0),
    ]
    gaps = [(gap.day, gap.room, gap.minutes, gap.planned_minutes)
            for gap in result.turnovers.gaps]
    # Room 1: A left at 10:01:05, B entered at 10:32 (31 min; planned 15). C never entered,
    # and G, not started, is no turnover after F.
    assert gaps == [(MONDAY, "Room 1", 31, 15)]

