"""Server time and query count of the reports page and its CSV exports over 4 weeks and over a
year of a busy unit.

Run from the project root:  .venv/bin/python bench/reports.py  [--calls N]

It prints figures; it is not a test. What it shows: the query count is the same for 4 weeks
(~160 cases) and for 52 weeks (~2,000 cases), and how the time grows with the rows read.

The unit: two procedure rooms, four pre-op bays and six recovery bays; every weekday of the year
before the pinned clock, each room takes four cases (08:00, 10:15, 12:30, 14:45) whose stages
ran a few minutes early or late, each with three messages; one case in 15 cancelled. Rows are
bulk-created straight into a throwaway PostgreSQL database (bench/throwaway.py), dropped at the
end. The calls alternate between the two ranges, so a busy machine slows both alike.
"""

import argparse
import logging
import random
import statistics
import sys
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from results import emit, figure
from throwaway import bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2025, 3, 3), date(2026, 3, 1)
RANGES = {"4 weeks": (date(2026, 2, 2), LAST_DAY), "52 weeks": (FIRST_DAY, LAST_DAY)}
WAVES = [time(8, 0), time(10, 15), time(12, 30), time(14, 45)]
REPORTS = ["utilisation", "first-case", "turnover", "durations", "cancellations", "messages"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5, help="timed calls per row (default 5)")
    args = parser.parse_args(argv)
    with bench_database("reports", DEFAULT_DATABASE_URL) as (server, _):
        logging.disable(logging.INFO)
        import time_machine

        with time_machine.travel(NOW, tick=True):
            counts = build()
            rows = measure(args.calls)
    print(f"PostgreSQL {server}; {counts}")
    print(f"{'request':<28}{'range':>10}{'median ms':>12}{'max ms':>10}{'queries':>9}")
    for (url, label), (times, queries) in rows.items():
        print(f"{url:<28}{label:>10}{statistics.median(times):>12.0f}{max(times):>10.0f}"
              f"{queries:>9}")
    page = {label: (times, queries) for (url, label), (times, queries) in rows.items()
            if not url.endswith(".csv")}
    same = len({queries for _, queries in page.values()}) == 1
    emit("reports", [
        *[figure(f"/reports/ median, {label}", round(statistics.median(times)), unit=" ms")
          for label, (times, _) in page.items()],
        figure("/reports/ queries, 4 vs 52 weeks",
               " vs ".join(str(queries) for _, queries in page.values()), goal="equal", met=same),
    ])
    return 0


def build() -> str:
    from django.contrib.auth.models import Group, User

    from notifications.models import Reminder, ReminderRule, ReminderStatus
    from scheduling import roles, timing
    from scheduling.models import (
        Case,
        CaseStatus,
        OpeningHours,
        Patient,
        ProcedureType,
        Resource,
        ResourceKind,
        Site,
        Stage,
        StageTemplate,
    )
    from scheduling.slots import site_rules, stage_rules

    site = Site.objects.create(code="bench", name="Bench Unit", time_zone="America/New_York")
    for weekday in range(5):
        OpeningHours.objects.create(site=site, weekday=weekday, opens=time(6, 30),
                                    closes=time(18, 0))
    resources = {}
    for kind, prefix, count in [(ResourceKind.PROCEDURE_ROOM, "Room", 2),
                                (ResourceKind.PRE_OP_BAY, "Pre-op", 4),
                                (ResourceKind.RECOVERY_BAY, "Recovery", 6)]:
        for number in range(1, count + 1):
            resources[f"{prefix} {number}"] = Resource.objects.create(
                site=site, kind=kind, name=f"{prefix} {number}")
    kind = ProcedureType.objects.create(code="vertebroplasty", name="Vertebroplasty")
    for position, (stage, resource_kind, base, per_level, turnover) in enumerate([
        ("pre_op", ResourceKind.PRE_OP_BAY, 60, 0, 0),
        ("procedure", ResourceKind.PROCEDURE_ROOM, 60, 30, 15),
        ("cement_set", ResourceKind.PROCEDURE_ROOM, 60, 0, 0),
        ("recovery", ResourceKind.RECOVERY_BAY, 120, 0, 0),
    ]):
        StageTemplate.objects.create(procedure_type=kind, position=position, kind=stage,
                                     resource_kind=resource_kind, base_minutes=base,
                                     minutes_per_extra_level=per_level, turnover_minutes=turnover)
    rules, zone_rules = stage_rules(kind), site_rules(site)
    rng = random.Random(6)
    plans = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            for room in (1, 2):
                for wave, at in enumerate(WAVES):
                    start = datetime.combine(day, at, site.zone)
                    times = timing.case_times(rules, 1, start, zone_rules)
                    names = {ResourceKind.PRE_OP_BAY: f"Pre-op {room + 2 * (wave % 2)}",
                             ResourceKind.PROCEDURE_ROOM: f"Room {room}",
                             ResourceKind.RECOVERY_BAY: f"Recovery {room + 2 * (wave % 3)}"}
                    plans.append((day, times, names, rng.random() < 1 / 15))
        day += timedelta(days=1)
    patients = Patient.objects.bulk_create(
        Patient(first_name="Ada", last_name=f"Bench{n}", date_of_birth=date(1950, 1, 1),
                mrn=f"BENCH-{n}", phone="+12125550100") for n in range(len(plans)))
    cases = Case.objects.bulk_create(
        Case(site=site, patient=patient, procedure_type=kind, levels=1, day=day,
             status=CaseStatus.CANCELLED if cancelled else CaseStatus.DISCHARGED,
             arrival_at=times.arrival_at, procedure_start=times.procedure_start,
             fasting_solids_until=times.fasting_solids_until,
             fasting_clear_liquids_until=times.fasting_clear_liquids_until,
             active_infection=False, fracture_painful=True, bleeding_disorder=False,
             tumor_in_canal=False, cement_allergy=False, traumatic=False,
             conservative_treatment_weeks=8, imaging_on_file=True,
             confirmed_at=times.arrival_at - timedelta(hours=20))
        for patient, (day, times, _, cancelled) in zip(patients, plans, strict=False))
    stages, reminders = [], []
    rule = ReminderRule.objects.first()
    for case, (_, times, names, cancelled) in zip(cases, plans, strict=False):
        late = timedelta(minutes=rng.choice([0, 0, 5, 12]))
        for position, stage in enumerate(times.stages):
            extra = timedelta(minutes=rng.choice([-5, 0, 0, 5, 10]))
            stages.append(Stage(
                case=case, position=position, kind=stage.kind,
                resource=resources[names[stage.resource_kind]], planned_start=stage.start,
                planned_end=stage.end, held_until=stage.held_until, active=not cancelled,
                actual_start=None if cancelled else stage.start + late,
                actual_end=None if cancelled else stage.end + late + extra))
        for number, status in enumerate([ReminderStatus.DELIVERED, ReminderStatus.SENT,
                                         rng.choice([ReminderStatus.DELIVERED,
                                                     ReminderStatus.FAILED])]):
            due = times.arrival_at - timedelta(days=1, hours=number)
            reminders.append(Reminder(
                case=case, rule=rule, kind=rule.kind, audience="patient", channel="sms",
                recipient="+12125550100", note=str(number), plan_version=1, due_at=due,
                send_by=due, status=status,
                sent_at=None if status == ReminderStatus.FAILED else due))
    Stage.objects.bulk_create(stages, batch_size=2000)
    Reminder.objects.bulk_create(reminders, batch_size=2000)
    manager = User.objects.create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=roles.ADMIN))
    site.staff.add(manager)
    return f"{len(cases)} cases, {len(stages)} stages, {len(reminders)} messages over 52 weeks"


def measure(calls: int) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-manager"))
    urls = ["/reports/"] + [f"/reports/{report}.csv" for report in REPORTS]
    results = {}
    for call in range(calls + 1):  # the first round warms up and counts the queries
        for url in urls:
            for label, (start, end) in RANGES.items():
                query = {"site": "bench", "start": start.isoformat(), "end": end.isoformat()}
                with CaptureQueriesContext(connection) as queries:
                    began = perf_counter()
                    response = client.get(url, query)
                    elapsed = (perf_counter() - began) * 1000
                assert response.status_code == 200, (url, response.status_code)
                times, _ = results.setdefault((url, label), ([], len(queries)))
                if call:
                    times.append(elapsed)
    return results


if __name__ == "__main__":
    sys.exit(main())
