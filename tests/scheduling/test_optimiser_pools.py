"""Alike rooms and bays as one pool: the solver keeps each pool within its number of units, and
the colouring names a unit for every stay without putting two patients in one."""

from scheduling.plan.colouring import StayToColour, colour_stays
from scheduling.plan.solver import _Model, plan_day
from tests.scheduling.test_optimiser import OPENS, asked, assert_valid, unit

ROOMS = {"procedure_room": ("room1", "room2", "room3")}


def test_stays_taken_by_start_each_get_a_free_room():
    stays = [StayToColour("a", 0, "procedure_room", 0, 100),
             StayToColour("b", 0, "procedure_room", 10, 50),
             StayToColour("c", 0, "procedure_room", 20, 120),
             StayToColour("d", 0, "procedure_room", 50, 90),
             StayToColour("e", 0, "procedure_room", 100, 130)]
    rooms = colour_stays(stays, ROOMS)
    assert rooms == {("a", 0): "room1", ("b", 0): "room2", ("c", 0): "room3",
                     ("d", 0): "room2", ("e", 0): "room1"}


def test_a_booked_stay_keeps_its_room_when_it_is_free():
    stays = [StayToColour("new", 0, "procedure_room", 0, 60),
             StayToColour("booked", 0, "procedure_room", 0, 60, wanted="room1")]
    assert colour_stays(stays, ROOMS) == {("booked", 0): "room1", ("new", 0): "room2"}


def test_alike_units_are_pooled_and_a_unit_holding_a_patient_who_stays_is_apart():
    fixed = asked("checked_in", current_start=OPENS + 90, current_units=("pre1", "room2", "bay1"),
                  current_surgeon="dr1", fixed=True)
    day = unit(rooms=3, pre_op=3, bays=3, surgeons=3, requests=[fixed, *map(asked, "abcdefg")])
    model = _Model(day)
    assert model.pools == {"procedure_room": ("room1", "room3"), "pre_op_bay": ("pre2", "pre3"),
                           "recovery_bay": ("bay2", "bay3")}
    plan = plan_day(day, time_limit=5)
    assert_valid(day, plan)
    assert plan.placements["checked_in"].units == ("pre1", "room2", "bay1")
    assert plan.placed == 8


def test_a_busy_three_room_day_is_proved_optimal_in_every_phase():
    requests = [asked(f"c{i}", levels=1 + i % 3, rank=3 if i % 5 == 0 else 1) for i in range(12)]
    day = unit(rooms=3, pre_op=3, bays=3, surgeons=2, requests=requests)
    plan = plan_day(day, time_limit=10)
    assert_valid(day, plan)
    assert plan.status == "optimal"
