"""The resend rule, through the service: a copy of a message goes out now while the case is
still to happen; once it is cancelled or a no-show there is nothing left to tell. The API's
endpoint is tested in test_messages_api.py."""

import pytest

from notifications.models import Reminder, ReminderStatus
from notifications.services import reminder_resend
from scheduling import roles, services
from scheduling.errors import SchedulingError
from tests.bookings import day_booked
from tests.conftest import NOW
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    return user


def test_a_resend_is_a_copy_due_now_that_records_who_asked(unit, clerk):
    [case] = day_booked(unit, 1)
    original = Reminder.objects.get(case=case, kind="confirmation", channel="sms")
    Reminder.objects.filter(pk=original.pk).update(status=ReminderStatus.FAILED)

    copy = reminder_resend(reminder=original, by=clerk)

    assert (copy.resend_of, copy.requested_by, copy.status) == (original, clerk,
                                                               ReminderStatus.PLANNED)
    assert (copy.kind, copy.channel, copy.recipient, copy.plan_version) == (
        original.kind, original.channel, original.recipient, original.plan_version
    )
    assert copy.due_at == NOW
    original.refresh_from_db()
    assert original.status == ReminderStatus.FAILED


def test_a_cancelled_case_has_nothing_resent(unit, clerk):
    [case] = day_booked(unit, 1)
    original = Reminder.objects.filter(case=case).first()
    services.case_cancel(case=case, reason="Unwell", by=clerk)
    original.refresh_from_db()
    count = Reminder.objects.count()

    with pytest.raises(SchedulingError) as refused:
        reminder_resend(reminder=original, by=clerk)

    assert (refused.value.code, refused.value.status) == ("case_not_changeable", 409)
    assert Reminder.objects.count() == count
