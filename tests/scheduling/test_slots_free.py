from datetime import date, time

import pytest

from scheduling import selectors
from scheduling.models import ProcedureType, Surgeon, SurgeonHours
from scheduling.services import case_cancel
from tests.conftest import TUESDAY, build_unit
from tests.factories import SurgeonFactory, UserFactory, case_made

pytestmark = pytest.mark.django_db


def local_starts(site, slots):
    return [slot.times.procedure_start.astimezone(site.zone).time() for slot in slots]


def free(site, levels=1, day=TUESDAY, surgeon=None):
    return selectors.slots_free(
        site=site,
        procedure_type=ProcedureType.objects.get(code="vertebroplasty"),
        levels=levels,
        day=day,
        surgeon=surgeon,
    )


def test_the_earliest_slot_lets_the_patient_arrive_at_opening(tiny_unit):
    starts = local_starts(tiny_unit, free(tiny_unit))
    # Open 07:00: arrive 07:00, 30 min check-in, 60 min pre-op, procedure at 08:30.
    assert starts[0] == time(8, 30)
    assert starts[1] == time(8, 35)  # a 5-minute grid


def test_the_whole_case_must_end_by_closing(tiny_unit):
    # Closing 18:00; procedure + cement set + recovery = 4 h for one level, 5 h for three.
    assert local_starts(tiny_unit, free(tiny_unit))[-1] == time(14, 0)
    assert local_starts(tiny_unit, free(tiny_unit, levels=3))[-1] == time(13, 0)


def test_the_room_is_held_for_the_cement_set_and_its_turnover(tiny_unit):
    first = case_made(site=tiny_unit, driver_name="")
    assert first.procedure_start.astimezone(tiny_unit.zone).time() == time(8, 30)
    # The one room is busy 08:30-10:30 and cleaned until 10:45.
    assert local_starts(tiny_unit, free(tiny_unit))[0] == time(10, 45)


def test_a_second_room_and_surgeon_take_a_case_at_the_same_time(unit):
    case_made(site=unit, driver_name="")
    # One surgeon: the next procedure waits for the first to end.
    assert local_starts(unit, free(unit))[0] == time(9, 30)
    SurgeonFactory(sites=[unit])
    slots = free(unit)
    assert local_starts(unit, slots)[0] == time(8, 30)
    assert slots[0].resources[1].name == "Room 2"


def test_a_cancelled_case_gives_its_rooms_back(tiny_unit):
    case = case_made(site=tiny_unit, driver_name="")
    case_cancel(case=case, reason="Patient unwell", by=UserFactory())
    assert local_starts(tiny_unit, free(tiny_unit))[0] == time(8, 30)


def test_a_closed_day_has_no_slots(tiny_unit):
    saturday = date(2026, 3, 7)
    assert free(tiny_unit, day=saturday) == []


def test_slots_respect_the_surgeons_hours(tiny_unit):
    surgeon = Surgeon.objects.get()
    SurgeonHours.objects.filter(surgeon=surgeon).update(opens=time(9), closes=time(12))
    starts = local_starts(tiny_unit, free(tiny_unit, surgeon=surgeon))
    assert starts[0] == time(9, 0)
    assert starts[-1] == time(11, 0)  # the one-hour procedure must end by 12:00


def test_a_surgeon_busy_at_another_site_is_not_offered(tiny_unit):
    surgeon = Surgeon.objects.get()
    other = build_unit(code="north", name="North Clinic", rooms=1, pre_op_bays=1,
                       recovery_bays=1, surgeons=0)
    surgeon.sites.add(other)
    case_made(site=other, surgeon=surgeon, driver_name="")  # 08:30-09:30 at North
    starts = local_starts(tiny_unit, free(tiny_unit, surgeon=surgeon))
    assert time(8, 30) not in starts
    assert starts[0] == time(9, 30)


def test_without_a_named_surgeon_another_free_one_is_chosen(tiny_unit):
    first_surgeon = Surgeon.objects.get()
    second = SurgeonFactory(sites=[tiny_unit], name="Dr Zed")
    other = build_unit(code="north", name="North Clinic", rooms=1, pre_op_bays=1,
                       recovery_bays=1, surgeons=0)
    first_surgeon.sites.add(other)
    case_made(site=other, surgeon=first_surgeon, driver_name="")
    slot = free(tiny_unit)[0]
    assert slot.surgeon == second
    assert local_starts(tiny_unit, [slot]) == [time(8, 30)]


def test_availability_costs_the_same_queries_for_1_or_many_cases(
    unit, django_assert_max_num_queries
):
    for _ in range(6):
        case_made(site=unit, driver_name="")
    with django_assert_max_num_queries(8):
        free(unit)


def test_skipping_ahead_never_hides_a_free_start(unit):
    from datetime import datetime

    from scheduling.slots import DayBook

    SurgeonFactory(sites=[unit])
    for hour, minute in [(8, 30), (9, 0), (11, 15), (12, 30)]:
        start = datetime(2026, 3, 3, hour, minute, tzinfo=unit.zone)
        case_made(site=unit, start=start, driver_name="")
    day_book = DayBook.load(
        site=unit, procedure_type=ProcedureType.objects.get(), levels=2, day=TUESDAY
    )
    every_start = [s for s in day_book.candidate_starts() if day_book.fit(s)[0] is not None]
    assert [slot.times.procedure_start for slot in day_book.free_slots()] == every_start
    assert len(every_start) > 0


def test_busy_times_are_read_as_exact_seconds_since_1970(tiny_unit):
    from scheduling.models import Stage
    from scheduling.unit_day import EpochSeconds

    case_made(site=tiny_unit, driver_name="")
    for seconds, start in Stage.objects.values_list(EpochSeconds("planned_start"), "planned_start"):
        assert seconds == start.timestamp()
