"""The report selectors (scheduling/reports/) on days with known planned and actual times."""

from datetime import date, timedelta

import pytest

from notifications.models import MessageKind, ReminderStatus
from scheduling import reports
from scheduling.models import CaseStatus, StageKind
from scheduling.reports.durations import to_grid
from tests.scheduling.reports_data import (
    MONDAY,
    NEW_YORK,
    TUESDAY,
    case_written,
    message_made,
    ny,
    ran,
)

pytestmark = pytest.mark.django_db
ONE_DAY = reports.Period(MONDAY, MONDAY, NEW_YORK)
ONE_WEEK = reports.Period(MONDAY, MONDAY + timedelta(days=6), NEW_YORK)
TWO_WEEKS = reports.Period(MONDAY, MONDAY + timedelta(days=13), NEW_YORK)


@pytest.fixture
def monday(unit):
    """Room 1 on Monday 9 February (open 07:00-18:00, 660 minutes):
    A 08:00, 1 level: room 08:00-10:00 planned, ran 08:12-10:12 (first case 12 min late);
    B 10:15, 2 levels: room 10:15-12:45 planned, ran 10:32-12:56 (entered 20 min after A left);
    C 17:00: room 17:00-19:00 planned, of which only 17:00-18:00 is within opening hours; not run.
    """
    a = case_written(unit, MONDAY, 8)
    ran(a, StageKind.PRE_OP, (7, 0), (8, 12))
    ran(a, StageKind.PROCEDURE, (8, 12), (9, 12))
    ran(a, StageKind.CEMENT_SET, (9, 12), (10, 12))
    b = case_written(unit, MONDAY, 10, 15, levels=2)
    ran(b, StageKind.PROCEDURE, (10, 32), (11, 56))
    ran(b, StageKind.CEMENT_SET, (11, 56), (12, 56))
    c = case_written(unit, MONDAY, 17, status=CaseStatus.CONFIRMED)
    return a, b, c


def test_utilisation_is_the_share_of_open_time_planned_and_used(monday):
    result = reports.utilisation_get(site=monday[0].site, period=ONE_DAY)

    lines = {line.name: line for line in result.resources}
    room = lines["Room 1"].total
    assert room.open_minutes == 660
    # 120 (A) + 150 (B) + 60 of C's 120 before closing = 330 of 660.
    assert (room.planned_minutes, room.planned_pct) == (330, 50.0)
    # 120 (A) + 144 (B) = 264 of 660.
    assert (room.actual_minutes, room.actual_pct) == (264, 40.0)
    # Pre-op 1: three hours planned; only A's pre-op (07:00-08:12) was recorded.
    assert lines["Pre-op 1"].total.planned_pct == 27.3
    assert lines["Pre-op 1"].total.actual_pct == 10.9
    # Recovery 1: A 120 + B 120 planned, C's recovery (19:00-21:00) is after closing.
    assert lines["Recovery 1"].total.planned_pct == 36.4
    assert lines["Room 2"].total.planned_pct == 0.0
    rooms = {line.name: line for line in result.kinds}["All procedure rooms"].total
    assert (rooms.open_minutes, rooms.planned_minutes) == (1320, 330)


def test_utilisation_is_split_by_iso_week_and_leaves_out_cancelled_cases(monday, unit):
    case_written(unit, MONDAY + timedelta(days=7), 8)  # Monday of the next week
    case_written(unit, MONDAY + timedelta(days=7), 11, status=CaseStatus.CANCELLED)

    result = reports.utilisation_get(site=unit, period=TWO_WEEKS)

    room = {line.name: line for line in result.resources}["Room 1"]
    first, second = room.by_week
    assert first.open_minutes == second.open_minutes == 5 * 660
    assert (first.planned_minutes, second.planned_minutes) == (330, 120)
    assert second.planned_pct == 3.6
    assert room.total.planned_pct == 6.8  # 450 of 6,600


def test_a_first_case_is_on_time_up_to_ten_minutes_late(monday, unit):
    d = case_written(unit, TUESDAY, 8, room="Room 2", pre_op="Pre-op 2", recovery="Recovery 2")
    ran(d, StageKind.PROCEDURE, (8, 10), (9, 20))
    case_written(unit, TUESDAY, 9, room="Room 1")  # not started yet: left out of the rate

    result = reports.first_cases_get(site=unit, period=ONE_WEEK)

    by_room_day = {(first.day, first.room): first for first in result.days}
    late = by_room_day[(MONDAY, "Room 1")]
    assert (late.planned_start, late.actual_start) == (ny(MONDAY, 8), ny(MONDAY, 8, 12))
    assert (late.delay_minutes, late.on_time) == (12, False)
    on_time = by_room_day[(TUESDAY, "Room 2")]
    assert (on_time.delay_minutes, on_time.on_time) == (10, True)
    assert by_room_day[(TUESDAY, "Room 1")].on_time is None
    assert (result.total.started, result.total.on_time, result.total.pct) == (2, 1, 50.0)
    assert reports.ON_TIME_MINUTES == 10


def test_turnover_runs_from_the_room_released_to_the_next_procedure(monday, unit):
    result = reports.turnovers_get(site=unit, period=ONE_WEEK)

    [gap] = result.gaps  # C has not entered the room, so B to C is not a turnover yet
    assert (gap.room, gap.released_at, gap.next_start) == (
        "Room 1", ny(MONDAY, 10, 12), ny(MONDAY, 10, 32)
    )
    assert (gap.minutes, gap.planned_minutes) == (20, 15)
    [room] = result.rooms
    assert (room.room, room.count, room.median, room.planned_median) == ("Room 1", 1, 20, 15)
    assert room.weeks == [20]


def test_stage_durations_give_the_median_and_a_template_value_on_the_5_minute_grid(monday, unit):
    d = case_written(unit, TUESDAY, 8, room="Room 2", pre_op="Pre-op 2", recovery="Recovery 2")
    ran(d, StageKind.PROCEDURE, (8, 10), (9, 15))
    ran(d, StageKind.CEMENT_SET, (9, 15), (10, 12))

    result = reports.durations_get(site=unit, period=ONE_WEEK)

    lines = {(line.stage, line.levels): line for line in result.lines}
    one_level = lines[("Procedure", 1)]
    # A took 60 minutes, D 65: median 62.5, on the grid 65, against 60 in the template.
    assert (one_level.count, one_level.actual_median, one_level.planned_median) == (2, 62.5, 60)
    assert (one_level.template, one_level.template_minutes) == ("60 + 30/extra level", 60)
    assert (one_level.suggested_minutes, one_level.change_minutes) == (65, 5)
    two_levels = lines[("Procedure", 2)]
    assert (two_levels.actual_median, two_levels.template_minutes) == (84, 90)
    assert (two_levels.suggested_minutes, two_levels.change_minutes) == (85, -5)
    cement = lines[("Cement set", 1)]
    assert (cement.actual_median, cement.suggested_minutes, cement.change_minutes) == (58.5, 60, 0)
    assert lines[("Pre-op", 1)].actual_median == 72
    assert [line.stage for line in result.lines][:3] == ["Pre-op", "Procedure", "Procedure"]
    assert (to_grid(62.4), to_grid(62.5), to_grid(1)) == (60, 65, 5)


def test_cancellations_and_no_shows_are_counted_per_week_of_the_procedure_day(monday, unit):
    case_written(unit, TUESDAY, 8, status=CaseStatus.CANCELLED)
    case_written(unit, TUESDAY, 8, status=CaseStatus.NO_SHOW)
    case_written(unit, MONDAY + timedelta(days=7), 8, status=CaseStatus.NO_SHOW)

    result = reports.cancellations_get(site=unit, period=TWO_WEEKS)

    first, second = result.weeks
    assert (first.week, first.cases, first.cancelled, first.no_show) == (MONDAY, 5, 1, 1)
    assert (first.cancelled_pct, first.no_show_pct) == (20.0, 20.0)
    assert (second.cases, second.no_show, second.no_show_pct) == (1, 1, 100.0)
    assert (result.total.cases, result.total.cancelled, result.total.no_show) == (6, 1, 2)


def test_messages_are_counted_per_week_in_the_sites_zone_and_per_kind(monday, unit):
    a, b, _ = monday
    a.confirmed_at = ny(MONDAY, 7)
    a.save(update_fields=["confirmed_at"])
    confirmation, arrival = MessageKind.CONFIRMATION, MessageKind.ARRIVAL
    message_made(a, confirmation, ny(MONDAY, 6), ReminderStatus.DELIVERED, sent=True, note="1")
    message_made(a, confirmation, ny(MONDAY, 6), ReminderStatus.FAILED, sent=False, note="2")
    message_made(a, arrival, ny(MONDAY, 6, 30), ReminderStatus.SENT, sent=True, note="3")
    message_made(a, arrival, ny(MONDAY, 6, 30), ReminderStatus.CANCELLED, sent=False, note="4")
    message_made(a, arrival, ny(MONDAY, 6, 30), ReminderStatus.UNKNOWN, sent=False, note="5")
    # Sunday 23:30 in New York is already Monday in UTC: still the first week here.
    message_made(b, arrival, ny(MONDAY + timedelta(days=6), 23, 30), ReminderStatus.PLANNED,
                 sent=False, note="6")
    message_made(b, arrival, ny(MONDAY + timedelta(days=7), 0, 30), ReminderStatus.DELIVERED,
                 sent=True, note="7")
    # Sent after the patient had confirmed: not what made them confirm.
    message_made(a, MessageKind.AFTERCARE, ny(MONDAY, 20), ReminderStatus.DELIVERED, sent=True,
                 note="8")

    result = reports.messages_get(site=unit, period=TWO_WEEKS)

    first, second = result.weeks
    counts = lambda c: (c.planned, c.sent, c.delivered, c.failed, c.confirmed)  # noqa: E731
    assert counts(first.kinds[confirmation]) == (2, 1, 1, 1, 1)
    assert counts(first.kinds[arrival]) == (3, 1, 0, 1, 1)
    assert counts(first.kinds[MessageKind.AFTERCARE]) == (1, 1, 1, 0, 0)
    assert counts(first.total) == (6, 3, 2, 2, 2)
    assert counts(second.total) == (1, 1, 1, 0, 0)
    assert counts(result.total) == (7, 4, 3, 2, 2)
    assert result.total.delivered_pct == 75.0
    assert [label for label, _ in result.kinds] == [
        "Booking confirmation", "Arrival time (day before)", "Aftercare",
    ]


def test_the_default_period_is_the_last_four_complete_weeks(clock):
    from django.utils import timezone

    period = reports.period_default(NEW_YORK, timezone.now())  # Monday 2 March 2026

    assert (period.start, period.end) == (date(2026, 2, 2), date(2026, 3, 1))
    assert [reports.week_label(week) for week in period.weeks] == [
        "2026-W06", "2026-W07", "2026-W08", "2026-W09",
    ]


def test_a_bar_chart_scales_its_bars_and_labels_each_with_its_number():
    from scheduling.reports.charts import PALETTE, PLOT_WIDTH, bar_chart

    chart = bar_chart(
        title="Rooms", series=["Planned", "Actual"],
        rows=[("Room 1", [50.0, 40.0]), ("Room 2", [None, 100])], unit="%", scale_max=100,
    )

    (room_1, room_2) = chart.rows
    assert [bar.width for bar in room_1.bars] == [PLOT_WIDTH / 2, PLOT_WIDTH * 0.4]
    assert [bar.text for bar in room_1.bars + room_2.bars] == ["50%", "40%", "no data", "100%"]
    assert [bar.colour for bar in room_1.bars] == list(PALETTE[:2])
    assert [text for _, text in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    # Without a fixed scale the axis ends on a round number at or above the largest value.
    counts = bar_chart(title="Messages", series=["Sent"], rows=[("W07", [37])])
    assert counts.ticks[-1][1] == "50"
    assert counts.rows[0].bars[0].width == PLOT_WIDTH * 37 / 50
