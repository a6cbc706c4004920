"""The running-late notice in the browser (Chromium driven by Playwright): when the room runs more
than 30 minutes late, a nurse tells the patients still to come their new arrival time with one
click, once."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from notifications.dispatch import reminders_dispatch
from notifications.models import MessageKind, Reminder
from scheduling import roles
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.notifications.test_running_late import run_late
from tests.scheduling.test_board_late import book_day

pytestmark = pytest.mark.django_db(transaction=True)
NEW_YORK = ZoneInfo("America/New_York")
BOARD = "/board/?site=main&date=2026-03-02"


@pytest.fixture
def late_day(tiny_unit, clock):
    """The first case's procedure began 50 minutes late and is under way; the two after it in
    the room have not arrived."""
    first, *waiting = book_day(tiny_unit, 3)
    run_late(clock, first, 50)
    return first, waiting


def running_late_rows():
    return list(Reminder.objects.filter(kind=MessageKind.RUNNING_LATE).order_by("case_id"))


def test_one_click_tells_each_patient_still_to_come_once(page, tiny_unit, late_day, outbox):
    first, waiting = late_day
    nurse = UserFactory(roles=[roles.NURSE])
    tiny_unit.staff.add(nurse)
    log_in(page, nurse.username)
    page.goto(BOARD)

    button = page.locator("[data-step='tell-late-all']")
    expect(button).to_have_text("Tell all 2 their new arrival time")
    for case in waiting:
        expect(page.locator(f"#case-{case.pk} [data-step='tell-late']")).to_be_visible()
    expect(page.locator(f"#case-{first.pk} [data-step='tell-late']")).to_have_count(0)
    assert running_late_rows() == []
    reminders_dispatch()  # what fell due before (confirmations, the day-before reminders)
    outbox.clear()

    button.click()

    told = page.locator(".flash li.success")
    expect(told).to_contain_text("Told to arrive later:")
    for case in waiting:
        expect(told).to_contain_text(f"Patient{waiting.index(case) + 1}, Margaret")
    rows = running_late_rows()
    assert [row.case_id for row in rows] == [case.pk for case in waiting]
    assert all(row.channel == "sms" for row in rows)
    reminders_dispatch()
    assert sorted(message.to for message in outbox) == sorted(
        case.patient.phone for case in waiting
    )
    # Each message gives that patient's own new arrival time.
    for case, row in zip(waiting, rows, strict=True):
        delay = int(row.note.removeprefix("delay:"))
        new_arrival = (case.arrival_at + timedelta(minutes=delay)).astimezone(NEW_YORK)
        [message] = [m for m in outbox if m.to == case.patient.phone]
        assert f"arrive at {new_arrival:%H:%M}" in message.text

    # Told: each row shows the new time and when, and no button is left to send it again.
    expect(page.locator("[data-step='tell-late-all']")).to_have_count(0)
    expect(page.locator("[data-step='tell-late']")).to_have_count(0)
    for case, row in zip(waiting, rows, strict=True):
        delay = int(row.note.removeprefix("delay:"))
        new_arrival = (case.arrival_at + timedelta(minutes=delay)).astimezone(NEW_YORK)
        told_at = row.created_at.astimezone(NEW_YORK)
        arrival = page.locator(f"#case-{case.pk} .case-arrival")
        expect(arrival).to_contain_text(f"{new_arrival:%H:%M}")
        expect(arrival).to_contain_text(f"told at {told_at:%H:%M}")
    # A page left open from before the click, posting again, sends nothing new.
    page.evaluate("""() => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/board/tell-late/";
        for (const [name, value] of [["site", "main"], ["date", "2026-03-02"],
            ["csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value]]) {
            const input = document.createElement("input");
            Object.assign(input, {type: "hidden", name, value});
            form.append(input);
        }
        document.body.append(form);
        form.submit();
    }""")
    expect(page.locator(".flash li.info")).to_contain_text("Already told:")
    expect(page.locator(".flash li.success")).to_have_count(0)
    assert running_late_rows() == rows
    reminders_dispatch()
    assert len(outbox) == len(waiting)


def test_no_button_while_the_room_is_on_time(page, tiny_unit, clock):
    book_day(tiny_unit, 2)
    nurse = UserFactory(roles=[roles.NURSE])
    tiny_unit.staff.add(nurse)
    log_in(page, nurse.username)
    page.goto(BOARD)

    expect(page.locator("#board-cases-heading")).to_be_visible()
    expect(page.locator("[data-step='tell-late-all']")).to_have_count(0)
    expect(page.locator("[data-step='tell-late']")).to_have_count(0)
