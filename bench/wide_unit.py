"""A unit wide enough for a week of bookings, and its staff, for bench/load.py and bench/soak.py;
the soak's front desk, booking through the services in a thread of its own; and the load's clerks
and board viewers, through the API.

Open every day 06:30-18:00 with the default vertebroplasty day (pre-op 60 min, procedure 60 + 30
per extra level with 15 min room turnover, cement set 60 min in the room, recovery 120 min). A
one-level case holds its room 135 min and its surgeon 60 min, and procedures start between about
08:00 and 14:00, so a room takes about three cases a day, a pre-op bay five, a recovery bay four
and a surgeon seven; the unit is sized from the number of cases a day it should hold.
"""

import math
import random
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import requests
from booking import CLEAR_SCREENING  # screening answers that block nothing

OPENS, CLOSES = clock(6, 30), clock(18, 0)
SURGEON_STARTS, SURGEON_ENDS = clock(7, 30), clock(16, 0)
PASSWORD = "bench-correct-horse-battery"
SITE = "main"
LEVELS = ([1, 2, 3], [70, 20, 10])
DRUGS = ["aspirin", "clopidogrel", "warfarin", "apixaban"]
PAGE_EVERY = 12  # a viewer reloads the whole board page every this many polls


def unit_build(*, cases_a_day: int, zone: str = "America/New_York", code: str = SITE):
    """The site, its rooms, bays and surgeons, and the vertebroplasty procedure type."""
    from scheduling.models import (
        OpeningHours,
        ProcedureType,
        Resource,
        Site,
        StageTemplate,
        Surgeon,
        SurgeonHours,
    )
    from scheduling.timing import VERTEBROPLASTY_RULES

    site = Site.objects.create(code=code, name="Riverside Spine Center", time_zone=zone,
                               phone="+12125550142")
    OpeningHours.objects.bulk_create(
        OpeningHours(site=site, weekday=weekday, opens=OPENS, closes=CLOSES) for weekday in range(7)
    )
    sizes = [
        ("procedure_room", "Procedure Room", math.ceil(cases_a_day / 3)),
        ("pre_op_bay", "Pre-op Bay", math.ceil(cases_a_day / 5)),
        ("recovery_bay", "Recovery Bay", math.ceil(cases_a_day / 4)),
    ]
    Resource.objects.bulk_create(
        Resource(site=site, kind=kind, name=f"{prefix} {number}")
        for kind, prefix, count in sizes
        for number in range(1, count + 1)
    )
    for number in range(1, math.ceil(cases_a_day / 7) + 1):
        surgeon = Surgeon.objects.create(name=f"Dr Surgeon {number}", code=f"surgeon-{number}")
        surgeon.sites.add(site)
        SurgeonHours.objects.bulk_create(
            SurgeonHours(surgeon=surgeon, weekday=weekday, opens=SURGEON_STARTS,
                         closes=SURGEON_ENDS)
            for weekday in range(7)
        )
    procedure_type, _ = ProcedureType.objects.get_or_create(
        code="vertebroplasty", defaults={"name": "Vertebroplasty", "max_levels": 3}
    )
    # The vertebroplasty day as the product sets it up by default.
    StageTemplate.objects.bulk_create(
        StageTemplate.from_rules(procedure_type, VERTEBROPLASTY_RULES)
    )
    return site


def staff_create(site, *, role: str, count: int, prefix: str) -> list[tuple[str, str]]:
    """`count` staff of one role working at the site: (username, API token) each. They share
    one password (PASSWORD), hashed once."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    hashed = make_password(PASSWORD)
    group = Group.objects.get(name=role)
    users = User.objects.bulk_create(
        User(username=f"{prefix}{number:03d}", password=hashed) for number in range(count)
    )
    group.user_set.add(*users)
    site.staff.add(*users)
    tokens = [Token.objects.create(user=user) for user in users]
    return [(user.username, token.key) for user, token in zip(users, tokens, strict=False)]


def private_database(stack, name: str):
    """A private PostgreSQL cluster (bench/services.py) holding database `name`, migrated, with
    Django set up on it; stopped when `stack` unwinds, after this process's connections close."""
    from services import PrivatePostgres, close_django

    pg = PrivatePostgres().start()
    stack.callback(pg.stop)
    stack.callback(close_django)
    pg.create_database(name)
    django_migrated(pg.url(name))
    return pg


def django_migrated(database_url: str) -> None:
    """Set Django up on the bench's own database and migrate it (DEBUG off: no query log)."""
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "vertebro_site.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


class Booker(threading.Thread):
    """A front desk working through the services: books `cases` cases on the days ahead, with
    reschedules and cancels in between (60/25/15), spread over the first 80% of the window.
    A refusal (slot taken, a day full) is normal; a database error while PostgreSQL restarts
    is counted and the action dropped."""

    def __init__(self, *, site, clerk, args, window_ends: datetime, log) -> None:
        super().__init__(daemon=True)
        self.site, self.clerk, self.args = site, clerk, args
        self.window_ends = window_ends
        self.log = log
        self.rng = random.Random(args.seed + 1)
        self.counts = Counter()

    def run(self) -> None:
        from django.db import DatabaseError, connection

        from scheduling.errors import SchedulingError

        actions = round(self.args.cases / 0.6)
        pause = 0.8 * self.args.window / actions
        today = datetime.now(self.site.zone).date()
        days = [today + timedelta(days=n) for n in range(3, 6)]
        mine: list = []
        stop_at = time.monotonic() + 0.85 * self.args.window
        try:
            while self.counts["booked"] < self.args.cases and time.monotonic() < stop_at:
                roll = self.rng.random()
                try:
                    if not mine or roll < 0.6:
                        mine.append(self.book(self.rng.choice(days)))
                        self.counts["booked"] += 1
                    elif roll < 0.85:
                        self.move(self.rng.choice(mine), self.rng.choice(days))
                        self.counts["rescheduled"] += 1
                    else:
                        self.cancel(mine.pop(self.rng.randrange(len(mine))))
                        self.counts["cancelled"] += 1
                except SchedulingError as exc:
                    self.counts[f"refused: {exc.code}"] += 1
                except DatabaseError as exc:
                    self.counts["database error (restart)"] += 1
                    self.log(f"booker: {type(exc).__name__} (the database is restarting)")
                    connection.close()
                time.sleep(pause)
        finally:
            connection.close()

    def book(self, day: date):
        from scheduling import services
        from scheduling.models import ProcedureType
        from scheduling.screening import ScreeningAnswers

        number = self.counts["booked"] + self.counts["attempt"]
        self.counts["attempt"] += 1
        patient = services.patient_create(
            first_name="Margaret", last_name=f"Soak{number}", date_of_birth=date(1948, 5, 17),
            mrn=f"SOAK{number:05d}-{self.rng.randrange(10**6)}",
            phone=f"+1212555{100 + number % 100:04d}", email=f"soak{number}@example.org",
            preferred_channel=self.rng.choice(["sms", "sms", "email"]),
        )
        case = services.case_book(
            site=self.site, procedure_type=ProcedureType.objects.get(code="vertebroplasty"),
            levels=self.rng.choice([1, 1, 1, 2]), day=day, patient=patient,
            screening=ScreeningAnswers(**CLEAR_SCREENING), booked_by=self.clerk,
            driver_name="Tom Whitfield", driver_phone="+12125550101",
            medications=self._drugs(),
        )
        self.pull_in(case)
        return case

    def _drugs(self):
        from scheduling.models import Drug

        if self.rng.random() < 0.3:
            return [Drug.objects.get(code=self.rng.choice(["aspirin", "warfarin", "apixaban"]))]
        return []

    def move(self, case, day: date) -> None:
        from scheduling import services

        services.case_reschedule(case=case, day=day, by=self.clerk)
        self.pull_in(case)

    def cancel(self, case) -> None:
        from scheduling import services

        services.case_cancel(case=case, reason="The patient asked to cancel.", by=self.clerk)

    def pull_in(self, case) -> None:
        """The case's messages planned for the days ahead fall due within the window instead."""
        from notifications.models import Reminder, ReminderStatus

        now = datetime.now(UTC)
        latest = max(0.0, (self.window_ends - now).total_seconds() - 5)
        rows = Reminder.objects.filter(case=case, status=ReminderStatus.PLANNED, due_at__gt=now)
        for row_id in rows.values_list("id", flat=True):
            due = now + timedelta(seconds=self.rng.uniform(0, latest))
            Reminder.objects.filter(pk=row_id, status=ReminderStatus.PLANNED).update(due_at=due)
            self.counts["pulled in"] += 1


# The load's staff, through the API (bench/load.py): `stats.call` times each request.


class Desk:
    """The active cases every clerk has booked (id -> levels): now and then a clerk reschedules
    or cancels a colleague's case, so two clerks sometimes change one case at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cases: dict[int, int] = {}

    def add(self, case_id: int, levels: int) -> None:
        with self.lock:
            self.cases[case_id] = levels

    def drop(self, case_id: int) -> None:
        with self.lock:
            self.cases.pop(case_id, None)

    def pick(self, rng) -> tuple[int, int] | None:
        with self.lock:
            return rng.choice(list(self.cases.items())) if self.cases else None


def clerk(number: int, token: str, base: str, days: list[str], stats, stop: threading.Event,
          args, desk: Desk) -> None:
    rng = random.Random(args.seed * 1000 + number)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    mine: dict[int, int] = {}  # active cases this clerk booked: id -> levels
    booked = 0
    book_share, move_share, _ = args.mix
    total = sum(args.mix)
    stop.wait(rng.uniform(0, 2 * args.think))  # clerks do not all start in the same instant
    while not stop.is_set():
        roll = rng.uniform(0, total)
        if not mine or roll < book_share:
            booked += 1
            made = case_book(session, base, rng, days, stats, f"L{number:03d}-{booked:05d}")
            if made:
                mine[made[0]] = made[1]
                desk.add(*made)
            stop.wait(rng.uniform(0, 2 * args.think))
            continue
        case_id, levels = (rng.random() < args.shared and desk.pick(rng)
                           or rng.choice(list(mine.items())))
        cancelled = False
        if roll < book_share + move_share:
            answer = case_move(session, base, rng, days, stats, case_id, levels)
        else:
            answer = stats.call(session, "POST cases/{id}/cancel/", "POST",
                                f"{base}/api/v1/cases/{case_id}/cancel/",
                                json={"reason": "The patient asked to cancel."})
            cancelled = answer is not None and answer.status_code == 200
            if cancelled:
                stats.count("cancelled")
        # Cancelled now, or already by a colleague: nobody changes it again.
        if cancelled or _code(answer) == "case_not_changeable":
            mine.pop(case_id, None)
            desk.drop(case_id)
        stop.wait(rng.uniform(0, 2 * args.think))


def _code(answer) -> str | None:
    if answer is None or answer.status_code < 400:
        return None
    try:
        return answer.json().get("code")
    except ValueError:
        return None


def free_start(session, base, rng, stats, day: str, levels: int) -> str | None:
    """One of the first few free starts offered: clerks favour the morning, so they collide."""
    answer = stats.call(session, "GET availability/", "GET", f"{base}/api/v1/availability/",
                        params={"site": SITE, "procedure_type": "vertebroplasty", "date": day,
                                "levels": levels})
    if answer is None or answer.status_code != 200:
        return None
    slots = answer.json()["slots"]
    return rng.choice(slots[:5])["start"] if slots else None


def case_book(session, base, rng, days, stats, mrn: str) -> tuple[int, int] | None:
    day = rng.choice(days)
    levels = rng.choices(*LEVELS)[0]
    start = free_start(session, base, rng, stats, day, levels)
    payload = {
        "site": SITE,
        "procedure_type": "vertebroplasty",
        "levels": levels,
        "date": day,
        "patient": {
            "first_name": "Margaret", "last_name": f"Load{mrn}", "date_of_birth": "1948-05-17",
            "mrn": mrn, "phone": "+1 212 555 0100", "email": "patient@example.org",
            "preferred_channel": rng.choice(["sms", "sms", "email"]), "language": "en",
        },
        "driver": {"name": "Tom Whitfield", "phone": "(212) 555-0101"},
        "screening": dict(CLEAR_SCREENING),
        "medications": [rng.choice(DRUGS)] if rng.random() < 0.3 else [],
    }
    if start:
        payload["start"] = start
    answer = stats.call(session, "POST cases/", "POST", f"{base}/api/v1/cases/", json=payload)
    if answer is not None and answer.status_code == 201:
        stats.count("booked")
        return answer.json()["id"], levels
    return None


def case_move(session, base, rng, days, stats, case_id: int, levels: int):
    day = rng.choice(days)
    start = free_start(session, base, rng, stats, day, levels)
    answer = stats.call(session, "POST cases/{id}/reschedule/", "POST",
                        f"{base}/api/v1/cases/{case_id}/reschedule/",
                        json={"start": start} if start else {"date": day})
    if answer is not None and answer.status_code == 200:
        stats.count("rescheduled")
    return answer


def viewer(number: int, username: str, base: str, days: list[str], stats,
           stop: threading.Event, args) -> None:
    rng = random.Random(args.seed * 1000 + 500 + number)
    session = requests.Session()
    stop.wait(rng.uniform(0, args.poll))
    stats.call(session, "GET accounts/login/", "GET", f"{base}/accounts/login/")
    answer = stats.call(session, "POST accounts/login/", "POST", f"{base}/accounts/login/",
                        data={"username": username, "password": PASSWORD,
                              "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")})
    if answer is None or answer.status_code != 302:
        stats.count("viewer_login_failed")
        return
    query = {"site": SITE, "date": days[number % len(days)]}
    polls = 0
    while not stop.is_set():
        if polls % PAGE_EVERY == 0:
            stats.call(session, "GET board/ (page)", "GET", f"{base}/board/", params=query)
        stats.call(session, "GET board/partial/", "GET", f"{base}/board/partial/", params=query)
        stats.call(session, "GET api/v1/board/", "GET", f"{base}/api/v1/board/", params=query)
        polls += 1
        stop.wait(rng.uniform(0.5, 1.5) * args.poll)
