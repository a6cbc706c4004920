"""How availability, booking, the board, dispatch, the sweeper and reports fare as history grows.

Run from the project root:  .venv/bin/python bench/history.py  (see bench/README.md)

It prints figures; it is not a test. Twenty sites (three procedure rooms, three pre-op bays, six
recovery bays and three surgeons each, open every day) are measured with no history, then with
10,000 and with 200,000 past cases (six a day at each site, going back from yesterday, four
stages each, five messages each: 1,000,000 messages at the end, one in 50 not reached), made by
INSERT ... SELECT from generate_series in a few statements. At each level it times availability
and booking through the API (one site, future days), the day board's JSON, one claim of the
dispatcher (rolled back), the sweeper, the front desk's not-reached list, and every report of 52
weeks at all 20 sites; then the ratios of 200,000 cases to none against the goals. Last, the
EXPLAIN of every query those calls made that reads a history table without an index.

The clock is pinned at Monday 2 March 2026 (ticking). The run makes its own throwaway
PostgreSQL database and drops it at the end.
"""

import argparse
import logging
import re
import statistics
from datetime import UTC, date, datetime, timedelta
from time import perf_counter

from results import emit, figure
from throwaway import BenchError, bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
YESTERDAY = date(2026, 3, 1)
REPORT_START = YESTERDAY - timedelta(weeks=52) + timedelta(days=1)
BOARD_DAY = date(2026, 3, 4)  # the board and availability read the same future day each time
FIRST_BOOKING_DAY = date(2026, 3, 9)
ZONE_NAME = "America/New_York"
SITES, ROOMS, PRE_OP_BAYS, RECOVERY_BAYS, SURGEONS = 20, 3, 3, 6, 3
PER_DAY = 6  # history cases a day at each site: two waves of three rooms
LEVELS = (0, 10_000, 200_000)
WARMUP = 5  # untimed calls of each kind before the timed ones
# Tables that grow with history: a sequential scan of one of these reads every case ever booked.
HISTORY_TABLES = ("scheduling_case", "scheduling_stage", "notifications_reminder",
                  "scheduling_patient", "scheduling_painscore", "scheduling_caseevent")
SCREENING = {"active_infection": False, "fracture_painful": True, "bleeding_disorder": False,
             "tumor_in_canal": False, "cement_allergy": False, "traumatic": False,
             "conservative_treatment_weeks": 8, "imaging_on_file": True}

PATIENTS = """
INSERT INTO scheduling_patient (first_name, last_name, date_of_birth, mrn, phone, email,
    preferred_channel, language, created_at, allergy_contrast, allergy_latex, allergy_other)
SELECT 'Ada', 'History', date '1950-01-01', 'H-' || g, '+12125550100', '', 'sms', 'en', now(),
    false, false, ''
FROM generate_series(%(first)s, %(last)s) g
"""
# Case g: site g % 20, slot (g / 20) % 6 (wave slot / 3, room slot % 3), day yesterday - g / 120.
CASES = """
INSERT INTO scheduling_case (site_id, patient_id, procedure_type_id, levels, surgeon_id,
    surgeon_requested, status, day, arrival_at, procedure_start, fasting_solids_until,
    fasting_clear_liquids_until, driver_name, driver_phone, active_infection, fracture_painful,
    bleeding_disorder, tumor_in_canal, cement_allergy, traumatic, conservative_treatment_weeks,
    imaging_on_file, screening_override_reason, cancel_reason, created_at, updated_at,
    plan_version, family_code, link_nonce, other_medicines, takes_no_medicines, unit_will_call,
    confirmed_at)
SELECT s.id, p.id, %(procedure_type)s, 1, u.id, false,
    CASE WHEN g %% 15 = 7 THEN 'cancelled' ELSE 'discharged' END, h.day,
    h.start - interval '90 min', h.start, h.start - interval '8 hours',
    h.start - interval '2 hours', 'H' || g, '+12125550101', false, true, false, false, false,
    false, 8, true, '', '', h.start - interval '14 days', h.start, 1, '', 0, '', true, false,
    h.start - interval '20 hours'
FROM generate_series(%(first)s, %(last)s) g
CROSS JOIN LATERAL (SELECT %(yesterday)s::date - g / 120 AS day) d
CROSS JOIN LATERAL (SELECT d.day,
    (d.day + time '08:00' + ((g / 20) %% 6 / 3) * interval '135 min')
        AT TIME ZONE %(zone)s AS start) h
JOIN scheduling_patient p ON p.mrn = 'H-' || g
JOIN bench_site s ON s.number = g %% 20
JOIN bench_surgeon u ON u.site_number = g %% 20 AND u.number = (g / 20) %% 3
"""
HISTORY = """
CREATE TEMP TABLE bench_history AS
SELECT c.id, substr(c.driver_name, 2)::int AS g, c.site_id, c.procedure_start AS start,
    c.status = 'discharged' AS ran, c.surgeon_id
FROM scheduling_case c WHERE c.driver_name LIKE 'H%%' AND c.id > %(after)s
"""
STAGES = """
INSERT INTO scheduling_stage (case_id, position, kind, resource_id, surgeon_id, planned_start,
    planned_end, held_until, actual_start, actual_end, active)
SELECT h.id, k.position, k.kind, r.id, CASE WHEN k.kind = 'procedure' THEN h.surgeon_id END,
    h.start + k.begins * interval '1 min', h.start + k.ends * interval '1 min',
    h.start + (k.ends + k.turnover) * interval '1 min',
    CASE WHEN h.ran THEN h.start + (k.begins + h.g %% 4 * 4) * interval '1 min' END,
    CASE WHEN h.ran THEN h.start + (k.ends + h.g %% 4 * 4 + h.g %% 3 * 5 - 5)
        * interval '1 min' END,
    h.ran
FROM bench_history h
CROSS JOIN (VALUES (0, 'pre_op', 'pre_op_bay', -60, 0, 0),
                   (1, 'procedure', 'procedure_room', 0, 60, 0),
                   (2, 'cement_set', 'procedure_room', 60, 120, 15),
                   (3, 'recovery', 'recovery_bay', 120, 240, 0))
    AS k(position, kind, resource_kind, begins, ends, turnover)
JOIN bench_resource r ON r.site_id = h.site_id AND r.kind = k.resource_kind
    AND r.number = CASE WHEN k.resource_kind = 'recovery_bay' THEN (h.g / 20) %% 6
                        ELSE (h.g / 20) %% 3 END
"""
# Five messages a case; one in 50 failed (half of those already handled by the front desk).
REMINDERS = """
INSERT INTO notifications_reminder (case_id, rule_id, kind, audience, channel, recipient,
    drug_code, note, plan_version, due_at, send_by, status, attempts, provider_message_id, error,
    late, created_at, sent_at, handled_at)
SELECT h.id, m.rule_id, m.kind, 'patient', 'sms', '+12125550100', '', m.note, 1, m.due,
    m.due + interval '12 hours', m.status, 1, '', '', false, m.due,
    CASE WHEN m.status IN ('sent', 'delivered') THEN m.due END,
    CASE WHEN m.status = 'failed' AND h.g %% 2 = 0 THEN m.due + interval '1 hour' END
FROM bench_history h
CROSS JOIN LATERAL (
    SELECT n.rule_id, n.kind, n.note, h.start + n.offset_minutes * interval '1 min' AS due,
        CASE WHEN NOT h.ran AND n.offset_minutes > -20000 THEN 'cancelled'
             WHEN (h.g + n.position) %% 50 = 0 THEN 'failed'
             WHEN n.position %% 2 = 0 THEN 'delivered' ELSE 'sent' END AS status
    FROM bench_message n
) m
"""
PAIN_SCORES = """
INSERT INTO scheduling_painscore (case_id, followup_day, score, received_at, source, sms_id)
SELECT h.id, f.day, (h.g + coalesce(f.day, 0)) %% 11, h.start + coalesce(f.day, 0)
    * interval '1 day', 'sms', ''
FROM bench_history h CROSS JOIN (VALUES (NULL::int), (1), (7)) AS f(day)
WHERE h.ran AND (f.day IS NULL OR h.g %% 3 > 0)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15, help="timed calls per figure (15)")
    parser.add_argument("--cases", type=int, default=LEVELS[-1],
                        help="cases of history at the last level (200,000)")
    args = parser.parse_args(argv)
    levels = sorted({0, min(LEVELS[1], args.cases), args.cases})
    with bench_database("history", DEFAULT_DATABASE_URL) as (server, database):
        import time_machine

        logging.disable(logging.INFO)
        with time_machine.travel(NOW, tick=True):
            rows, plans, built = measure(args, levels)
    report(rows, plans, built, server=server, database=database, calls=args.calls)
    return 0


def report(rows: list[dict], plans: dict[str, str], built: dict, *, server: str, database: str,
           calls: int) -> None:
    print(f"PostgreSQL {server}, database {database}; {SITES} sites, median of {calls} calls")
    for level, seconds in built.items():
        print(f"  {level:,} cases of history built in {seconds:.0f} s")
    names = [name for name in rows[0] if name not in ("cases", "reminders")]
    print(f"\n{'history':>9} {'messages':>10} " + " ".join(f"{name:>14}" for name in names))
    for row in rows:
        print(f"{row['cases']:>9,} {row['reminders']:>10,} "
              + " ".join(f"{row[name]:>12.1f}ms" for name in names))
    first, last = rows[0], rows[-1]
    goals = {"availability": 1.1, "booking": 1.1, "board": 1.1, "claim": 1.5, "sweeper": 1.5,
             "not reached": 1.5}
    figures = []
    print(f"\n{'ratio':<14}{last['cases']:,} / 0   goal")
    for name in names:
        ratio = round(last[name] / first[name], 2) if first[name] else None
        goal = goals.get(name)
        met = ratio is not None and goal is not None and ratio <= goal
        shown = f"<= {goal}x" if goal else ""
        print(f"{name:<14}{ratio!s:>10}   {shown}")
        figures.append(figure(f"{name} at {last['cases']:,}", round(last[name], 1), unit="ms"))
        if goal:
            figures.append(figure(f"{name} ratio {last['cases']:,} / 0", ratio,
                                  goal=f"<= {goal}", met=met))
    reports_s = last["reports"] / 1000
    print(f"reports, 52 weeks x {SITES} sites: {reports_s:.2f} s (goal <= 2 s)")
    figures.append(figure(f"reports 52 weeks x {SITES} sites", round(reports_s, 2), unit="s",
                          goal="<= 2", met=reports_s <= 2))
    if plans:
        print("\nQueries that read a history table without an index (EXPLAIN):")
        for name, plan in plans.items():
            print(f"\n-- {name}\n{plan}")
    else:
        print("\nEvery query of the measured calls reads the history tables through an index.")
    figures.append(figure("queries scanning a history table", len(plans), goal="0",
                          met=not plans))
    emit("history", figures, levels=rows)


def measure(args, levels: list[int]) -> tuple[list[dict], dict[str, str], dict]:
    from django.db import connection

    from notifications.models import Reminder

    unit = Unit.build()
    unit.book_board_day()
    rows, built, made = [], {}, 0
    for level in levels:
        if level > made:
            started = perf_counter()
            history_made(unit, made, level)
            built[level] = perf_counter() - started
            made = level
        with connection.cursor() as cursor:
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # lets an index answer alone.
            cursor.execute("VACUUM ANALYZE")
        row = {"cases": level, "reminders": Reminder.objects.count()}
        row.update(unit.timings(args.calls, len(rows)))
        rows.append(row)
    return rows, unit.scans(), built


def history_made(unit: "Unit", first: int, last: int) -> None:
    """Cases first .. last - 1 of the history, with their stages, messages and pain scores."""
    from django.db import connection

    values = {"first": first, "last": last - 1, "yesterday": YESTERDAY.isoformat(),
              "zone": ZONE_NAME, "procedure_type": unit.procedure_type.pk}
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM scheduling_case")
        after = cursor.fetchone()[0]
        cursor.execute(PATIENTS, values)
        cursor.execute(CASES, values)
        cursor.execute("DROP TABLE IF EXISTS bench_history")
        cursor.execute(HISTORY, {"after": after})
        for statement in (STAGES, REMINDERS, PAIN_SCORES):
            cursor.execute(statement, {})


class Unit:
    """The twenty sites, the API clients, and the calls that are timed."""

    def __init__(self, *, sites, procedure_type, client) -> None:
        self.sites = sites
        self.procedure_type = procedure_type
        self.client = client
        self.patients = 0
        self.captured: dict[str, list[str]] = {}

    @classmethod
    def build(cls) -> "Unit":
        from django.contrib.auth.models import Group, User
        from django.db import connection
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIClient

        from notifications.models import ReminderRule
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

        procedure_type = ProcedureType.objects.create(
            code="vertebroplasty", name="Vertebroplasty", max_levels=3)
        StageTemplate.objects.bulk_create(
            StageTemplate.from_rules(procedure_type, VERTEBROPLASTY_RULES))
        user = User.objects.create_user(username="frontdesk")
        user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
        sites = []
        with connection.cursor() as cursor:
            for table in ("bench_site (number int, id bigint)",
                          "bench_resource (site_id bigint, kind text, number int, id bigint)",
                          "bench_surgeon (site_number int, number int, id bigint)",
                          "bench_message (position int, rule_id bigint, kind text, note text,"
                          " offset_minutes int)"):
                cursor.execute(f"CREATE TABLE {table}")
            for number in range(SITES):
                site = Site.objects.create(code=f"h{number:02d}", name=f"History Unit {number}",
                                           time_zone=ZONE_NAME, phone="+12125550142")
                site.staff.add(user)
                sites.append(site)
                cursor.execute("INSERT INTO bench_site VALUES (%s, %s)", [number, site.pk])
                OpeningHours.objects.bulk_create(
                    OpeningHours(site=site, weekday=weekday, opens="06:30", closes="18:00")
                    for weekday in range(7))
                for kind, count in (("procedure_room", ROOMS), ("pre_op_bay", PRE_OP_BAYS),
                                    ("recovery_bay", RECOVERY_BAYS)):
                    for index in range(count):
                        resource = Resource.objects.create(
                            site=site, kind=kind, name=f"{kind} {index + 1}")
                        cursor.execute("INSERT INTO bench_resource VALUES (%s, %s, %s, %s)",
                                       [site.pk, kind, index, resource.pk])
                for index in range(SURGEONS):
                    surgeon = Surgeon.objects.create(name=f"Dr Surgeon {number}-{index}",
                                                     code=f"surgeon-{number}-{index}")
                    surgeon.sites.add(site)
                    SurgeonHours.objects.bulk_create(
                        SurgeonHours(surgeon=surgeon, weekday=weekday, opens="07:30",
                                     closes="16:00")
                        for weekday in range(7))
                    cursor.execute("INSERT INTO bench_surgeon VALUES (%s, %s, %s)",
                                   [number, index, surgeon.pk])
            # (kind, note, minutes from the procedure start): before, on the day, after
            for position, (kind, note, offset) in enumerate([
                ("confirmation", "", -14 * 24 * 60), ("arrival", "", -20 * 60),
                ("aftercare", "", 5 * 60), ("pain_ask", "day:1", 24 * 60),
                ("pain_ask", "day:7", 7 * 24 * 60),
            ]):
                rule = ReminderRule.objects.filter(kind=kind).order_by("pk").last()
                cursor.execute("INSERT INTO bench_message VALUES (%s, %s, %s, %s, %s)",
                               [position, rule.pk, kind, note, offset])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return cls(sites=sites, procedure_type=procedure_type, client=client)

    def booking_payload(self, day: date) -> dict:
        self.patients += 1
        return {
            "site": self.sites[0].code, "procedure_type": "vertebroplasty", "levels": 1,
            "date": day.isoformat(),
            "patient": {"first_name": "Margaret", "last_name": "Whitfield",
                        "date_of_birth": "1948-05-17", "mrn": f"BENCH-{self.patients:06d}",
                        "phone": "+1 212 555 0100", "email": "m.whitfield@example.org",
                        "preferred_channel": "sms", "language": "en"},
            "driver": {"name": "Tom Whitfield", "phone": "(212) 555-0101"},
            "screening": dict(SCREENING), "medications": [],
        }

    def book(self, day: date):
        return checked(self.client.post("/api/v1/cases/", self.booking_payload(day),
                                         format="json"), 201)

    def book_board_day(self) -> None:
        """Six cases on the day the board and availability read: the same day every time."""
        for _ in range(PER_DAY):
            self.book(BOARD_DAY)

    def calls(self, round_number: int) -> dict:
        from django.db import transaction
        from django.utils import timezone

        from notifications.dispatch import reminders_claim, reminders_sweep
        from notifications.selectors import reminders_not_reached
        from scheduling import reports

        site = self.sites[0]
        days = iter(FIRST_BOOKING_DAY + timedelta(days=7 * round_number + n // 4)
                    for n in range(10_000))
        period = reports.Period(REPORT_START, YESTERDAY, site.zone)

        def claim():
            with transaction.atomic():
                reminders_claim(now=timezone.now())
                transaction.set_rollback(True)

        def every_report():
            # As the reports page asks: every report of the site at once.
            for each in self.sites:
                reports.reports_get(site=each, period=period)

        query = {"site": site.code, "date": BOARD_DAY.isoformat()}
        return {
            "availability": lambda: checked(self.client.get(
                "/api/v1/availability/", {**query, "procedure_type": "vertebroplasty",
                                          "levels": 1}), 200),
            "booking": lambda: self.book(next(days)),
            "board": lambda: checked(self.client.get("/api/v1/board/", query), 200),
            "claim": claim,
            "sweeper": lambda: reminders_sweep(now=timezone.now()),
            "not reached": lambda: list(reminders_not_reached(site=site, now=timezone.now())),
            "reports": every_report,
        }

    def timings(self, calls: int, round_number: int) -> dict[str, float]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.due_messages_made()
        result = {}
        for name, call in self.calls(round_number).items():
            repeat = 3 if name == "reports" else calls
            for _ in range(1 if name == "reports" else WARMUP):
                call()  # imports, caches and the connection: not what history costs
            with CaptureQueriesContext(connection) as captured:
                call()  # gives the queries to explain
            self.captured[name] = [query["sql"] for query in captured.captured_queries]
            times = []
            for _ in range(repeat):
                started = perf_counter()
                call()
                times.append((perf_counter() - started) * 1000)
            result[name] = statistics.median(times)
        return result

    def due_messages_made(self) -> None:
        """Forty messages due now on the board day's cases: what one claim takes (rolled back)."""
        from django.db import connection
        from django.utils import timezone

        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO notifications_reminder (case_id, rule_id, kind, audience, channel,"
                " recipient, drug_code, note, plan_version, due_at, send_by, status, attempts,"
                " provider_message_id, error, late, created_at)"
                " SELECT c.id, r.rule_id, r.kind, 'patient', 'sms', '+12125550100', '',"
                " 'due-' || g, 1, %(now)s, %(now)s, 'planned', 0, '', '', false, %(now)s"
                " FROM scheduling_case c CROSS JOIN generate_series(1, 40) g"
                " JOIN bench_message r ON r.position = 0"
                " WHERE c.day = %(day)s AND c.id = (SELECT min(id) FROM scheduling_case"
                " WHERE day = %(day)s) ON CONFLICT DO NOTHING",
                {"now": timezone.now() - timedelta(minutes=1), "day": BOARD_DAY})

    def scans(self) -> dict[str, str]:
        """The EXPLAIN of each captured query that reads a history table by a sequential scan."""
        from django.db import connection

        plans = {}
        with connection.cursor() as cursor:
            for name, queries in self.captured.items():
                for number, sql in enumerate(queries):
                    if not re.match(r"\s*(SELECT|UPDATE|DELETE)", sql, re.IGNORECASE):
                        continue
                    cursor.execute("EXPLAIN " + sql)
                    plan = "\n".join(line for (line,) in cursor.fetchall())
                    if any(re.search(rf"Seq Scan on {table}\b", plan)
                           for table in HISTORY_TABLES):
                        plans[f"{name}, query {number + 1}: {sql[:160]}..."] = plan
        return plans


def checked(response, expected: int):
    if response.status_code != expected:
        body = response.content.decode(errors="replace")[:600]
        raise BenchError(f"expected HTTP {expected}, got {response.status_code}: {body}")
    return response


if __name__ == "__main__":
    raise SystemExit(main())
