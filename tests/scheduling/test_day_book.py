"""The slot search on a day given as plain data: a DayBook is built from a UnitDay, the case's
stage rules and the stages already booked, with no database (pytest-django refuses any query
in these tests)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.models import Resource, ResourceKind, Site, Surgeon
from scheduling.slots import DayBook
from scheduling.timing import StageRule
from scheduling.unit_day import BusyStage, Shift, UnitDay

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = date(2026, 3, 3)
SITE = Site(code="main", name="Riverside", time_zone="America/New_York")
PRE_OP = Resource(pk=1, kind=ResourceKind.PRE_OP_BAY, name="Pre-op 1")
ROOM = Resource(pk=2, kind=ResourceKind.PROCEDURE_ROOM, name="Room 1")
RECOVERY = Resource(pk=3, kind=ResourceKind.RECOVERY_BAY, name="Recovery 1")
OKAFOR = Surgeon(pk=7, code="okafor", name="Dr Okafor")
RULES = [
    StageRule("pre_op", ResourceKind.PRE_OP_BAY, 30),
    StageRule("procedure", ResourceKind.PROCEDURE_ROOM, 45, needs_surgeon=True,
              turnover_minutes=15),
    StageRule("recovery", ResourceKind.RECOVERY_BAY, 60),
]


def at(hour, minute=0):
    return datetime.combine(TUESDAY, time(hour, minute), NEW_YORK)


def unit_day(*, closed=False):
    return UnitDay(
        site=SITE,
        day=TUESDAY,
        opens=None if closed else at(7),
        closes=None if closed else at(18),
        resources=[PRE_OP, ROOM, RECOVERY],
        shifts=[Shift(OKAFOR, at(7), at(18))],
    )


def busy(resource, start, held_until):
    """Another case's stage holding `resource`, with no surgeon."""
    return BusyStage(resource.pk, None, start.timestamp(), held_until.timestamp(),
                     held_until.timestamp())


def test_on_an_empty_day_the_first_patient_arrives_at_opening():
    book = DayBook(unit_day=unit_day(), rules=RULES, levels=1)

    slot = book.first_free()

    assert slot.times.arrival_at == at(7)
    assert slot.times.procedure_start == at(8)  # 30 min check-in, 30 min pre-op
    assert slot.resources == (PRE_OP, ROOM, RECOVERY)
    assert slot.surgeon == OKAFOR


def test_a_room_already_held_pushes_the_first_slot_past_its_turnover():
    taken = busy(ROOM, at(8), at(10, 15))
    book = DayBook(unit_day=unit_day(), rules=RULES, levels=1, busy=[taken])

    assert book.fit(at(8)) == (None, "slot_taken")
    assert book.first_free().times.procedure_start == at(10, 15)


def test_a_surgeon_operating_elsewhere_is_not_offered_at_that_time():
    elsewhere = BusyStage(99, OKAFOR.pk, at(8).timestamp(), at(9).timestamp(), at(9).timestamp())
    book = DayBook(unit_day=unit_day(), rules=RULES, levels=1, busy=[elsewhere])

    assert book.fit(at(8)) == (None, "surgeon_unavailable")
    assert book.first_free().times.procedure_start == at(9)


def test_a_case_must_fit_inside_the_opening_hours():
    book = DayBook(unit_day=unit_day(), rules=RULES, levels=1)

    assert book.fit(at(7, 30)) == (None, "outside_opening_hours")  # would arrive at 06:30
    last = book.free_slots()[-1]
    assert last.times.ends_at <= at(18) < last.times.ends_at + timedelta(minutes=5)


def test_a_closed_day_has_no_slot():
    book = DayBook(unit_day=unit_day(closed=True), rules=RULES, levels=1)

    assert book.fit(at(9)) == (None, "site_closed")
    assert book.free_slots() == []
    assert book.first_free() is None
