"""A realistic demo unit and several days of cases around today. Safe to run again."""

import random
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notifications.dispatch import reminders_sent_back_then
from scheduling import bedside, roles
from scheduling.bedside_models import VitalsPhase
from scheduling.errors import SchedulingError
from scheduling.models import (
    Case,
    Closure,
    Drug,
    OpeningHours,
    Patient,
    ProcedureType,
    Resource,
    ResourceKind,
    Site,
    Stage,
    StageKind,
    StageTemplate,
    Surgeon,
    SurgeonHours,
)
from scheduling.plan.waiting import waiting_entry_add
from scheduling.screening import ScreeningAnswers
from scheduling.services import case_book, case_cancel, case_confirm, case_mark_no_show, tracking
from scheduling.services.bedside import (
    case_checklist_get,
    checklist_update,
    discharge_assess,
    vitals_record,
)
from scheduling.services.closures import closure_create
from scheduling.timing import VERTEBROPLASTY_RULES

DEMO_USERS = {
    # username: (role, password)
    "frontdesk": (roles.FRONT_DESK, "demo-frontdesk-2026"),
    "nurse": (roles.NURSE, "demo-nurse-2026"),
    "clinician": (roles.CLINICIAN, "demo-clinician-2026"),
    "admin": (roles.ADMIN, "demo-admin-2026"),
}

FIRST_NAMES = ["Margaret", "Harold", "Dorothy", "Walter", "Ruth", "Eugene", "Betty", "Frank",
               "Helen", "Raymond", "Joan", "Arthur", "Shirley", "Albert", "Lois", "Stanley"]
LAST_NAMES = ["Whitfield", "Okonkwo", "Castillo", "Brennan", "Nakamura", "Delgado", "Fischer",
              "Abernathy", "Lindqvist", "Morales", "Kowalski", "Haddad", "Sullivan", "Tanaka"]

class Command(BaseCommand):
    help = "Create the demo unit, one user per role and several days of cases around today."

    def handle(self, *args, **options):
        with transaction.atomic():
            site = self._unit()
            users = self._users()
            self._holidays(site, users[roles.ADMIN])
        booked = self._cases(site, users)
        waiting = waiting_list_seed(site, users[roles.FRONT_DESK])
        self.stdout.write(self.style.SUCCESS(f"Demo unit “{site.name}” ready; {booked} new cases."))
        self.stdout.write(f"{waiting} new waiting-list patients for “Plan the day”.")
        self.stdout.write("Demo logins (user / password):")
        for username, (role, password) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<10} {password:<22} role {role}")

    def _unit(self) -> Site:
        site, _ = Site.objects.get_or_create(
            code="main",
            defaults={
                "name": "Riverside Spine Center",
                "time_zone": "America/New_York",
                "address": "200 Riverside Drive, New York, NY 10025",
                "directions": "Enter from 96th Street; the unit is on the 2nd floor, suite 210.",
                "phone": "+12125550142",
            },
        )
        for weekday in range(5):
            OpeningHours.objects.get_or_create(
                site=site, weekday=weekday, defaults={"opens": time(6, 30), "closes": time(18, 0)}
            )
        for kind, prefix, count in [
            (ResourceKind.PROCEDURE_ROOM, "Procedure Room", 2),
            (ResourceKind.PRE_OP_BAY, "Pre-op Bay", 4),
            (ResourceKind.RECOVERY_BAY, "Recovery Bay", 6),
        ]:
            for number in range(1, count + 1):
                Resource.objects.get_or_create(site=site, name=f"{prefix} {number}",
                                               defaults={"kind": kind})
        for code, name, weekdays in [("okafor", "Dr Amara Okafor", range(5)),
                                     ("reyes", "Dr Daniel Reyes", range(4))]:
            surgeon, _ = Surgeon.objects.get_or_create(code=code, defaults={"name": name})
            surgeon.sites.add(site)
            for weekday in weekdays:
                SurgeonHours.objects.get_or_create(
                    surgeon=surgeon, weekday=weekday,
                    defaults={"opens": time(7, 30), "closes": time(16, 0)},
                )
        for code, name, procedure_minutes in [("vertebroplasty", "Vertebroplasty", 60),
                                              ("kyphoplasty", "Kyphoplasty", 75)]:
            procedure_type, created = ProcedureType.objects.get_or_create(
                code=code,
                defaults={"name": name, "max_levels": 3, "usual": code == "vertebroplasty"},
            )
            if created:
                rules = [
                    replace(rule, base_minutes=procedure_minutes)
                    if rule.kind == StageKind.PROCEDURE else rule
                    for rule in VERTEBROPLASTY_RULES
                ]
                StageTemplate.objects.bulk_create(StageTemplate.from_rules(procedure_type, rules))
        return site

    def _holidays(self, site: Site, admin: User) -> None:
        """The unit shuts on Christmas Day and New Year's Day, this year's and next: the booking
        screen offers no time on them and the planner skips them."""
        year = timezone.now().astimezone(site.zone).year
        for day, reason in [(date(year, 12, 25), "Christmas Day"),
                            (date(year + 1, 1, 1), "New Year's Day"),
                            (date(year + 1, 12, 25), "Christmas Day"),
                            (date(year + 2, 1, 1), "New Year's Day")]:
            if not Closure.objects.filter(site=site, start_date=day, resource=None,
                                          surgeon=None).exists():
                closure_create(site=site, start_date=day, end_date=day, reason=reason,
                               created_by=admin)

    def _users(self) -> dict[str, User]:
        users = {}
        for username, (role, password) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.first_name = username.capitalize()
                user.is_staff = role == roles.ADMIN
                user.is_superuser = role == roles.ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
            Site.objects.get(code="main").staff.add(user)
            users[role] = user
        return users

    def _cases(self, site: Site, users: dict[str, User]) -> int:
        now = timezone.now()
        today = now.astimezone(site.zone).date()
        days = [today + timedelta(days=offset) for offset in range(-4, 8)]
        days = [day for day in days if day.weekday() < 5
                and not Closure.objects.covering(day).filter(site=site, resource=None,
                                                             surgeon=None).exists()]
        types = list(ProcedureType.objects.filter(code__in=["vertebroplasty", "kyphoplasty"]))
        drugs = list(Drug.objects.filter(active=True))
        booked = 0
        for day in days:
            if Case.objects.filter(site=site, day=day, patient__mrn__startswith="DEMO-").exists():
                continue  # seeded by an earlier run
            rng = random.Random(day.toordinal())
            cases = []
            # Today is a full list (as many as the rooms take), so the board has a busy day.
            for number in range(rng.randint(5, 8) if day != today else 12):
                patient = self._patient(day, number, rng)
                if Case.objects.filter(patient=patient, day=day).exists():
                    continue
                # Cases on past days (and today) were booked a week ahead; book them then.
                booked_on = min(day - timedelta(days=7), today)
                clock = datetime.combine(booked_on, time(15, 0), tzinfo=UTC)
                try:
                    with _at(clock if day <= today else None):
                        case = case_book(
                            site=site, procedure_type=rng.choice(types),
                            levels=rng.choice([1, 1, 2, 3]), day=day, patient=patient,
                            booked_by=users[roles.FRONT_DESK],
                            screening=ScreeningAnswers(
                                active_infection=False, fracture_painful=True,
                                bleeding_disorder=False, tumor_in_canal=False,
                                cement_allergy=False, traumatic=rng.random() < 0.3,
                                conservative_treatment_weeks=8, imaging_on_file=True,
                            ),
                            medications=rng.sample(drugs, k=rng.choice([0, 0, 1])),
                            driver_name=f"{rng.choice(FIRST_NAMES)} {patient.last_name}",
                            driver_phone=f"+1212555{rng.randint(1000, 1999)}",
                        )
                except SchedulingError:
                    break  # the day is full
                booked += 1
                cases.append(case)
            day_run(cases, now=now, today=today, users=users, rng=rng)
        return booked

    def _patient(self, day, number: int, rng: random.Random) -> Patient:
        mrn = f"DEMO-{day:%y%m%d}-{number:02d}"
        patient, _ = Patient.objects.get_or_create(
            mrn=mrn,
            defaults={
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "date_of_birth": day.replace(year=day.year - rng.randint(58, 88), day=1),
                "phone": f"+1212555{rng.randint(2000, 9999)}",
                "email": f"{mrn.lower()}@example.org",
            },
        )
        return patient


# The demo day as it went, up to the moment the command runs: each step is taken through the
# tracking and booking services at the time it happened (the clock moved there), so cases,
# stages, their history and their messages are what the unit would have recorded.
RUNNING_LATE = timedelta(minutes=40)


def day_run(cases: list[Case], *, now: datetime, today, users: dict[str, User],
            rng: random.Random) -> None:
    """Past days ran to the end (a few cancelled or no-show); today runs up to now, one room
    running RUNNING_LATE behind; later cases are booked or confirmed."""
    late_room = _late_room(cases, now) if cases and cases[0].day == today else None
    for case in cases:
        day = case.day
        if day < today:
            roll = rng.random()
            if roll < 0.08:
                with _at(case.arrival_at + timedelta(hours=1)):
                    case_mark_no_show(case=case, by=users[roles.FRONT_DESK])
                continue
            if roll < 0.15:
                with _at(_morning_before(case)):
                    case_cancel(case=case, reason="Patient unwell", by=users[roles.FRONT_DESK])
                continue
        if case.arrival_at <= now or rng.random() < 0.5:
            with _at(_morning_before(case) if day <= today else None):
                case_confirm(case=case)
        late = _procedure(case).resource_id == late_room
        _case_run(case, now=now, shift=RUNNING_LATE if late else timedelta(0),
                  nurse=users[roles.NURSE],
                  jitter=timedelta(minutes=rng.randint(0, 8)),
                  check_in=timedelta(minutes=rng.randint(-15, 5)))
        _history(case, now)


def _late_room(cases: list[Case], now: datetime) -> int | None:
    """Today's room that runs late, from its first case on: one whose first procedure would
    have begun by now even RUNNING_LATE behind, preferably one with a patient still to arrive
    (so the board offers to tell them). None before any procedure could have begun."""
    rooms: dict[int, list[Case]] = {}
    for case in cases:
        rooms.setdefault(_procedure(case).resource_id, []).append(case)
    begun = [
        room for room, room_cases in rooms.items()
        if min(_procedure(case).planned_start for case in room_cases) + RUNNING_LATE <= now
    ]
    waiting = [room for room in begun if any(case.arrival_at > now for case in rooms[room])]
    return min(waiting or begun, default=None)


def _procedure(case: Case) -> Stage:
    return next(stage for stage in case.stages.all() if stage.kind == StageKind.PROCEDURE)


def _case_run(case: Case, *, now: datetime, shift: timedelta, nurse: User, jitter: timedelta,
              check_in: timedelta) -> None:
    """Check in, each stage started and finished in order, the nurse's records on the way,
    discharge: every step whose time has come by `now`, at that time. `shift` delays the
    procedure and what follows it."""
    steps = [(case.arrival_at + check_in, tracking.case_check_in, {})]
    ready = steps[0][0]
    procedure_at = _procedure(case).position
    times = {}
    for stage in sorted(case.stages.all(), key=lambda stage: stage.position):
        delay = jitter + (shift if stage.position >= procedure_at else timedelta(0))
        start = max(stage.planned_start + delay, ready)
        ready = start + (stage.planned_end - stage.planned_start)
        times[stage.kind] = start, ready
        steps += [(start, tracking.stage_start, {"kind": stage.kind}),
                  (ready, tracking.stage_finish, {"kind": stage.kind})]
    steps += _bedside_steps(times, random.Random(case.patient.mrn))  # the same on every run
    steps.append((ready + timedelta(minutes=10), tracking.case_discharge, {}))
    # Stable: a record made as a stage starts comes after the start.
    for at, service, arguments in sorted(steps, key=lambda step: step[0]):
        if at > now:
            return
        with _at(at):
            service(case=case, by=nurse, **arguments)


# The nurse's records, timed as a unit works: pre-op vitals and the first checks soon after
# the patient lies down, the last checks (the INR among them) at the sign-in just before the
# room takes the patient, so a patient in pre-op still has items open; in recovery, vitals at
# once, the Aldrete score after an hour, the driver back a little before the planned end, so a
# patient in recovery is some way from going home.
PRE_OP_FIRST_ITEMS = ("consent_signed", "imaging_verified", "fasting_confirmed", "iv_placed")
SIGN_IN_BEFORE_PROCEDURE = timedelta(minutes=5)


def _bedside_steps(times: dict[str, tuple[datetime, datetime]], rng: random.Random) -> list:
    steps = []
    if StageKind.PRE_OP in times and StageKind.PROCEDURE in times:
        pre_op, procedure = times[StageKind.PRE_OP][0], times[StageKind.PROCEDURE][0]
        steps += [
            (pre_op + timedelta(minutes=5), vitals_record,
             {"phase": VitalsPhase.PRE_OP, "values": _vitals(rng)}),
            (pre_op + timedelta(minutes=15), _checklist_tick, {"codes": PRE_OP_FIRST_ITEMS}),
            (procedure - SIGN_IN_BEFORE_PROCEDURE, _checklist_tick, {"codes": None}),
        ]
    if StageKind.RECOVERY in times:
        start, end = times[StageKind.RECOVERY]
        activity = 1 if rng.random() < 0.3 else 2
        steps += [
            (start, vitals_record, {"phase": VitalsPhase.RECOVERY, "values": _vitals(rng)}),
            (start + timedelta(minutes=60), discharge_assess,
             {"scores": dict.fromkeys(bedside.ALDRETE_ITEMS, 2) | {"activity": activity}}),
            (end - timedelta(minutes=15), checklist_update, {"driver_present": True}),
        ]
    return steps


def _checklist_tick(*, case: Case, by: User, codes: tuple[str, ...] | None) -> None:
    """Tick the checklist's items among `codes` (None: all that are left, and the INR)."""
    asked = [item.code for item in case_checklist_get(case=case).items]
    ticks = {
        code: True for code in asked
        if code not in bedside.AUTOMATIC_ITEMS and (codes is None or code in codes)
    }
    inr = {"inr": Decimal("1.2")} if codes is None and bedside.INR in asked else {}
    checklist_update(case=case, by=by, ticks=ticks, **inr)


def _vitals(rng: random.Random) -> dict[str, int]:
    """A well patient's vitals; now and then an SpO2 a nurse would look at twice."""
    systolic = rng.randint(112, 165)
    return {
        "systolic": systolic,
        "diastolic": rng.randint(64, min(95, systolic - 30)),
        "heart_rate": rng.randint(56, 96),
        "spo2": 91 if rng.random() < 0.1 else rng.randint(94, 99),
        "resp_rate": rng.randint(12, 18),
    }


def _history(case: Case, now: datetime) -> None:
    """Messages that fell due before now went out back then (the demo's history), so the
    dispatcher does not send a flood of stale reminders when the demo starts."""
    reminders_sent_back_then(case.reminders.all(), now=now)


def _morning_before(case: Case) -> datetime:
    return datetime.combine(case.day - timedelta(days=1), time(14, 0), tzinfo=UTC)


@contextmanager
def _at(instant: datetime | None):
    """The clock at `instant` for what runs inside (unchanged when None)."""
    if instant is None:
        yield
        return
    with time_machine.travel(instant, tick=False):
        yield


def waiting_list_seed(site: Site, user: User) -> int:
    """About a dozen patients waiting to be scheduled in the next two weeks, for "Plan the day"
    and the backfill suggestions; the same ones on every run."""
    rng = random.Random("waiting-list")
    today = timezone.now().astimezone(site.zone).date()
    types = list(ProcedureType.objects.filter(code__in=["vertebroplasty", "kyphoplasty"]))
    surgeon = Surgeon.objects.filter(code="okafor").first()
    added = 0
    for number in range(12):
        patient, created = Patient.objects.get_or_create(
            mrn=f"DEMO-W-{number:02d}",
            defaults={
                "first_name": rng.choice(FIRST_NAMES), "last_name": rng.choice(LAST_NAMES),
                "date_of_birth": today.replace(year=today.year - rng.randint(60, 90), day=1),
                "phone": f"+1212555{rng.randint(2000, 9999)}",
            },
        )
        if not created:
            continue  # seeded by an earlier run
        earliest = today + timedelta(days=1 + number % 3)
        screened = number != 11  # one still to be screened: the planner leaves them out
        waiting_entry_add(
            site=site, patient=patient, procedure_type=rng.choice(types),
            levels=rng.choice([1, 1, 2, 3]), earliest_date=earliest,
            latest_date=earliest + timedelta(days=14), created_by=user,
            priority=["urgent", "soon", "routine", "routine"][number % 4],
            surgeon=surgeon if number == 5 else None,
            screening={
                "active_infection": False, "fracture_painful": True, "bleeding_disorder": False,
                "tumor_in_canal": False, "cement_allergy": False, "traumatic": number % 3 == 0,
                "conservative_treatment_weeks": 8, "imaging_on_file": True,
            } if screened else {},
            driver_name=f"{rng.choice(FIRST_NAMES)} {patient.last_name}",
            driver_phone=f"+1212555{rng.randint(1000, 1999)}",
        )
        added += 1
    return added
