"""What the day board says of a patient told to come later (running late) and of a stage
finished early: the row shows the new arrival time and when the patient was told, the tell
button goes until the delay grows, and an early finish moves that patient's own next stages and
status at once. Through the selector and the page's fragment (HTTP client). The clock stands at
Monday 2 March 2026 in New York."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import MessageKind, Reminder, ReminderStatus
from scheduling import roles
from scheduling.board.day import day_board_get
from scheduling.models import Case, CaseStatus, Stage
from scheduling.services import tracking
from scheduling.services.bedside import checklist_update, vitals_record
from scheduling.services.running_late import case_tell_late
from tests.factories import GOOD_VITALS, UserFactory, case_made
from tests.notifications.test_running_late import run_late
from tests.scheduling.test_board_late import book_day

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 3, 2)
NEW_YORK = ZoneInfo("America/New_York")
PARTIAL = "/board/partial/"
PRE_OP_TICKS = [
    "consent_signed", "imaging_verified", "fasting_confirmed", "medications_held_confirmed",
    "iv_placed", "driver_confirmed",
]


@pytest.fixture
def nurse(tiny_unit):
    user = UserFactory(roles=[roles.NURSE])
    tiny_unit.staff.add(user)
    return user


def line_of(site, case):
    board = day_board_get(site, MONDAY, timezone.now())
    return next(line for line in board.cases if line.case == case)


def row_of(client, user, case) -> str:
    client.force_login(user)  # sessions end after 15 idle minutes of the moving clock
    html = client.get(PARTIAL, {"site": "main", "date": MONDAY.isoformat()}).content.decode()
    return html.split(f'id="case-{case.pk}"')[1].split("</tr>")[0]


def hm(instant) -> str:
    return f"{instant.astimezone(NEW_YORK):%H:%M}"


def test_a_patient_told_to_come_later_shows_the_new_time_and_when_they_were_told(
    client, tiny_unit, clock, nurse
):
    first, second, third = book_day(tiny_unit, 3)
    run_late(clock, first, 50)
    assert 'data-step="tell-late"' in row_of(client, nurse, second)

    notice = case_tell_late(case=second, by=nurse)
    told_at = timezone.now()
    clock.shift(timedelta(minutes=3))

    line = line_of(tiny_unit, second)
    new_arrival = hm(second.arrival_at + timedelta(minutes=notice.delay_minutes))
    assert (line.told_delay_minutes, line.told_arrival, line.told_at) == (
        notice.delay_minutes, new_arrival, hm(told_at)
    )
    row = row_of(client, nurse, second)
    assert f'<strong class="told-arrival">{new_arrival}</strong>' in row
    assert f"told at {hm(told_at)}, was {hm(second.arrival_at)}" in row
    assert 'data-step="tell-late"' not in row  # told: the button goes
    assert 'data-step="check-in"' in row
    # The patient not told yet keeps their button and their booked arrival.
    untold = row_of(client, nurse, third)
    assert 'data-step="tell-late"' in untold
    assert "told at" not in untold
    assert line_of(tiny_unit, third).told_arrival == ""


def test_the_button_comes_back_when_the_delay_grows_past_the_one_told(
    client, tiny_unit, clock, nurse
):
    first, second = book_day(tiny_unit, 2)
    run_late(clock, first, 40)
    told = case_tell_late(case=second, by=nurse)
    assert 'data-step="tell-late"' not in row_of(client, nurse, second)

    clock.shift(timedelta(minutes=told.delay_minutes + 30))  # the procedure runs on and on

    row = row_of(client, nurse, second)
    assert 'data-step="tell-late"' in row
    assert "told at" in row  # what they were told stands until they are told anew
    later = case_tell_late(case=second, by=nurse)
    assert later.delay_minutes > told.delay_minutes
    assert line_of(tiny_unit, second).told_delay_minutes == later.delay_minutes


def test_a_notice_that_never_went_out_is_not_shown_as_told(client, tiny_unit, clock, nurse):
    first, second = book_day(tiny_unit, 2)
    run_late(clock, first, 50)
    case_tell_late(case=second, by=nurse)
    Reminder.objects.filter(case=second, kind=MessageKind.RUNNING_LATE).update(
        status=ReminderStatus.SUPPRESSED  # the patient had opted out
    )

    assert line_of(tiny_unit, second).told_arrival == ""
    row = row_of(client, nurse, second)
    assert "told at" not in row
    assert 'data-step="tell-late"' in row


def test_told_notices_cost_the_board_no_query_more(client, tiny_unit, clock, nurse):
    first, *waiting = book_day(tiny_unit, 3)
    run_late(clock, first, 50)

    def queries() -> int:
        client.force_login(nurse)
        client.get(PARTIAL, {"site": "main"})
        with CaptureQueriesContext(connection) as captured:
            client.get(PARTIAL, {"site": "main", "date": MONDAY.isoformat()})
        return len(captured)

    before = queries()
    for case in waiting:
        case_tell_late(case=case, by=nurse)
    assert queries() == before


def test_a_procedure_finished_early_moves_the_row_and_the_cement_set_at_once(
    client, unit, clock, front_desk
):
    nurse = UserFactory(roles=[roles.NURSE])
    unit.staff.add(nurse)
    case = case_made(site=unit, start="2026-03-02T10:00:00-05:00", by=front_desk.user)
    stages = {stage.kind: stage for stage in Stage.objects.filter(case=case)}
    clock.move_to(stages["pre_op"].planned_start)
    tracking.case_check_in(case=case, by=nurse)
    tracking.stage_start(case=case, kind="pre_op", by=nurse)
    checklist_update(case=case, by=nurse, ticks=dict.fromkeys(PRE_OP_TICKS, True))
    vitals_record(case=case, phase="pre_op", values=GOOD_VITALS, by=nurse)
    clock.move_to(stages["procedure"].planned_start)
    tracking.stage_finish(case=case, kind="pre_op", by=nurse)
    tracking.stage_start(case=case, kind="procedure", by=nurse)
    clock.move_to(stages["procedure"].planned_start + timedelta(minutes=35))  # 25 minutes early

    tracking.stage_finish(case=case, kind="procedure", by=nurse)

    finished = timezone.now()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROCEDURE
    line = line_of(unit, case)
    [cement] = [entry for entry in line.stages if entry[0].kind == "cement_set"]
    assert cement[1] == finished
    assert cement[3] == "projected"
    assert line.ends_at == stages["recovery"].planned_end - timedelta(minutes=25)
    assert line.stage_done == f"Procedure done {hm(finished)}"
    row = row_of(client, nurse, case)
    assert f"Procedure done {hm(finished)}" in row
    assert 'data-step="start-cement-set"' in row
