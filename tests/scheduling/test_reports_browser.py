"""A manager reads the reports in a real browser (Chromium through Playwright): from the nav to
a chosen site and range, the charts with their numbers, and a CSV download. The unit is the
demo's, with four weeks of past days whose stages ran early or late."""

import csv
import io
import os
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from notifications.models import MessageKind, ReminderStatus
from scheduling import roles
from scheduling.models import CaseStatus, Site, StageKind
from tests.conftest import build_unit, log_in
from tests.factories import UserFactory
from tests.scheduling.reports_data import case_written, message_made, ny

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs/screenshots/reports.png"
pytestmark = pytest.mark.django_db(transaction=True)


def past_weeks(site: Site, first: date, last: date) -> None:
    """Each weekday, each of the two rooms takes cases from 07:30 until mid-afternoon, each with
    its own pre-op and recovery bays of that room (so nothing overlaps); a few cases are
    cancelled or missed; the rest ran a little early or late; each got three messages."""
    rng = random.Random(6)
    day = first
    while day <= last:
        for room in (1, 2):
            start, number, room_free = ny(day, 7, 30), 0, None
            while start.hour < 15:
                levels = rng.choice([1, 1, 1, 2, 2, 3])
                roll = rng.random()
                status = (CaseStatus.CANCELLED if roll < 0.07 else
                          CaseStatus.NO_SHOW if roll < 0.12 else CaseStatus.DISCHARGED)
                case = case_written(
                    site, day, start.hour, start.minute, levels=levels,
                    room=f"Procedure Room {room}", pre_op=f"Pre-op Bay {room + 2 * (number % 2)}",
                    recovery=f"Recovery Bay {room + 2 * (number % 3)}", status=status,
                    procedure_type=rng.choice(["vertebroplasty", "kyphoplasty"]),
                )
                if status == CaseStatus.DISCHARGED:
                    room_free = _ran(case, rng, room_free=room_free)
                _messaged(case, rng)
                room_minutes = 60 + 30 * (levels - 1) + 60 + 15
                if case.procedure_type.code == "kyphoplasty":
                    room_minutes += 15
                start += timedelta(minutes=room_minutes + rng.choice([0, 0, 15, 30]))
                number += 1
        day += timedelta(days=3 if day.weekday() == 4 else 1)


def _ran(case, rng, *, room_free):
    """Run the case a little early or late; the room takes it only once the patient before has
    left and it has been cleaned. Returns when this patient leaves the room."""
    minutes = lambda choices: timedelta(minutes=rng.choice(choices))  # noqa: E731
    pre_op, *rest = case.stages.order_by("position")
    start = rest[0].planned_start + minutes([0, 2, 5, 8, 12, 20] if room_free is None else [0, 5])
    if room_free is not None:
        start = max(start, room_free + minutes([8, 10, 12, 15, 20, 25]))
    pre_op.actual_start, pre_op.actual_end = pre_op.planned_start + minutes([-5, 0, 5]), start
    pre_op.save(update_fields=["actual_start", "actual_end"])
    extra = {StageKind.PROCEDURE: [-5, 0, 5, 10, 15, 25], StageKind.CEMENT_SET: [-5, 0, 5, 10, 20],
             StageKind.RECOVERY: [-20, -10, 0, 10]}
    released = None
    for stage in rest:
        end = start + (stage.planned_end - stage.planned_start) + minutes(extra[stage.kind])
        stage.actual_start, stage.actual_end = start, end
        stage.save(update_fields=["actual_start", "actual_end"])
        if stage.kind == StageKind.CEMENT_SET:
            released = end
        start = end
    return released


def _messaged(case, rng):
    statuses = [ReminderStatus.DELIVERED] * 8 + [ReminderStatus.SENT, ReminderStatus.FAILED]
    due = case.arrival_at - timedelta(days=1)
    for kind in (MessageKind.CONFIRMATION, MessageKind.WHAT_TO_BRING, MessageKind.ARRIVAL):
        status = rng.choice(statuses)
        message_made(case, kind, due, status, sent=status != ReminderStatus.FAILED, note="")
        due += timedelta(hours=2)
    if rng.random() < 0.7:
        case.confirmed_at = case.arrival_at - timedelta(days=1, hours=-1)
        case.save(update_fields=["confirmed_at"])


def test_a_manager_reads_the_reports_and_downloads_a_csv(page, db, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    riverside = Site.objects.get(code="main")
    past_weeks(riverside, date(2026, 2, 2), date(2026, 2, 25))
    manager = UserFactory(roles=[roles.ADMIN])
    riverside.staff.add(manager)
    build_unit(code="north", name="North Clinic").staff.add(manager)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, manager.username)

    page.goto("/board/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_label("Site").select_option(label="Riverside Spine Center")
    page.get_by_label("From", exact=True).fill("2026-02-02")
    page.get_by_label("To (inclusive)").fill("2026-02-27")
    page.get_by_role("button", name="Show").click()

    page.get_by_role("heading", name="Reports: Riverside Spine Center").wait_for()
    assert "site=main&start=2026-02-02&end=2026-02-27" in page.url
    chart = page.get_by_role("img", name="Share of open time used, per room and bay")
    assert chart.is_visible()
    bar_numbers = chart.locator("text.bar-value").all_text_contents()
    assert len(bar_numbers) == 2 * 12  # planned and actual for each of 12 rooms and bays
    assert all(text.endswith("%") for text in bar_numbers)
    assert float(bar_numbers[0].rstrip("%")) > 20  # Procedure Room 1, planned
    assert page.get_by_role("img", name="Messages per week").locator("text.bar-value").count() == 16
    assert page.locator("#first-case").get_by_text("on time (").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download stage durations (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "vertebro-durations-main-20260202-20260227.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert table[0][:3] == ["procedure_type", "stage", "levels"]
    assert {row[0] for row in table[1:]} == {"Kyphoplasty", "Vertebroplasty"}

    shot = tmp_path / "reports.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 20_000
    # The README shows the top of the page: the picker, utilisation and first-case starts.
    shot = tmp_path / "reports-top.png"
    page.screenshot(path=shot, full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1760})
    if os.environ.get("VERTEBRO_UPDATE_SCREENSHOTS"):  # refreshes the README's picture
        shutil.copyfile(shot, SCREENSHOT)
