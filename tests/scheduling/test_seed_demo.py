"""seed_demo's today: a morning in progress at the moment the command runs, recorded through the
tracking services (history, who and when), with one room running about 40 minutes late."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F

from notifications.models import Reminder, ReminderStatus
from scheduling.board.day import day_board_get
from scheduling.models import NOT_ARRIVED_STATUSES, CaseAction, CaseEvent, CaseStatus, Site, Stage
from scheduling.services.running_late import late_notice_delay

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 3, 2).date()


def seeded_at(clock, hour: int):
    now = datetime(2026, 3, 2, hour, 0, tzinfo=NEW_YORK)
    clock.move_to(now)
    call_command("seed_demo")
    site = Site.objects.get(code="main")
    return site, day_board_get(site, MONDAY, now), now


def test_todays_board_has_cases_in_progress_and_discharged_as_recorded_by_the_nurse(clock):
    site, board, now = seeded_at(clock, 13)

    statuses = [line.case.status for line in board.cases]
    assert board.summary.done >= 1
    assert statuses.count(CaseStatus.DISCHARGED) >= 1
    assert board.summary.in_progress >= 2
    today = Stage.objects.filter(case__site=site, case__day=MONDAY, active=True)
    started = today.exclude(actual_start=None)
    assert started.exists()
    assert today.filter(actual_start=None).exists()
    # Every step happened before now, near its plan (at most the late room's delay and a few
    # minutes), and was taken by the demo nurse through the tracking services.
    for stage in started:
        assert stage.actual_start <= now
        assert abs(stage.actual_start - stage.planned_start) <= timedelta(minutes=60)
    events = CaseEvent.objects.filter(case__day=MONDAY)
    assert events.filter(action=CaseAction.DISCHARGE, by__username="nurse").count() == (
        statuses.count(CaseStatus.DISCHARGED)
    )
    assert events.filter(action=CaseAction.STAGE_START).count() == started.count()
    # One room runs about 40 minutes late, and the board projects it.
    assert any(35 <= line.delay_minutes <= 50 for line in board.cases if line.late)
    assert board.summary.late >= 1


def test_at_mid_morning_a_patient_still_to_come_can_be_told_the_room_runs_late(clock):
    _, board, now = seeded_at(clock, 11)

    waiting = [line for line in board.cases if line.case.arrival_at > now]
    assert waiting
    assert all(
        line.case.status in NOT_ARRIVED_STATUSES for line in waiting
    )
    assert any(late_notice_delay(line) > 30 for line in waiting)
    assert any(line.case.status == CaseStatus.IN_RECOVERY for line in board.cases)


def test_a_second_run_changes_nothing_of_today(clock):
    seeded_at(clock, 13)
    before = list(Stage.objects.order_by("pk").values_list("actual_start", "actual_end"))
    events = CaseEvent.objects.count()

    clock.move_to(datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK))
    call_command("seed_demo")

    assert list(Stage.objects.order_by("pk").values_list("actual_start", "actual_end")) == before
    assert CaseEvent.objects.count() == events


def test_messages_due_before_the_demo_starts_are_history_not_a_flood_to_send(clock):
    site, _board, now = seeded_at(clock, 13)

    reminders = Reminder.objects.filter(case__site=site)
    past = reminders.filter(due_at__lt=now)
    assert past.exists()
    assert not past.filter(status=ReminderStatus.PLANNED).exists()
    sent = past.filter(status=ReminderStatus.SENT)
    assert sent.exists()
    assert not sent.exclude(sent_at=F("due_at")).exists()
    assert reminders.filter(due_at__gte=now, status=ReminderStatus.PLANNED).exists()
