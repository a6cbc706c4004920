"""The "not reached" rule, defined once: a message that failed, or whose send nobody can vouch
for. As a status group, as a query on reminders, as a flag on cases, and as the front desk's list
of people to call."""

from datetime import timedelta

import pytest

from notifications.models import (
    NOT_REACHED_STATUSES,
    Reminder,
    ReminderStatus,
    case_not_reached,
)
from notifications.selectors import reminders_not_reached
from scheduling import roles, services
from scheduling.models import Case
from tests.bookings import day_booked
from tests.conftest import NOW, build_unit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_not_reached_means_failed_or_unknown():
    assert set(NOT_REACHED_STATUSES) == {ReminderStatus.FAILED, ReminderStatus.UNKNOWN}


def mark(case: Case, *statuses: str) -> list[Reminder]:
    rows = list(Reminder.objects.filter(case=case).order_by("due_at", "pk")[: len(statuses)])
    for row, status in zip(rows, statuses, strict=True):
        Reminder.objects.filter(pk=row.pk).update(status=status)
    return rows


def test_the_query_and_the_case_flag_agree(unit):
    failed, unknown, fine = day_booked(unit, 3)
    [failed_row] = mark(failed, ReminderStatus.FAILED)
    [unknown_row] = mark(unknown, ReminderStatus.UNKNOWN)
    mark(fine, ReminderStatus.DELIVERED, ReminderStatus.SENT, ReminderStatus.CANCELLED)

    assert set(Reminder.objects.not_reached()) == {failed_row, unknown_row}
    flags = dict(Case.objects.annotate(not_reached=case_not_reached())
                 .values_list("pk", "not_reached"))
    assert flags == {failed.pk: True, unknown.pk: True, fine.pk: False}


def test_the_case_flag_follows_a_named_reference(unit):
    [case] = day_booked(unit, 1)
    mark(case, ReminderStatus.FAILED)

    rows = Reminder.objects.filter(case=case).annotate(
        case_not_reached=case_not_reached(case_ref="case_id")
    )

    assert {row.case_not_reached for row in rows} == {True}


def test_the_call_list_holds_the_sites_cases_still_to_come_soonest_first(unit):
    first, second, cancelled = day_booked(unit, 3)
    north = build_unit(code="north", name="North Spine Center")
    [elsewhere] = day_booked(north, 1)
    for case in (second, first, cancelled, elsewhere):
        mark(case, ReminderStatus.FAILED, ReminderStatus.UNKNOWN, ReminderStatus.SENT)
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    services.case_cancel(case=cancelled, reason="Unwell", by=clerk)

    rows = list(reminders_not_reached(site=unit, now=NOW))

    assert [row.case for row in rows] == [first, first, second, second]
    assert [row.due_at for row in rows[:2]] == sorted(row.due_at for row in rows[:2])
    assert {row.status for row in rows} == set(NOT_REACHED_STATUSES)
    after_both = max(first.procedure_start, second.procedure_start) + timedelta(minutes=1)
    assert list(reminders_not_reached(site=unit, now=after_both)) == []
