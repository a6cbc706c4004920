"""The day planner's solver, pure: no database. Vertebroplasty shapes as the stage templates give
them (pre-op 60, procedure 60 + 30 per extra level with 15 min turnover, cement set 60 in the
room, recovery 120), a 30-minute check-in."""

import random
from zoneinfo import ZoneInfo

from scheduling.plan.day import DayInput, Request, Shift, Unit, greedy_plan, peak
from scheduling.plan.solver import plan_day, score
from scheduling.plan.whatif import what_if_run
from scheduling.timing import VERTEBROPLASTY_RULES, SiteRules

SITE = SiteRules(zone=ZoneInfo("America/New_York"))
OPENS = 29_528_460  # 2026-02-23 07:00 in New York, in minutes since 1970


def unit(rooms=1, pre_op=2, bays=2, surgeons=1, hours=11, requests=(), **kwargs):
    units = (
        [Unit(f"room{i}", "procedure_room", f"Room {i}") for i in range(1, rooms + 1)]
        + [Unit(f"pre{i}", "pre_op_bay", f"Pre-op {i}") for i in range(1, pre_op + 1)]
        + [Unit(f"bay{i}", "recovery_bay", f"Recovery {i}") for i in range(1, bays + 1)]
    )
    shifts = [Shift(f"dr{i}", f"Dr {i}", OPENS, OPENS + hours * 60) for i in range(1, surgeons + 1)]
    return DayInput(OPENS, OPENS + hours * 60, SITE, tuple(units), tuple(shifts),
                    tuple(requests), **kwargs)


def asked(key, levels=1, **kwargs):
    return Request(key, VERTEBROPLASTY_RULES, levels, **kwargs)


def assert_valid(day, plan):
    """No unit or surgeon holds two patients at once; every case inside the opening hours."""
    taken = {}
    for request in day.requests:
        placement = plan.placements.get(request.key)
        if placement is None:
            continue
        shape = day.shape(request)
        assert day.opens <= placement.start - shape.lead
        assert placement.start + shape.tail <= day.closes
        assert placement.start % 5 == 0
        for hold, unit_key in zip(shape.holds, placement.units, strict=False):
            assert {u.key: u.kind for u in day.units}[unit_key] == hold.kind
            taken.setdefault(unit_key, []).append(
                (placement.start + hold.begin, placement.start + hold.until))
        for begin, end in shape.surgeon_spans:
            shift = next(s for s in day.shifts if s.key == placement.surgeon)
            assert shift.starts <= placement.start + begin
            assert placement.start + end <= shift.ends
            taken.setdefault(placement.surgeon, []).append(
                (placement.start + begin, placement.start + end))
    for spans in taken.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start


def test_a_day_with_no_open_hours_places_nobody_and_says_why():
    day = DayInput(None, None, SITE, (), (), (asked("a"), asked("b")))
    plan = plan_day(day)
    assert plan.status == "closed"
    assert plan.placements == {}
    assert plan.unplaced == {"a": "the site is closed on this day",
                             "b": "the site is closed on this day"}


def test_it_fits_more_cases_than_earliest_slot_booking_one_at_a_time():
    # Opening 07:00-15:00 with one room: booked first, a three-level case takes the room
    # until two short ones can no longer finish before closing; the solver takes the short two.
    day = unit(hours=8, requests=[asked("long", 3), asked("short1"), asked("short2")])
    greedy = greedy_plan(day)
    assert set(greedy.placements) == {"long"}
    plan = plan_day(day, time_limit=5)
    assert_valid(day, plan)
    assert set(plan.placements) == {"short1", "short2"}
    assert plan.status == "optimal"
    assert plan.unplaced == {"long": "no room time left"}


def test_more_cases_than_could_ever_fit_are_placed_by_priority_and_the_rest_listed():
    requests = [asked(f"routine{i}") for i in range(8)] + [
        asked("urgent", levels=3, rank=3), asked("soon", levels=2, rank=2)]
    day = unit(rooms=1, hours=12, requests=requests)
    plan = plan_day(day, time_limit=5)
    assert_valid(day, plan)
    assert {"urgent", "soon"} <= set(plan.placements)
    assert len(plan.placements) == 3  # one room, 12 hours: three cases at most
    assert len(plan.unplaced) == 7
    assert set(plan.unplaced.values()) == {"no room time left"}


def test_the_plan_ends_the_day_as_early_as_it_can():
    day = unit(rooms=2, bays=3, surgeons=2, requests=[asked("a", 3), asked("b"), asked("c")])
    plan = plan_day(day, time_limit=5)
    assert_valid(day, plan)
    assert len(plan.placements) == 3
    # Two rooms from 08:30: two cases side by side, the third after the shorter one's room is free.
    assert plan.end_of_day - OPENS <= greedy_plan(day).end_of_day - OPENS
    assert plan.end_of_day - OPENS == 90 + 135 + 240


def test_a_surgeon_who_does_not_work_that_day_is_given_as_the_reason():
    day = unit(requests=[asked("a", surgeons=("dr9",))])
    plan = plan_day(day)
    assert plan.unplaced == {"a": "surgeon not working at a time the case fits"}


def test_a_missing_kind_of_bay_is_given_as_the_reason():
    day = unit(bays=0, requests=[asked("a")])
    assert plan_day(day).unplaced == {"a": "the site has no recovery bay"}


def test_a_fixed_case_stays_and_a_movable_one_moves_to_end_the_day_earlier():
    late = OPENS + 6 * 60
    fixed = asked("checked_in", current_start=late, current_units=("pre1", "room1", "bay1"),
                  current_surgeon="dr1", fixed=True)
    day = unit(rooms=1, hours=11, requests=[fixed])
    assert plan_day(day).placements["checked_in"].start == late

    movable = asked("booked", current_start=late, current_units=("pre1", "room1", "bay1"),
                    current_surgeon="dr1")
    day = unit(rooms=1, hours=11, requests=[movable])
    plan = plan_day(day)
    assert plan.placements["booked"].start == OPENS + 90
    assert plan.placements["booked"].moved
    assert plan.moves == 1


def test_booked_cases_already_early_are_left_alone():
    early = asked("booked", current_start=OPENS + 90, current_units=("pre1", "room1", "bay1"),
                  current_surgeon="dr1")
    day = unit(rooms=2, surgeons=2, requests=[early, asked("new")])
    plan = plan_day(day)
    assert plan.placements["booked"].moved is False
    assert plan.moves == 0
    assert "new" in plan.placements


def generated_day(cases, rooms, bays, seed):
    rng = random.Random(seed)
    requests = [asked(f"c{i}", rng.choice([1, 1, 2, 3]), rank=rng.choice([1] * 8 + [2, 3]))
                for i in range(cases)]
    return unit(rooms=rooms, pre_op=rooms + 1, bays=bays, surgeons=rooms, hours=12,
                requests=requests)


def test_it_is_never_worse_than_greedy_on_generated_days():
    for seed, (cases, rooms, bays) in enumerate([(20, 2, 4), (30, 3, 6)]):
        day = generated_day(cases, rooms, bays, seed)
        plan = plan_day(day, time_limit=3)
        assert_valid(day, plan)
        assert score(day, plan) >= score(day, greedy_plan(day))


def test_a_solver_stopped_by_its_time_limit_gives_the_best_plan_so_far_and_says_so():
    day = generated_day(60, 4, 10, seed=3)
    plan = plan_day(day, time_limit=0.01, workers=1)
    assert plan.status in ("feasible", "greedy")
    assert "limit" in plan.message or "earliest-slot" in plan.message
    assert_valid(day, plan)
    assert score(day, plan) >= score(day, greedy_plan(day))
    assert plan.placed > 0
    assert plan.unplaced


def test_what_if_an_extra_recovery_bay_relieves_a_bay_bound_day():
    # One recovery bay: recovery (120 min) is the bottleneck, not the two rooms.
    day = unit(rooms=2, surgeons=2, bays=1, hours=11,
               requests=[asked(f"c{i}") for i in range(8)])
    base = plan_day(day, time_limit=5)
    assert peak(day, base) == 1
    result = what_if_run(day, base, "extra_recovery_bay", time_limit=5)
    assert result.more_cases >= 1
    assert result.plan.placed == base.placed + result.more_cases


def test_what_if_cement_sets_in_a_holding_bay_frees_the_room():
    day = unit(rooms=1, bays=4, pre_op=3, hours=11, requests=[asked(f"c{i}") for i in range(8)])
    base = plan_day(day, time_limit=5)
    result = what_if_run(day, base, "cement_in_holding_bay", time_limit=5)
    assert result.more_cases >= 1
    assert "no holding bay" in result.note


def test_what_if_an_afternoon_room_takes_cases_only_after_noon():
    day = unit(rooms=1, surgeons=2, bays=4, pre_op=3, hours=11,
               requests=[asked(f"c{i}") for i in range(8)], noon=OPENS + 5 * 60)
    base = plan_day(day, time_limit=5)
    result = what_if_run(day, base, "extra_room_afternoon", time_limit=5)
    assert result.more_cases >= 1
    for placement in result.plan.placements.values():
        if "what-if-room" in placement.units:
            assert placement.start >= OPENS + 5 * 60


def test_new_cases_go_around_a_case_that_stays():
    fixed = asked("checked_in", current_start=OPENS + 90, current_units=("pre1", "room1", "bay1"),
                  current_surgeon="dr1", fixed=True)
    day = unit(rooms=1, requests=[fixed, asked("new")])
    plan = plan_day(day)
    assert_valid(day, plan)
    assert plan.placements["checked_in"].start == OPENS + 90
    assert plan.placements["new"].start == OPENS + 90 + 135  # after the room's turnover


def test_a_booking_whose_surgeon_stopped_working_that_day_is_kept_not_dropped():
    booked = asked("booked", current_start=OPENS + 90, current_units=("pre1", "room1", "bay1"),
                   current_surgeon="dr1", surgeons=("dr1",))
    day = unit(rooms=1, surgeons=0, requests=[booked, asked("new")])
    plan = plan_day(day)
    assert plan.placements["booked"].start == OPENS + 90
    assert plan.unplaced == {"new": "surgeon not working at a time the case fits"}
