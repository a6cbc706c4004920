from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling import timing
from scheduling.timing import SiteRules, StageRule

NEW_YORK = ZoneInfo("America/New_York")
RULES = [
    StageRule("pre_op", "pre_op_bay", 60),
    StageRule("procedure", "procedure_room", 60, 30, needs_surgeon=True, turnover_minutes=15),
    StageRule("cement_set", "procedure_room", 60),
    StageRule("recovery", "recovery_bay", 120),
]
SITE = SiteRules(zone=NEW_YORK)


def at(y, m, d, hh, mm=0, zone=NEW_YORK):
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def test_stages_follow_the_procedure_start_and_arrival_comes_90_minutes_before():
    times = timing.case_times(RULES, 1, at(2026, 3, 3, 9), SITE)
    local = [(s.kind, s.start.astimezone(NEW_YORK).time(), s.end.astimezone(NEW_YORK).time())
             for s in times.stages]
    assert local == [
        ("pre_op", time(8), time(9)),
        ("procedure", time(9), time(10)),
        ("cement_set", time(10), time(11)),
        ("recovery", time(11), time(13)),
    ]
    assert times.arrival_at == at(2026, 3, 3, 7, 30)
    assert times.procedure_start.tzinfo == UTC


def test_each_extra_level_adds_30_minutes_to_the_procedure():
    times = timing.case_times(RULES, 3, at(2026, 3, 3, 9), SITE)
    procedure = times.stages[1]
    assert procedure.end - procedure.start == timedelta(minutes=120)
    assert times.ends_at == at(2026, 3, 3, 14)


def test_room_turnover_follows_the_cement_set_not_the_procedure():
    times = timing.case_times(RULES, 1, at(2026, 3, 3, 9), SITE)
    procedure, cement, recovery = times.stages[1:]
    assert procedure.hold == cement.hold != recovery.hold
    assert procedure.held_until == procedure.end  # the patient is still in the room
    assert cement.held_until == cement.end + timedelta(minutes=15)
    assert recovery.held_until == recovery.end


def test_fasting_cutoffs_are_8_hours_for_solids_and_2_for_clear_liquids():
    times = timing.case_times(RULES, 1, at(2026, 3, 3, 9), SITE)
    assert times.fasting_solids_until == at(2026, 3, 3, 1)
    assert times.fasting_clear_liquids_until == at(2026, 3, 3, 7)


def test_a_site_that_says_nothing_after_midnight_gets_the_earlier_cutoff():
    site = SiteRules(zone=NEW_YORK, fasting_solids_from_midnight=True)
    solids, _ = timing.fasting_cutoffs(at(2026, 3, 3, 9), site)
    assert solids == at(2026, 3, 3, 0)
    late_start = at(2026, 3, 3, 10)  # 8 h before is 02:00, later than midnight
    assert timing.fasting_cutoffs(late_start, site)[0] == at(2026, 3, 3, 0)


@pytest.mark.parametrize(
    "procedure_start",
    [
        # Spring forward: 2026-03-08 02:00 EST becomes 03:00 EDT.
        at(2026, 3, 8, 1, 30),
        # Fall back: 2026-11-01 02:00 EDT becomes 01:00 EST.
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),  # 01:00 EDT, the first 01:00
    ],
    ids=["spring-forward", "fall-back"],
)
def test_durations_are_real_seconds_across_a_dst_change(procedure_start):
    times = timing.case_times(RULES, 1, procedure_start, SITE)
    cement, recovery = times.stages[2], times.stages[3]
    assert (cement.end - cement.start).total_seconds() == 3600
    assert (recovery.end - recovery.start).total_seconds() == 7200
    assert (times.ends_at - times.arrival_at).total_seconds() == 5.5 * 3600


def test_spring_forward_case_ends_an_hour_later_on_the_wall_clock():
    times = timing.case_times(RULES, 1, at(2026, 3, 8, 1, 0), SITE)
    # 01:00 EST + 2 h of procedure and cement set = 04:00 EDT on the wall clock.
    assert times.stages[2].end.astimezone(NEW_YORK).time() == time(4, 0)


def test_fall_back_case_ends_an_hour_earlier_on_the_wall_clock():
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    times = timing.case_times(RULES, 1, start, SITE)
    # 01:30 EDT + 2 h = 02:30 EST, not 03:30.
    assert times.stages[2].end.astimezone(NEW_YORK).time() == time(2, 30)


def test_midnight_fasting_rule_on_a_dst_day_uses_the_local_midnight():
    site = SiteRules(zone=NEW_YORK, fasting_solids_from_midnight=True)
    solids, _ = timing.fasting_cutoffs(at(2026, 3, 8, 9), site)
    assert solids == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST


def test_local_instant_reads_a_skipped_wall_time_with_the_offset_before_the_change():
    assert timing.local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK) == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


def test_grid_rounds_up_to_the_next_five_minutes_in_local_time():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    instant = datetime(2026, 3, 3, 3, 32, tzinfo=UTC)  # 09:02 local
    assert timing.next_on_grid(instant, kolkata).astimezone(kolkata).time() == time(9, 5)
    assert timing.is_on_grid(datetime(2026, 3, 3, 3, 35, tzinfo=UTC), kolkata)
    assert not timing.is_on_grid(datetime(2026, 3, 3, 3, 33, tzinfo=UTC), kolkata)


def test_medication_hold_starts_whole_days_before_the_procedure_day():
    assert timing.medication_hold_starts_on(date(2026, 3, 10), 5) == date(2026, 3, 5)


def test_naive_starts_are_refused():
    with pytest.raises(ValueError, match="aware datetime"):
        timing.case_times(RULES, 1, datetime(2026, 3, 3, 9), SITE)
