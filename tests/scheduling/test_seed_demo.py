"""seed_demo's today: a morning in progress at the moment the command runs, recorded through the
tracking and bedside services (history, who and when, checklists, vitals, scores), with one room
running about 40 minutes late."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from notifications.models import Reminder, ReminderStatus
from scheduling import bedside, selectors
from scheduling.board.day import day_board_get
from scheduling.models import (
    NOT_ARRIVED_STATUSES,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    Closure,
    Site,
    Stage,
)
from scheduling.services.bedside import case_checklist_get
from scheduling.services.running_late import late_notice_delay
from tests.live_day import settings_of_a_test

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 3, 2).date()


@pytest.fixture(scope="module")
def seeded(request, django_db_setup, django_db_blocker):
    """The demo seeded at `request.param` o'clock, once for every test that reads that hour: in
    a transaction of the module's own, rolled back after them, inside which each test runs in a
    savepoint of its own (what one test writes, the next does not see)."""
    hour = request.param
    now = datetime(2026, 3, 2, hour, 0, tzinfo=NEW_YORK)
    with django_db_blocker.unblock(), settings_of_a_test(), transaction.atomic():
        with time_machine.travel(now, tick=False):
            call_command("seed_demo", stdout=io.StringIO())
        yield now
        transaction.set_rollback(True)


def at(hour: int):
    """Run the test on the demo seeded at `hour` o'clock."""
    return pytest.mark.parametrize("seeded", [hour], indirect=True, ids=[f"{hour}h"])


def seeded_at(clock, now):
    clock.move_to(now)
    site = Site.objects.get(code="main")
    return site, day_board_get(site, MONDAY, now), now


@at(13)
def test_todays_board_has_cases_in_progress_and_discharged_as_recorded_by_the_nurse(clock, seeded):
    site, board, now = seeded_at(clock, seeded)

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


@at(11)
def test_at_mid_morning_a_patient_still_to_come_can_be_told_the_room_runs_late(clock, seeded):
    _, board, now = seeded_at(clock, seeded)

    waiting = [line for line in board.cases if line.case.arrival_at > now]
    assert waiting
    assert all(
        line.case.status in NOT_ARRIVED_STATUSES for line in waiting
    )
    assert any(late_notice_delay(line) > 30 for line in waiting)
    assert any(line.case.status == CaseStatus.IN_RECOVERY for line in board.cases)


@at(13)
def test_a_second_run_changes_nothing_of_today(clock, seeded):
    seeded_at(clock, seeded)
    before = list(Stage.objects.order_by("pk").values_list("actual_start", "actual_end"))
    events = CaseEvent.objects.count()

    clock.move_to(datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK))
    call_command("seed_demo")

    assert list(Stage.objects.order_by("pk").values_list("actual_start", "actual_end")) == before
    assert CaseEvent.objects.count() == events


@at(13)
def test_the_demo_unit_is_shut_on_christmas_and_new_years_day_once(clock, seeded):
    site, _, _ = seeded_at(clock, seeded)
    closures = set(Closure.objects.filter(site=site).values_list("start_date", "reason"))
    assert (date(2026, 12, 25), "Christmas Day") in closures
    assert (date(2027, 1, 1), "New Year's Day") in closures
    assert selectors.site_closed_why(site=site, day=date(2026, 12, 25)) == "Christmas Day"
    call_command("seed_demo", stdout=io.StringIO())
    assert Closure.objects.filter(site=site).count() == len(closures)


@at(13)
def test_messages_due_before_the_demo_starts_are_history_not_a_flood_to_send(clock, seeded):
    site, _board, now = seeded_at(clock, seeded)

    reminders = Reminder.objects.filter(case__site=site)
    past = reminders.filter(due_at__lt=now)
    assert past.exists()
    assert not past.filter(status=ReminderStatus.PLANNED).exists()
    sent = past.filter(status=ReminderStatus.SENT)
    assert sent.exists()
    assert not sent.exclude(sent_at=F("due_at")).exists()
    assert reminders.filter(due_at__gte=now, status=ReminderStatus.PLANNED).exists()


PAST_PRE_OP = [CaseStatus.IN_PROCEDURE, CaseStatus.CEMENT_SETTING, CaseStatus.IN_RECOVERY,
               CaseStatus.DISCHARGED]


def recovery_unmet(case, now):
    latest = case.assessments.order_by("-at", "-id").first()
    return bedside.discharge_unmet(
        recovery_start=case.stages.get(kind="recovery").actual_start, now=now,
        minimum_minutes=case.site.recovery_minimum_minutes,
        latest_score=latest.total if latest else None,
        score_minimum=case.site.discharge_score_minimum,
        recovery_vitals=case.vitals.filter(phase="recovery").exists(),
        driver_name=case.driver_name, driver_present=case.driver_present_at is not None,
    )


@pytest.mark.parametrize("seeded", [11, 13], indirect=True, ids=["11h", "13h"])
def test_the_nurses_records_are_there_and_some_work_is_left_to_do(clock, seeded):
    site, _board, now = seeded_at(clock, seeded)
    cases = list(Case.objects.filter(site=site, day=MONDAY).select_related("site"))
    by_status = {status: [c for c in cases if c.status == status] for status in CaseStatus}

    for case in [c for status in PAST_PRE_OP for c in by_status[status]]:
        assert case_checklist_get(case=case).complete, case
        assert case.vitals.filter(phase="pre_op", taken_at__lte=now).exists()
    for case in by_status[CaseStatus.IN_RECOVERY]:
        assert case.vitals.filter(phase="recovery").exists()
    for case in by_status[CaseStatus.DISCHARGED]:
        assert case.assessments.filter(total__gte=site.discharge_score_minimum).exists()
        assert case.driver_present_at is not None
    # The day went by the rules: nobody had to give a reason.
    assert not CaseEvent.objects.filter(case__day=MONDAY).exclude(exception="").exists()
    # Work still to do on the board: a checklist half done, a patient not yet ready to go.
    assert any(not case_checklist_get(case=c).complete for c in by_status[CaseStatus.IN_PRE_OP])
    assert any(recovery_unmet(c, now) for c in by_status[CaseStatus.IN_RECOVERY])
