"""Server time and query count of the day board (page and JSON) for a day of 10 and of 300 cases.

Run from the project root:  .venv/bin/python bench/board.py  (see bench/README.md)

It prints figures; it is not a test. Goal from the issue: 300 cases cost at most 5x the time of
10, with the same number of queries.

The two days are the same date at two sites built alike, each with enough rooms and bays for 300
cases (75 rooms, 75 pre-op bays, 75 recovery bays: four waves of cases a day, each in its own
room and bays), so they differ only in their cases. Cases and stages are bulk-created straight
into the database; the morning's stages carry actual times (a few of them late) so the
projection has work to do. The clock is pinned (time_machine, ticking) at 11:00 New York on that
date, and the calls alternate between the two sites (small and big, page and JSON), so a
machine busy with other work slows both sides alike and the ratio stays fair.

The run makes its own throwaway PostgreSQL database (Django's test-database machinery, never
kept) and drops it at the end, so it never reads or writes real data.
"""

import argparse
import gc
import logging
import statistics
import sys
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from results import emit, figure
from throwaway import BenchError, bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)
SMALL, BIG = "small", "big"  # the sites' codes
NOW_AT = time(11, 0)  # local time on the measured day
OPENS, CLOSES = time(6, 30), time(19, 0)
ROOMS = 75  # and as many pre-op and recovery bays
WAVES = [time(8, 0), time(10, 15), time(12, 30), time(14, 45)]  # 135 min: procedure+cement+15
MINUTE = timedelta(minutes=1)
GOAL_RATIO = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="timed calls per row (default 20)")
    parser.add_argument("--small", type=int, default=10, help="cases on the small day (10)")
    parser.add_argument("--big", type=int, default=300, help="cases on the big day (300)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls of each kind first")
    args = parser.parse_args(argv)
    if args.big > ROOMS * len(WAVES) or args.small > args.big:
        parser.error(f"at most {ROOMS * len(WAVES)} cases a day, and --small <= --big")

    with bench_database("board", DEFAULT_DATABASE_URL) as (server, test_name):
        report = measure(args)
    print_report(report, server=server, database=test_name, args=args)
    return 0


def build_unit(code: str):
    from scheduling.models import OpeningHours, Resource, Site

    site = Site.objects.create(
        code=code, name=f"Riverside Spine Center ({code})", time_zone="America/New_York"
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(site=site, weekday=weekday, opens=OPENS, closes=CLOSES) for weekday in range(7)
    )
    resources = {}
    for kind, prefix in [
        ("pre_op_bay", "Pre-op Bay"),
        ("procedure_room", "Procedure Room"),
        ("recovery_bay", "Recovery Bay"),
    ]:
        resources[kind] = Resource.objects.bulk_create(
            Resource(site=site, kind=kind, name=f"{prefix} {number:02d}")
            for number in range(1, ROOMS + 1)
        )
    return site, resources


def nurse_of(sites):
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from scheduling import roles

    user = User.objects.create_user(username="nurse")
    user.groups.add(Group.objects.get(name=roles.NURSE))
    for site in sites:
        site.staff.add(user)
    return user, Token.objects.create(user=user)


def day_made(site, procedure_type, resources, day: date, count: int, now: datetime) -> None:
    """`count` cases on `day`: case n in room n % ROOMS, wave n // ROOMS. Stages planned to end
    by `now` are done (every seventh case's procedure started 20 minutes late); the stage under
    way at `now` has started."""
    from scheduling.models import Case, CaseStatus, Patient, Stage

    patients = Patient.objects.bulk_create(
        Patient(first_name="Ada", last_name=f"Patient {site.code}-{n:03d}",
                date_of_birth=date(1950, 1, 1), mrn=f"{site.code}-{n:04d}", phone="+12125550100")
        for n in range(count)
    )
    cases = []
    for n, patient in enumerate(patients):
        start = datetime.combine(day, WAVES[n // ROOMS], ZONE)
        cases.append(Case(
            site=site, patient=patient, procedure_type=procedure_type, levels=1, day=day,
            arrival_at=start - 90 * MINUTE, procedure_start=start,
            fasting_solids_until=start - 480 * MINUTE,
            fasting_clear_liquids_until=start - 120 * MINUTE,
            driver_name="Tom" if n % 5 else "", driver_phone="+12125550101" if n % 5 else "",
            active_infection=False, fracture_painful=True, bleeding_disorder=False,
            tumor_in_canal=False, cement_allergy=False, traumatic=False,
            conservative_treatment_weeks=8, imaging_on_file=True,
            status=CaseStatus.CONFIRMED if n % 3 else CaseStatus.BOOKED,
        ))
    cases = Case.objects.bulk_create(cases)
    stages = []
    for n, case in enumerate(cases):
        room = n % ROOMS
        start = case.procedure_start
        late = 20 * MINUTE if n % 7 == 0 else timedelta(0)
        plan = [
            ("pre_op", "pre_op_bay", start - 60 * MINUTE, start, 0),
            ("procedure", "procedure_room", start, start + 60 * MINUTE, 0),
            ("cement_set", "procedure_room", start + 60 * MINUTE, start + 120 * MINUTE, 15),
            ("recovery", "recovery_bay", start + 120 * MINUTE, start + 240 * MINUTE, 0),
        ]
        shift = timedelta(0)
        for position, stage in enumerate(plan):
            kind, resource_kind, planned_start, planned_end, turnover = stage
            if kind == "procedure":
                shift = late
            actual_start = actual_end = None
            if planned_start + shift <= now:
                actual_start = planned_start + shift
                if planned_end + shift <= now:
                    actual_end = planned_end + shift
            stages.append(Stage(
                case=case, position=position, kind=kind,
                resource=resources[resource_kind][room],
                planned_start=planned_start, planned_end=planned_end,
                held_until=planned_end + turnover * MINUTE,
                actual_start=actual_start, actual_end=actual_end,
            ))
    Stage.objects.bulk_create(stages)


def measure(args) -> dict:
    import time_machine
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from scheduling.models import ProcedureType

    # The request log would fill the screen (and is the same for both sides): warnings only.
    logging.disable(logging.INFO)
    procedure_type = ProcedureType.objects.create(code="vertebroplasty", name="Vertebroplasty")
    now = datetime.combine(DAY, NOW_AT, ZONE)
    sites = []
    for code, count in [(SMALL, args.small), (BIG, args.big)]:
        site, resources = build_unit(code)
        day_made(site, procedure_type, resources, DAY, count, now)
        sites.append(site)
    user, token = nurse_of(sites)

    page_client = Client()
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    calls = {
        "page": lambda code: page_client.get("/board/", {"site": code, "date": DAY.isoformat()}),
        "json": lambda code: api_client.get(
            "/api/v1/board/", {"site": code, "date": DAY.isoformat()}
        ),
    }

    def timed(kind: str, code: str) -> tuple[float, int]:
        started = perf_counter()
        response = calls[kind](code)
        elapsed = (perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"{kind} {code}: HTTP {response.status_code}")
        return elapsed, len(response.content)

    def queries(kind: str, code: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            calls[kind](code)
        return len(captured)

    result = {"times": {}, "queries": {}, "bytes": {}}
    pairs = [(kind, code) for kind in calls for code in (SMALL, BIG)]
    with time_machine.travel(now, tick=True):
        page_client.force_login(user)
        for kind, code in pairs:
            for _ in range(args.warmup):
                timed(kind, code)
            result["queries"][(kind, code)] = queries(kind, code)
        gc.collect()
        samples = {pair: [] for pair in pairs}
        for round_number in range(args.calls):
            # Small and big side by side, the order turned round every other round.
            for kind, code in pairs[:: 1 if round_number % 2 else -1]:
                elapsed, size = timed(kind, code)
                samples[(kind, code)].append(elapsed)
                result["bytes"][(kind, code)] = size
        result["times"] = samples
    return result


def print_report(r: dict, *, server: str, database: str, args) -> None:
    print(f"Vertebro day board benchmark: PostgreSQL {server}, throwaway database {database} "
          "(dropped at the end)")
    print(f"Unit: {ROOMS} procedure rooms, {ROOMS} pre-op bays, {ROOMS} recovery bays "
          f"({3 * ROOMS} board rows), open {OPENS:%H:%M}-{CLOSES:%H:%M} America/New_York.")
    print(f"Day {DAY} at two such sites, one with {args.small} cases, one with {args.big}; "
          f"measured at {NOW_AT:%H:%M} (morning stages done, every 7th case 20 min late).")
    print(f"{args.calls} timed calls per row, the four rows in turn, after {args.warmup} untimed "
          "ones; Django test client in-process, so server time without the network.")
    print()
    header = (f"{'call':<18} {'cases':>5} {'median ms':>9} {'min ms':>8} {'max ms':>8} "
              f"{'queries':>7} {'KiB':>6}")
    print(header)
    for kind, label in [("page", "GET /board/"), ("json", "GET /api/v1/board/")]:
        for code, count in [(SMALL, args.small), (BIG, args.big)]:
            samples = r["times"][(kind, code)]
            print(f"{label:<18} {count:>5} {statistics.median(samples):>9.2f} "
                  f"{min(samples):>8.2f} {max(samples):>8.2f} {r['queries'][(kind, code)]:>7} "
                  f"{r['bytes'][(kind, code)] / 1024:>6.0f}")
    print()
    print(f"{'goal':<40} {'value':>8}  target")
    figures = []
    calls = [("page", "page", "GET /board/"), ("json", "JSON", "GET /api/v1/board/")]
    for kind, label, path in calls:
        small, big = (statistics.median(r["times"][(kind, code)]) for code in (SMALL, BIG))
        ratio = big / small
        met = "met" if ratio <= GOAL_RATIO else "MISSED"
        print(f"{f'{label}: {args.big} cases / {args.small} cases, time':<40} {ratio:>7.2f}x  "
              f"<= {GOAL_RATIO}x  {met}")
        same = r["queries"][(kind, SMALL)] == r["queries"][(kind, BIG)]
        print(f"{f'{label}: queries, {args.small} vs {args.big} cases':<40} "
              f"{'equal' if same else 'differ':>8}  equal  {'met' if same else 'MISSED'}")
        figures += [
            figure(f"{path} median, {args.small} cases", round(small, 2), unit="ms"),
            figure(f"{path} median, {args.big} cases", round(big, 2), unit="ms"),
            figure(f"{label}: {args.big} / {args.small} cases, time", round(ratio, 2), unit="x",
                   goal=f"<= {GOAL_RATIO}x", met=ratio <= GOAL_RATIO),
            figure(f"{label}: queries, {args.small} vs {args.big} cases",
                   f"{r['queries'][(kind, SMALL)]} vs {r['queries'][(kind, BIG)]}",
                   goal="equal", met=same),
        ]
    emit("board", figures)


if __name__ == "__main__":
    sys.exit(main())
