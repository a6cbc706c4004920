"""The README's API tour, run as a newcomer would paste it: its shell lines, with curl, against the
demo's data on a live server, on the day it is read (a Friday here, so the day it works out
steps over a weekend)."""

import io
import json
import re
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

README = Path(__file__).resolve().parent.parent / "README.md"
FRIDAY = datetime(2026, 3, 6, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def tour_lines() -> list[str]:
    """The indented shell lines of the tour's steps 5 and 6, in order."""
    text = README.read_text()
    start = text.index("5. Get a token")
    end = text.index("The answer carries `arrival_at`", start)
    return [line.strip() for line in text[start:end].splitlines() if line.startswith("       ")]


def shell(lines: list[str], *, day: str, address: str) -> str:
    """The tour as one shell script: DAY as the reader's python3 would work it out on the tour's
    day, the demo's address swapped for the live server's, and each curl's answer kept apart."""
    script = "\n".join(lines)
    script = re.sub(r"^DAY=\$\(python3 -c '[^']*'\)$", f"DAY={day}", script, flags=re.M)
    script = script.replace("http://127.0.0.1:8000", address)
    return script.replace("\ncurl ", "\necho; echo '=== answer'; curl ")


def day_worked_out(lines: list[str]) -> str:
    """Run the tour's own python3 line for DAY in this process, where the clock is the test's."""
    code = re.search(r"^DAY=\$\(python3 -c '([^']*)'\)$", "\n".join(lines), flags=re.M).group(1)
    printed = io.StringIO()
    exec(code, {"print": lambda value: printed.write(str(value))})  # noqa: S102 - the README's own line
    return printed.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_readme_tour_finds_free_starts_and_books_one_on_the_day_it_is_read(
    live_server, clock
):
    clock.move_to(FRIDAY)
    call_command("seed_demo", stdout=io.StringIO())
    lines = tour_lines()
    day = day_worked_out(lines)
    assert date.fromisoformat(day) == date(2026, 3, 16)  # Saturday the 14th steps to Monday

    run = subprocess.run(["bash", "-eo", "pipefail", "-c", shell(lines, day=day,
                                                                 address=live_server.url)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    availability, booking = (json.loads(part) for part in run.stdout.split("=== answer")[1:])
    assert availability["slots"], availability
    assert booking["arrival_at"].startswith(day), booking
    assert [held["drug"] for held in booking["medications"]] == ["warfarin"], booking


@pytest.mark.parametrize(("today", "day"), [
    (date(2026, 12, 17), date(2026, 12, 28)),  # Friday the 25th is the demo's Christmas Day
    (date(2026, 12, 24), date(2027, 1, 4)),  # Friday 1 January is shut too
    (date(2026, 3, 2), date(2026, 3, 10)),
])
def test_the_tours_day_steps_over_weekends_and_the_demos_holidays(clock, today, day):
    clock.move_to(datetime(today.year, today.month, today.day, 12, tzinfo=ZoneInfo("UTC")))
    assert date.fromisoformat(day_worked_out(tour_lines())) == day

