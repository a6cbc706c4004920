"""How long a booking takes through the API, against a bare insert, with 0 and 200 cases that week.

Run from the project root:  .venv/bin/python bench/booking.py  (see bench/README.md)

It prints figures; it is not a test. Goals from the issue: a booking costs at most 3x a bare
one-row insert made through the same client, token and role check; a booking in a week that
already holds 200 cases costs no more than one in an empty week; and a booking and an
availability call make the same number of queries whatever the number of cases.

The run makes its own throwaway PostgreSQL database (Django's test-database machinery, never
kept) and drops it at the end, so it never reads or writes real data.
"""

import argparse
import cProfile
import gc
import io
import math
import pstats
import re
import statistics
import sys
import types
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

from results import emit, figure
from throwaway import BenchError, bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"

# A Monday; every booked day lies in the weeks after it, so no date is ever "in the past". The
# clock ticks from here (time_machine), so durations are real.
PINNED_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FIRST_MONDAY = date(2026, 3, 9)
MEASURED_WEEKDAY = 2  # Wednesday

# The demo unit (2 rooms, 4 pre-op bays, 6 recovery bays, 2 surgeons, Mon-Fri) holds about 30
# cases a week; this one holds 200 one-level cases in a week plus the timed bookings on one day.
# 12 surgeons make 6 waves of 12 procedures a day (08:00, 09:00, 10:15, 11:15, 12:30, 13:30); a
# room holds 3 cases a day (60 procedure + 60 cement set + 15 turnover); a wave needs 12 pre-op
# bays, and two waves overlap in recovery (120 min): 72 cases a day, 7 days a week.
OPENS, CLOSES = time(6, 30), time(18, 0)
SURGEON_STARTS, SURGEON_ENDS = time(7, 30), time(16, 0)
ROOMS, PRE_OP_BAYS, RECOVERY_BAYS, SURGEONS = 24, 12, 24, 12
CLEAR_SCREENING = {
    "active_infection": False,
    "fracture_painful": True,
    "bleeding_disorder": False,
    "tumor_in_canal": False,
    "cement_allergy": False,
    "traumatic": False,
    "conservative_treatment_weeks": 8,
    "imaging_on_file": True,
}
BARE_URL = "/bench/bare-insert/"
CASES_URL = "/api/v1/cases/"
AVAILABILITY_URL = "/api/v1/availability/"
NOISE = 0.10  # "no worse" allows this much run-to-run noise
GOAL_X_BARE = 3  # a booking at most this many times a bare insert
PROFILE_LINES = 25
ROOT = Path(__file__).resolve().parent.parent
PROJECT_CODE = rf"^{re.escape(str(ROOT))}/(?!\.venv)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="timed calls per row (default 30)")
    parser.add_argument("--prior", type=int, default=200, help="cases booked that week (200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls of each kind first")
    parser.add_argument(
        "--sql", action="store_true", help="also print the SQL of one booking and one availability"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="also profile N more bookings (cProfile) and print where their time went",
    )
    args = parser.parse_args(argv)

    with bench_database("booking", DEFAULT_DATABASE_URL) as (server, test_name):
        report = run(args)
    print_report(report, server=server, database=test_name, args=args)
    return 0


def run(args) -> dict:
    import time_machine
    from django.test import override_settings

    with (
        time_machine.travel(PINNED_NOW, tick=True),
        override_settings(ROOT_URLCONF=bench_urlconf()),
    ):
        return measure(args)


def bench_urlconf() -> str:
    """The project's URLs plus the bare-insert view, as an importable module."""
    from django.db import transaction
    from django.urls import include, path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from scheduling import roles
    from scheduling.models import Patient

    class BareInsertView(APIView):
        """One row in one transaction, behind the same authentication and role check as booking."""

        write_roles = roles.BOOK_CASES

        def post(self, request):
            with transaction.atomic():
                patient = Patient.objects.create(
                    first_name=request.data["first_name"],
                    last_name=request.data["last_name"],
                    date_of_birth=request.data["date_of_birth"],
                    mrn=request.data["mrn"],
                )
            return Response({"id": patient.pk}, status=201)

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [
        path(BARE_URL.strip("/") + "/", BareInsertView.as_view()),
        path("", include("vertebro_site.urls")),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def build_unit():
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from scheduling import roles
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

    site = Site.objects.create(
        code="main",
        name="Riverside Spine Center",
        time_zone="America/New_York",
        phone="+12125550142",
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(site=site, weekday=weekday, opens=OPENS, closes=CLOSES) for weekday in range(7)
    )
    Resource.objects.bulk_create(
        Resource(site=site, kind=kind, name=f"{prefix} {number}")
        for kind, prefix, count in [
            ("procedure_room", "Procedure Room", ROOMS),
            ("pre_op_bay", "Pre-op Bay", PRE_OP_BAYS),
            ("recovery_bay", "Recovery Bay", RECOVERY_BAYS),
        ]
        for number in range(1, count + 1)
    )
    for number in range(1, SURGEONS + 1):
        surgeon = Surgeon.objects.create(name=f"Dr Surgeon {number}", code=f"surgeon-{number}")
        surgeon.sites.add(site)
        SurgeonHours.objects.bulk_create(
            SurgeonHours(
                surgeon=surgeon, weekday=weekday, opens=SURGEON_STARTS, closes=SURGEON_ENDS
            )
            for weekday in range(7)
        )
    procedure_type = ProcedureType.objects.create(
        code="vertebroplasty", name="Vertebroplasty", max_levels=3
    )
    StageTemplate.objects.bulk_create(
        StageTemplate.from_rules(procedure_type, VERTEBROPLASTY_RULES)
    )
    user = User.objects.create_user(username="frontdesk")
    user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
    site.staff.add(user)  # staff see and book only at their own sites
    token = Token.objects.create(user=user)
    return site, user, token


class Patients:
    """A new patient for every call: no MRN is used twice, nothing is deleted."""

    def __init__(self) -> None:
        self.number = 0

    def mrn(self) -> str:
        self.number += 1
        return f"BENCH-{self.number:06d}"

    def bare_payload(self) -> dict:
        return {
            "first_name": "Margaret",
            "last_name": "Whitfield",
            "date_of_birth": "1948-05-17",
            "mrn": self.mrn(),
        }

    def booking_payload(self, day: date) -> dict:
        # As tests/conftest.py case_payload: a new patient, no start, so the earliest free slot.
        return {
            "site": "main",
            "procedure_type": "vertebroplasty",
            "levels": 1,
            "date": day.isoformat(),
            "patient": {
                "first_name": "Margaret",
                "last_name": "Whitfield",
                "date_of_birth": "1948-05-17",
                "mrn": self.mrn(),
                "phone": "+1 212 555 0100",
                "email": "m.whitfield@example.org",
                "preferred_channel": "sms",
                "language": "en",
            },
            "driver": {"name": "Tom Whitfield", "phone": "(212) 555-0101"},
            "screening": dict(CLEAR_SCREENING),
            "medications": [],
        }


def checked(response, expected: int):
    if response.status_code != expected:
        body = response.content.decode(errors="replace")[:600]
        raise BenchError(f"expected HTTP {expected}, got {response.status_code}: {body}")
    return response


def measure(args) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from scheduling import selectors
    from scheduling.errors import SchedulingError
    from scheduling.models import Case, Patient
    from scheduling.screening import ScreeningAnswers
    from scheduling.services import case_book

    site, user, token = build_unit()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    patients = Patients()
    mondays = (FIRST_MONDAY + timedelta(weeks=n) for n in range(10_000))

    def measured_day(monday: date) -> date:
        return monday + timedelta(days=MEASURED_WEEKDAY)

    def timed(send, expected: int) -> float:
        """Milliseconds of one client call; only the call itself is inside the clock."""
        started = perf_counter()
        response = send()
        elapsed = (perf_counter() - started) * 1000
        checked(response, expected)
        return elapsed

    def bare() -> float:
        payload = patients.bare_payload()
        return timed(lambda: client.post(BARE_URL, payload, format="json"), 201)

    def book(day: date) -> float:
        payload = patients.booking_payload(day)
        return timed(lambda: client.post(CASES_URL, payload, format="json"), 201)

    def availability(day: date) -> float:
        query = {"site": "main", "procedure_type": "vertebroplasty", "date": day.isoformat(),
                 "levels": 1}
        return timed(lambda: client.get(AVAILABILITY_URL, query), 200)

    def queries(call) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            call()
        return [query["sql"] for query in captured.captured_queries]

    def side_by_side(empty_day, busy_day) -> tuple[list[float], list[float], list[float]]:
        """A bare insert, a booking in an empty week and one in the busy week, in every round,
        each going first in turn: the three share the machine's ups and downs."""
        bare_ms, book_0_ms, book_n_ms = [], [], []
        calls = [lambda: bare_ms.append(bare()),
                 lambda: book_0_ms.append(book(empty_day())),
                 lambda: book_n_ms.append(book(busy_day()))]
        gc.collect()
        for round_number in range(args.calls):
            shift = round_number % len(calls)
            for call in calls[shift:] + calls[:shift]:
                call()
        return bare_ms, book_0_ms, book_n_ms

    def cases_that_week(monday: date) -> int:
        sunday = monday + timedelta(days=6)
        return Case.objects.filter(site=site, day__gte=monday, day__lte=sunday).count()

    # Warm-up: imports, URL resolver, serializers and the connection, in a week of its own.
    warm = measured_day(next(mondays))
    for _ in range(args.warmup):
        bare()
        book(warm)
        availability(warm)

    # 0 cases that week: availability in an empty week, each timed booking in a week of its own.
    empty = next(mondays)
    avail_queries_0 = queries(lambda: availability(measured_day(empty)))
    gc.collect()
    avail_ms_0 = [availability(measured_day(empty)) for _ in range(args.calls)]
    if cases_that_week(empty):
        raise BenchError("the empty week is not empty")
    book_queries_0 = queries(lambda: book(measured_day(empty)))

    # `prior` cases that week, booked through the service, spread over the seven days.
    busy = next(mondays)
    procedure_type = selectors.procedure_type_get("vertebroplasty")
    for number in range(args.prior):
        patient = Patient.objects.create(
            first_name="Harold", last_name="Okonkwo", date_of_birth=date(1950, 1, 1),
            mrn=patients.mrn(), phone="+12125550100",
        )
        try:
            case_book(
                site=site, procedure_type=procedure_type, levels=1,
                day=busy + timedelta(days=number % 7), patient=patient,
                screening=ScreeningAnswers(**CLEAR_SCREENING), booked_by=user,
            )
        except SchedulingError as exc:
            raise BenchError(f"the unit is full after {number} cases: {exc}") from exc
    prior = cases_that_week(busy)
    day = measured_day(busy)
    prior_on_day = Case.objects.filter(site=site, day=day).count()
    avail_queries_n = queries(lambda: availability(day))
    gc.collect()
    avail_ms_n = [availability(day) for _ in range(args.calls)]
    book_queries_n = queries(lambda: book(day))
    bare_ms, book_ms_0, book_ms_n = side_by_side(lambda: measured_day(next(mondays)), lambda: day)
    after = Case.objects.filter(site=site, day=day).count()
    profile_days = (FIRST_MONDAY + timedelta(days=n) for n in range(args.profile))
    profile = profiled(lambda: book(next(profile_days)), args.profile)

    return {
        "empty_week": empty,
        "busy_week": busy,
        "prior": prior,
        "day": day,
        "prior_on_day": prior_on_day,
        "after_on_day": after,
        "bare": bare_ms,
        "book_0": book_ms_0,
        "avail_0": avail_ms_0,
        "book_n": book_ms_n,
        "avail_n": avail_ms_n,
        "book_queries_0": book_queries_0,
        "book_queries_n": book_queries_n,
        "avail_queries_0": avail_queries_0,
        "avail_queries_n": avail_queries_n,
        "profile": profile,
    }


def profiled(call, times: int) -> str:
    """The top of a cProfile of `times` calls, by cumulative and by own time ("" for none)."""
    if not times:
        return ""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(times):
        call()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    # By cumulative time, the project's own functions (the middleware and DRF wrap them all);
    # by own time, everything.
    stats.sort_stats("cumulative").print_stats(PROJECT_CODE, PROFILE_LINES)
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    return out.getvalue().replace(f"{ROOT}/", "")


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def print_report(r: dict, *, server: str, database: str, args) -> None:
    n = r["prior"]
    print(
        f"Vertebro booking benchmark: PostgreSQL {server}, "
        f"throwaway database {database} (dropped at the end)"
    )
    print(
        f"Unit: site \"main\" America/New_York, open Mon-Sun {OPENS:%H:%M}-{CLOSES:%H:%M}; "
        f"{ROOMS} procedure rooms, {PRE_OP_BAYS} pre-op bays, {RECOVERY_BAYS} recovery bays, "
        f"{SURGEONS} surgeons (Mon-Sun {SURGEON_STARTS:%H:%M}-{SURGEON_ENDS:%H:%M})."
    )
    print(
        "Vertebroplasty, 1 level: pre_op 60 (pre-op bay); procedure 60 +30/extra level "
        "(room, surgeon, turnover 15); cement_set 60 (room); recovery 120 (recovery bay)."
    )
    print(
        f"Clock pinned at {PINNED_NOW:%Y-%m-%d %H:%M} UTC (ticking). Each booking: a new patient, "
        "no start (earliest free slot)."
    )
    print(
        f"0 prior: each timed booking on the Wednesday of its own empty week (from "
        f"{r['empty_week'] + timedelta(weeks=1):%Y-%m-%d}); availability on Wed "
        f"{r['empty_week'] + timedelta(days=2):%Y-%m-%d}, an empty week."
    )
    print(
        f"{n} prior: booked through case_book over Mon {r['busy_week']:%Y-%m-%d} to Sun; timed "
        f"bookings and availability on Wed {r['day']:%Y-%m-%d}, which held {r['prior_on_day']} "
        f"cases before and {r['after_on_day']} after."
    )
    print(
        "Bare insert: DRF APIView, same APIClient, token and front_desk role check, one Patient "
        "row in transaction.atomic(), 201 JSON. Each round times a bare insert, a 0-prior and a "
        f"{n}-prior booking, each going first in turn."
    )
    print()

    rows = [
        ("bare insert", r["bare"], None),
        ("POST /api/v1/cases/, 0 prior", r["book_0"], r["bare"]),
        (f"POST /api/v1/cases/, {n} prior", r["book_n"], r["bare"]),
        ("GET /api/v1/availability/, 0 prior", r["avail_0"], None),
        (f"GET /api/v1/availability/, {n} prior", r["avail_n"], None),
    ]
    width = max(len(label) for label, _, _ in rows)
    print(f"{'call':<{width}}  {'n':>3}  {'median ms':>9}  {'p90 ms':>8}  {'x bare':>6}")
    for label, samples, bare in rows:
        ratio = f"{statistics.median(samples) / statistics.median(bare):.2f}" if bare else ""
        print(
            f"{label:<{width}}  {len(samples):>3}  {statistics.median(samples):>9.2f}  "
            f"{p90(samples):>8.2f}  {ratio:>6}"
        )
    print()

    qrows = [
        ("POST /api/v1/cases/", r["book_queries_0"], r["book_queries_n"]),
        ("GET /api/v1/availability/", r["avail_queries_0"], r["avail_queries_n"]),
    ]
    print(f"Statements of one booking (BEGIN and COMMIT included): {len(r['book_queries_n'])}")
    print(f"{'queries per call':<{width}}  {'0 prior':>7}  {f'{n} prior':>9}")
    for label, zero, many in qrows:
        same = "equal" if len(zero) == len(many) else "DIFFER"
        print(f"{label:<{width}}  {len(zero):>7}  {len(many):>9}  {same}")
    print()

    ratio_0 = statistics.median(r["book_0"]) / statistics.median(r["bare"])
    ratio_n = statistics.median(r["book_n"]) / statistics.median(r["bare"])
    growth = statistics.median(r["book_n"]) / statistics.median(r["book_0"])
    goals = [
        (
            "booking / bare insert, 0 prior", f"{ratio_0:.2f}x", f"<= {GOAL_X_BARE}x",
            ratio_0 <= GOAL_X_BARE,
        ),
        (
            f"booking / bare insert, {n} prior", f"{ratio_n:.2f}x", f"<= {GOAL_X_BARE}x",
            ratio_n <= GOAL_X_BARE,
        ),
        (
            f"booking {n} prior / booking 0 prior",
            f"{growth:.2f}x",
            f"no worse (<= {1 + NOISE:.2f}x)",
            growth <= 1 + NOISE,
        ),
        (
            f"queries, 0 prior vs {n} prior",
            "same" if all(len(a) == len(b) for _, a, b in qrows) else "differ",
            "same",
            all(len(a) == len(b) for _, a, b in qrows),
        ),
    ]
    print(f"{'goal':<{width}}  {'value':>7}  {'target':<24}  result")
    for label, value, target, met in goals:
        print(f"{label:<{width}}  {value:>7}  {target:<24}  {'met' if met else 'MISSED'}")
    print(
        f"Ratios are of medians, of calls timed in the same rounds; "
        f"\"no worse\" allows {NOISE:.0%} for run-to-run noise."
    )
    if r["profile"]:
        print()
        print(f"Profile of {args.profile} bookings, one a day from {FIRST_MONDAY:%-d %B %Y} "
              "(cProfile):")
        print(r["profile"])

    if args.sql:
        for title, sqls in [
            (f"Queries of one booking, {n} prior", r["book_queries_n"]),
            (f"Queries of one availability call, {n} prior", r["avail_queries_n"]),
        ]:
            print()
            print(f"{title}:")
            for number, sql in enumerate(sqls, 1):
                print(f"{number:>3}. {sql}")

    medians = [
        figure(f"POST /api/v1/cases/ median, {n} prior", statistics.median(r["book_n"]),
               unit=" ms"),
        figure(f"GET /api/v1/availability/ median, {n} prior", statistics.median(r["avail_n"]),
               unit=" ms"),
    ]
    emit("booking", medians + [
        figure(label, value, goal=target, met=met) for label, value, target, met in goals
    ])


if __name__ == "__main__":
    sys.exit(main())
