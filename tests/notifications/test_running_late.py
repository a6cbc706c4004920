"""The "running late" notice: a patient not checked in yet is told a new arrival time, once per
delay, from a one-click button on the board that shows only when the room runs more than 30
minutes late. The clock stands at Monday 2 March 2026, 07:00 in New York."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import MessageKind, Reminder, ReminderStatus
from notifications.rendering import render
from notifications.services import running_late_notify
from scheduling import roles
from scheduling.board.day import day_board_get
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseStatus
from tests.factories import BOOKING_FORM_PATIENT, PatientFactory, UserFactory, case_made

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 3, 2)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def day(tiny_unit, front_desk):
    """Two cases one after the other in the unit's only room."""
    first = case_made(site=tiny_unit, start="2026-03-02T08:30:00-05:00", by=front_desk.user,
                      patient={"mrn": "MRN-1"})
    second_start = first.stages.get(kind="procedure").planned_end.astimezone(NEW_YORK)
    ada = PatientFactory(**BOOKING_FORM_PATIENT | {"mrn": "MRN-2", "first_name": "Ada"})
    # The next slot the room has after the first procedure (and its cement set).
    for minutes in range(0, 240, 15):
        start = (second_start + timedelta(minutes=minutes)).strftime("%H:%M")
        try:
            second = case_made(site=tiny_unit, start=f"2026-03-02T{start}:00-05:00",
                               by=front_desk.user, patient=ada)
        except SchedulingError:
            continue
        return first, second
    raise AssertionError("no second slot")


def run_late(clock, first: Case, minutes: int) -> None:
    """The first case's procedure began `minutes` late, and it is now running."""
    procedure = first.stages.get(kind="procedure")
    began = procedure.planned_start + timedelta(minutes=minutes)
    for stage in first.stages.filter(position__lt=procedure.position):
        stage.actual_start, stage.actual_end = stage.planned_start, began
        stage.save()
    procedure.actual_start = began
    procedure.save()
    Case.objects.filter(pk=first.pk).update(status=CaseStatus.IN_PROCEDURE)
    clock.move_to(began + timedelta(minutes=5))


def running_late(case) -> list[Reminder]:
    return list(Reminder.objects.filter(case=case, kind=MessageKind.RUNNING_LATE).order_by("pk"))


def hm(instant: datetime) -> str:
    return instant.astimezone(NEW_YORK).strftime("%H:%M")


def test_the_notice_is_planned_once_per_delay_and_says_the_new_arrival_time(day):
    _, case = day

    [sms] = running_late_notify(case=case, delay_minutes=45)
    assert running_late_notify(case=case, delay_minutes=45) == []
    assert len(running_late(case)) == 1

    text = render(sms).text
    assert hm(case.arrival_at + timedelta(minutes=45)) in text
    assert hm(case.arrival_at) in text
    assert "Ada" in text

    [later] = running_late_notify(case=case, delay_minutes=60)
    assert hm(case.arrival_at + timedelta(minutes=60)) in render(later).text
    sms.refresh_from_db()
    assert sms.status == ReminderStatus.CANCELLED  # not sent yet: the newer time replaces it
    assert running_late_notify(case=case, delay_minutes=60) == []


def test_no_notice_to_a_patient_checked_in_or_cancelled(day):
    first, case = day
    Case.objects.filter(pk=first.pk).update(status=CaseStatus.CHECKED_IN)
    first.refresh_from_db()
    assert running_late_notify(case=first, delay_minutes=45) == []
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CANCELLED)
    case.refresh_from_db()
    assert running_late_notify(case=case, delay_minutes=45) == []
    assert running_late(first) == running_late(case) == []


def board_buttons(client, case) -> list[str]:
    html = client.get("/board/partial/", {"site": "main", "date": MONDAY.isoformat()})
    row = html.content.decode().split(f'id="case-{case.pk}"')[1].split("</tr>")[0]
    return [part.split('"')[0] for part in row.split('data-step="')[1:]]


def nurse_logged_in(client, site):
    user = UserFactory(roles=[roles.NURSE])
    site.staff.add(user)
    client.force_login(user)


def test_no_button_when_the_room_is_late_by_30_minutes_or_less(client, tiny_unit, day, clock):
    first, case = day
    nurse_logged_in(client, tiny_unit)
    assert "tell-late" not in board_buttons(client, case)

    run_late(clock, first, 20)
    nurse_logged_in(client, tiny_unit)  # sessions end after 15 idle minutes

    line = next(x for x in day_board_get(tiny_unit, MONDAY, clock_now()).cases if x.case == case)
    assert 0 < line.procedure_delay_minutes <= 30
    assert "tell-late" not in board_buttons(client, case)
    response = client.post(f"/board/cases/{case.pk}/tell-late/", {"site": "main"}, follow=True)
    assert "not told" in str(list(response.context["messages"])[0])
    assert running_late(case) == []


def clock_now():
    from django.utils import timezone

    return timezone.now()


def test_one_click_tells_the_patient_the_new_arrival_time_once(client, tiny_unit, day, clock):
    first, case = day
    run_late(clock, first, 50)
    nurse_logged_in(client, tiny_unit)
    line = next(x for x in day_board_get(tiny_unit, MONDAY, clock_now()).cases if x.case == case)
    assert line.procedure_delay_minutes > 30
    delay = -(-line.procedure_delay_minutes // 5) * 5

    assert board_buttons(client, case) == ["check-in", "tell-late"]
    assert board_buttons(client, first) != ["check-in", "tell-late"]  # in the room already

    response = client.post(f"/board/cases/{case.pk}/tell-late/", {"site": "main"}, follow=True)
    new_arrival = hm(case.arrival_at + timedelta(minutes=delay))
    [message] = [str(m) for m in response.context["messages"]]
    assert message == f"Whitfield, Ada: patient told to arrive at {new_arrival}."
    [sms] = running_late(case)
    assert sms.note == f"delay:{delay}"
    assert sms.channel == "sms"
    assert f"arrive at {new_arrival}" in render(sms).text

    again = client.post(f"/board/cases/{case.pk}/tell-late/", {"site": "main"}, follow=True)
    assert "already told" in str(list(again.context["messages"])[0])
    assert len(running_late(case)) == 1
