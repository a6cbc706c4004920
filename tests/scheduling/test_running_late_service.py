"""Telling patients the room runs late, through the services alone (no page, no HTTP): who is
told, what is recorded for them, and what is refused. The pages' tests are test_board_late.py and
tests/notifications/test_running_late.py. The clock stands at Monday 2 March 2026, 07:00 in New
York; the unit has one room, so the day's cases follow one another."""

from datetime import date, timedelta

import pytest

from notifications.models import MessageKind, Reminder, ReminderStatus
from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseStatus
from scheduling.services.running_late import (
    ALREADY,
    LATE_NOTICE_MINUTES,
    TOLD,
    UNREACHABLE,
    case_tell_late,
    site_day_tell_late,
)
from scheduling.timing import local_hm
from tests.bookings import day_booked
from tests.factories import UserFactory
from tests.notifications.test_running_late import run_late

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 3, 2)


@pytest.fixture
def nurse(tiny_unit):
    user = UserFactory(roles=[roles.NURSE])
    tiny_unit.staff.add(user)
    return user


def running_late(case: Case) -> list[Reminder]:
    return list(Reminder.objects.filter(case=case, kind=MessageKind.RUNNING_LATE).order_by("pk"))


def test_the_patient_is_told_the_boards_delay_rounded_up_to_five_minutes(tiny_unit, clock, nurse):
    first, second = day_booked(tiny_unit, 2)
    run_late(clock, first, 50)

    notice = case_tell_late(case=second, by=nurse)

    assert notice.outcome == TOLD
    assert notice.delay_minutes > LATE_NOTICE_MINUTES
    assert notice.delay_minutes % 5 == 0
    assert notice.new_arrival == local_hm(
        second.arrival_at + timedelta(minutes=notice.delay_minutes), tiny_unit.zone
    )
    [sms] = running_late(second)
    assert (sms.channel, sms.recipient, sms.status) == ("sms", "+12125550100",
                                                        ReminderStatus.PLANNED)
    assert sms.note == f"delay:{notice.delay_minutes}"
    assert sms.running_late_delay == notice.delay_minutes
    assert sms.requested_by == nurse
    assert sms.plan_version == second.plan_version


def test_the_same_delay_is_told_once(tiny_unit, clock, nurse):
    first, second = day_booked(tiny_unit, 2)
    run_late(clock, first, 50)
    told = case_tell_late(case=second, by=nurse)

    again = case_tell_late(case=second, by=nurse)

    assert again.outcome == ALREADY
    assert again.new_arrival == told.new_arrival
    assert len(running_late(second)) == 1


def test_a_patient_with_no_phone_or_email_cannot_be_reached(tiny_unit, clock, nurse):
    first, second = day_booked(tiny_unit, 2, phone="", email="")
    run_late(clock, first, 50)

    notice = case_tell_late(case=second, by=nurse)

    assert notice.outcome == UNREACHABLE
    assert running_late(second) == []


def test_a_patient_already_checked_in_is_not_told(tiny_unit, clock, nurse):
    first, second = day_booked(tiny_unit, 2)
    run_late(clock, first, 50)
    Case.objects.filter(pk=second.pk).update(status=CaseStatus.CHECKED_IN)
    second.refresh_from_db()

    with pytest.raises(SchedulingError) as refused:
        case_tell_late(case=second, by=nurse)

    assert refused.value.code == "not_running_late"
    assert "more than 30 minutes late" in refused.value.detail
    assert running_late(second) == []


def test_nobody_is_told_while_the_room_is_late_by_30_minutes_or_less(tiny_unit, clock, nurse):
    first, second = day_booked(tiny_unit, 2)
    run_late(clock, first, 20)

    with pytest.raises(SchedulingError) as refused:
        case_tell_late(case=second, by=nurse)

    assert refused.value.code == "not_running_late"
    assert site_day_tell_late(site=tiny_unit, day=MONDAY, by=nurse) == []
    assert not Reminder.objects.filter(kind=MessageKind.RUNNING_LATE).exists()


def test_the_whole_day_tells_everyone_still_to_come_and_leaves_out_who_is_checked_in(
    tiny_unit, clock, nurse
):
    first, second, third = day_booked(tiny_unit, 3)
    run_late(clock, first, 50)
    Case.objects.filter(pk=second.pk).update(status=CaseStatus.CHECKED_IN)

    notices = site_day_tell_late(site=tiny_unit, day=MONDAY, by=nurse)

    assert [(n.case, n.outcome) for n in notices] == [(third, TOLD)]
    assert running_late(first) == running_late(second) == []
    [sms] = running_late(third)
    assert (sms.note, sms.requested_by) == (f"delay:{notices[0].delay_minutes}", nurse)


def test_the_whole_day_goes_in_the_order_of_the_procedures_and_tells_each_delay_once(
    tiny_unit, clock, nurse
):
    first, second, third = day_booked(tiny_unit, 3)
    run_late(clock, first, 50)
    told_before = case_tell_late(case=second, by=nurse)

    notices = site_day_tell_late(site=tiny_unit, day=MONDAY, by=nurse)

    assert [(n.case, n.outcome) for n in notices] == [(second, ALREADY), (third, TOLD)]
    assert notices[0].delay_minutes == told_before.delay_minutes
    assert len(running_late(second)) == len(running_late(third)) == 1


def test_a_day_outside_the_days_shown_is_refused(tiny_unit, nurse):
    with pytest.raises(SchedulingError) as refused:
        site_day_tell_late(site=tiny_unit, day=date(2031, 1, 6), by=nurse)

    assert refused.value.code == "date_out_of_range"
