"""How long the slot search's read of a day's busy stages takes as a unit's history grows.

Run from the project root:  .venv/bin/python bench/busy_history.py [--days 365] [--per-day 40]

It prints figures; it is not a test. One site (75 rooms and as many pre-op and recovery bays,
one surgeon on every case) gets `--per-day` cases on each of `--days` past days, bulk-created
straight into the database, then the measured day gets the same. `UnitDay.busy` is timed with
no history and with it, beside the read it replaced (each stage filtered by its start and end
columns, which PostgreSQL answers from the room's whole history); the EXPLAIN of both is printed.

The run makes its own throwaway PostgreSQL database and drops it at the end.
"""

import argparse
import logging
import statistics
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from board import ROOMS, build_unit
from results import emit, figure
from throwaway import bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)
MINUTE = timedelta(minutes=1)
TURNOVER = timedelta(minutes=15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="past days of history (365)")
    parser.add_argument("--per-day", type=int, default=40, help="cases a day (40, at most 300)")
    parser.add_argument("--calls", type=int, default=30, help="timed calls per row (30)")
    args = parser.parse_args(argv)
    with bench_database("busy_history", DEFAULT_DATABASE_URL) as (server, database):
        rows, plans = measure(args)
    print(f"PostgreSQL {server}, database {database}; {args.per_day} cases a day, "
          f"median of {args.calls} calls")
    print(f"{'history':>16} {'cases':>8} {'stages read':>12} {'this read':>10} {'former':>10}")
    for row in rows:
        print(f"{row['history']:>16} {row['cases']:>8} {row['read']:>12} "
              f"{row['new_ms']:>8.2f}ms {row['old_ms']:>8.2f}ms")
    for name, plan in plans.items():
        print(f"\nEXPLAIN ({name}) with the history:\n{plan}")
    first, last = rows[0], rows[-1]
    emit("busy_history", [
        figure("busy read, no history", first["new_ms"], unit="ms"),
        figure("busy read, with history", last["new_ms"], unit="ms"),
        figure("ratio with history / without", round(last["new_ms"] / first["new_ms"], 2),
               goal="<= 1.1", met=last["new_ms"] <= 1.1 * first["new_ms"]),
        figure("former read, with history", last["old_ms"], unit="ms"),
    ])
    return 0


def measure(args):
    from django.db import connection
    from django.db.models import Q

    from scheduling.models import ProcedureType, Stage, Surgeon
    from scheduling.unit_day import UnitDay

    logging.disable(logging.INFO)
    procedure_type = ProcedureType.objects.create(code="vertebroplasty", name="Vertebroplasty")
    site, resources = build_unit("main")
    surgeon = Surgeon.objects.create(name="Dr Okafor", code="okafor")
    surgeon.sites.add(site)
    cases_made(site, procedure_type, resources, surgeon, [DAY], args.per_day)

    def new_read():
        return UnitDay.load(site=site, day=DAY).busy(after_closing=TURNOVER)

    def old_read():
        unit_day = UnitDay.load(site=site, day=DAY)
        return list(Stage.objects.filter(
            Q(resource_id__in=[resource.pk for resource in unit_day.resources])
            | Q(surgeon_id__in=[shift.surgeon.pk for shift in unit_day.shifts]),
            active=True, held_until__gt=unit_day.opens,
            planned_start__lt=unit_day.closes + TURNOVER,
        ).order_by().values_list(
            "resource_id", "surgeon_id", "planned_start", "planned_end", "held_until"
        ))

    def timed(read) -> float:
        for _ in range(3):
            read()
        times = []
        for _ in range(args.calls):
            started = perf_counter()
            read()
            times.append((perf_counter() - started) * 1000)
        return statistics.median(times)

    rows = []
    for history in (0, args.days):
        if history:
            days = [DAY - timedelta(days=n) for n in range(1, history + 1)]
            cases_made(site, procedure_type, resources, surgeon, days, args.per_day)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        rows.append({
            "history": f"{history} days", "cases": (history + 1) * args.per_day,
            "read": len(new_read()), "new_ms": timed(new_read), "old_ms": timed(old_read),
        })
    plans = {}
    for name, read in (("this read", new_read), ("former", old_read)):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            read()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
            plans[name] = "\n".join(line for (line,) in cursor.fetchall())
    return rows, plans


def cases_made(site, procedure_type, resources, surgeon, days, per_day) -> None:
    """`per_day` cases on each day, in waves of ROOMS, every stage in its own room or bay."""
    from scheduling.models import Case, CaseStatus, Patient, Stage

    waves = [time(8, 0), time(10, 15), time(12, 30), time(14, 45)]
    for day in days:
        patients = Patient.objects.bulk_create(
            Patient(first_name="Ada", last_name=f"Patient {n}", date_of_birth=date(1950, 1, 1),
                    mrn=f"{day:%Y%m%d}-{n:03d}", phone="+12125550100")
            for n in range(per_day)
        )
        cases = Case.objects.bulk_create(
            Case(site=site, patient=patient, procedure_type=procedure_type, levels=1, day=day,
                 arrival_at=start - 90 * MINUTE, procedure_start=start,
                 fasting_solids_until=start - 480 * MINUTE,
                 fasting_clear_liquids_until=start - 120 * MINUTE, driver_name="Tom",
                 driver_phone="+12125550101", active_infection=False, fracture_painful=True,
                 bleeding_disorder=False, tumor_in_canal=False, cement_allergy=False,
                 traumatic=False, conservative_treatment_weeks=8, imaging_on_file=True,
                 status=CaseStatus.BOOKED, surgeon=surgeon if n % ROOMS == 0 else None)
            for n, patient in enumerate(patients)
            for start in [datetime.combine(day, waves[n // ROOMS], ZONE)]
        )
        stages = []
        for n, case in enumerate(cases):
            start, room = case.procedure_start, n % ROOMS
            plan = [("pre_op", "pre_op_bay", -60, 0, 0), ("procedure", "procedure_room", 0, 60, 0),
                    ("cement_set", "procedure_room", 60, 120, 15),
                    ("recovery", "recovery_bay", 120, 240, 0)]
            for position, (kind, resource_kind, begins, ends, turnover) in enumerate(plan):
                stages.append(Stage(
                    case=case, position=position, kind=kind,
                    resource=resources[resource_kind][room],
                    surgeon=case.surgeon if kind == "procedure" else None,
                    planned_start=start + begins * MINUTE, planned_end=start + ends * MINUTE,
                    held_until=start + (ends + turnover) * MINUTE,
                ))
        Stage.objects.bulk_create(stages)


if __name__ == "__main__":
    raise SystemExit(main())
