"""Fifty clerks and twenty board viewers against gunicorn on PostgreSQL: rates, latencies, 5xx and
double bookings.

Run from the project root:  .venv/bin/python bench/load.py  (see bench/README.md)

It prints figures; it is not a test. Goals from the issue: no 5xx, and no two active stages
holding one room or bay at once at the end (one SQL query over the cases' stages).

The run starts its own PostgreSQL cluster on a spare port (bench/services.py), migrates it, seeds
a unit wide enough for a week of bookings (bench/wide_unit.py) with one front-desk user per clerk
and one nurse per viewer, and serves it with gunicorn on 127.0.0.1 (DEBUG off). Clerk threads
(requests.Session, API token) book, reschedule and cancel over the next seven days, each booking
or reschedule picking one of the first free starts the availability call offers, so clerks race
for the same slots: a 409 `slot_taken` is a normal answer, counted apart from errors. Viewer
threads log in like a browser and poll the board JSON and the fragment the board page refreshes,
reloading the whole page now and then. Everything is stopped and removed at the end.
"""

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from results import emit, figure
from services import ServiceError, free_port, run_privately
from wide_unit import SITE, Desk, clerk, private_database, staff_create, unit_build, viewer

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ZONE = "America/New_York"
DAYS = 7
TIMEOUT = 60

# One query: pairs of stages of active cases that hold one room or bay over overlapping
# [planned_start, held_until) ranges, the same half-open ranges the exclusion constraint of
# migration 0002 compares. It reads the cases' status rather than the stages' own `active`
# flag, so it would also catch a stage left holding nothing for a case still booked.
OVERLAPS_SQL = """
SELECT count(*)
FROM scheduling_stage a
JOIN scheduling_case ca ON ca.id = a.case_id
JOIN scheduling_stage b
  ON b.resource_id = a.resource_id AND b.id > a.id
 AND tstzrange(a.planned_start, a.held_until, '[)')
     && tstzrange(b.planned_start, b.held_until, '[)')
JOIN scheduling_case cb ON cb.id = b.case_id
WHERE ca.status <> ALL(%(released)s) AND cb.status <> ALL(%(released)s)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, help="seconds of load (default 300)")
    parser.add_argument("--quick", action="store_true", help="30 seconds")
    parser.add_argument("--clerks", type=int, default=50, help="clerk threads (50)")
    parser.add_argument("--viewers", type=int, default=20, help="board viewer threads (20)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn worker processes (2 x CPUs + 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1, as deploy/gunicorn.conf.py)")
    parser.add_argument("--mix", default="60/25/15", help="book/reschedule/cancel (60/25/15)")
    parser.add_argument("--shared", type=float, default=0.1,
                        help="share of reschedules and cancels of a colleague's case (0.1)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="a clerk's mean pause between actions, seconds (1.0)")
    parser.add_argument("--poll", type=float, default=5.0, help="board poll period, seconds (5)")
    parser.add_argument("--cases-a-day", type=int, default=150,
                        help="cases a day the unit can hold (150)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--keep", action="store_true", help="keep the server's log; print where")
    args = parser.parse_args(argv)
    args.duration = args.duration or (30.0 if args.quick else 300.0)
    try:
        args.mix = [float(part) for part in args.mix.split("/")]
        assert len(args.mix) == 3
        assert sum(args.mix) > 0
    except (ValueError, AssertionError):
        parser.error("--mix takes three numbers, e.g. 60/25/15")

    return run_privately(lambda stack, tmp: measure(args, stack, tmp), prefix="vertebro-load-",
                         report=lambda figures: print_report(figures, args), keep=args.keep)


def measure(args, stack, tmp: Path) -> dict:
    url = private_database(stack, "vertebro_load").url("vertebro_load")
    setup = seed(args)
    server = Gunicorn(url, args, tmp)
    stack.callback(server.stop)
    server.start(setup["clerks"][0][1])
    stats = Stats()
    load_before = os.getloadavg()
    seconds = run_load(args, server.base, setup, stats)
    load_after = os.getloadavg()
    server.stop()
    return {
        "seconds": seconds,
        "stats": stats,
        "database": database_figures(),
        "load": (load_before[0], load_after[0]),
        "server_log": server.log_tail() if stats.server_errors() else "",
    }


def seed(args) -> dict:
    site = unit_build(cases_a_day=args.cases_a_day, zone=ZONE, code=SITE)
    tomorrow = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1)
    return {
        "clerks": staff_create(site, role="front_desk", count=args.clerks, prefix="clerk"),
        "viewers": staff_create(site, role="nurse", count=args.viewers, prefix="nurse"),
        "days": [(tomorrow + timedelta(days=n)).isoformat() for n in range(DAYS)],
    }


class Gunicorn:
    def __init__(self, database_url: str, args, tmp: Path) -> None:
        self.database_url = database_url
        self.args = args
        self.log = tmp / "gunicorn.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, token: str) -> "Gunicorn":
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "ERROR",  # the tracebacks of any 5xx, nothing per request
            # The production configuration, on this run's port and with this run's sizes.
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.args.workers),
            "GUNICORN_THREADS": str(self.args.threads),
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_ACCESS_LOG": "",
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"gunicorn exited with {self.process.returncode}\n"
                                 f"{self.log_tail()}")
            try:
                answer = requests.get(f"{self.base}/api/v1/sites/", timeout=5,
                                      headers={"Authorization": f"Token {token}"})
                if answer.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise ServiceError(f"gunicorn did not answer within 90 s\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        """The end of the server's log without the one-line warnings of 4xx answers."""
        if not self.log.exists():
            return ""
        lines = [line for line in self.log.read_text(errors="replace").splitlines()
                 if " WARNING django.request " not in line]
        return "\n".join(lines[-80:])


class Stats:
    """Every timed request by endpoint: latencies, statuses, the codes of 4xx answers, and
    requests that got no answer at all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.codes = defaultdict(Counter)
        self.failures = defaultdict(Counter)
        self.outcomes = Counter()

    def call(self, session, endpoint: str, method: str, url: str, **kwargs):
        started = time.perf_counter()
        try:
            answer = session.request(method, url, timeout=TIMEOUT, allow_redirects=False,
                                     **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.failures[endpoint][f"{type(exc).__name__} {str(exc)[:100]}"] += 1
            return None
        ms = (time.perf_counter() - started) * 1000
        code = None
        if 400 <= answer.status_code < 500:
            with contextlib.suppress(ValueError):
                code = answer.json().get("code")
            code = code or str(answer.status_code)
        with self.lock:
            self.latencies[endpoint].append(ms)
            self.statuses[endpoint][answer.status_code // 100] += 1
            if code:
                self.codes[endpoint][code] += 1
        return answer

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def server_errors(self) -> int:
        return sum(counts[5] for counts in self.statuses.values())

    def failed(self) -> int:
        return sum(sum(counts.values()) for counts in self.failures.values())


def run_load(args, base: str, setup: dict, stats: Stats) -> float:
    """Seconds from the first thread's start to the last answer: requests still in flight when
    the time is up are waited for and counted."""
    stop = threading.Event()
    desk = Desk()
    threads = [
        threading.Thread(target=clerk, daemon=True,
                         args=(n, token, base, setup["days"], stats, stop, args, desk))
        for n, (_, token) in enumerate(setup["clerks"])
    ] + [
        threading.Thread(target=viewer, daemon=True,
                         args=(n, username, base, setup["days"], stats, stop, args))
        for n, (username, _) in enumerate(setup["viewers"])
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    return time.monotonic() - started


def database_figures() -> dict:
    from django.db import connection

    from scheduling.models import RELEASED_STATUSES, Case

    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL, {"released": [str(status) for status in RELEASED_STATUSES]})
        overlaps = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    active = Case.objects.exclude(status__in=RELEASED_STATUSES).count()
    return {"overlaps": overlaps, "server": server, "active_cases": active,
            "cases": Case.objects.count()}


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def print_report(report: dict, args) -> None:
    stats, seconds, db = report["stats"], report["seconds"], report["database"]
    endpoints = sorted(set(stats.latencies) | set(stats.failures))
    rows, result_endpoints = [], {}
    for endpoint in endpoints:
        latencies = stats.latencies.get(endpoint, [])
        p50, p95, p99 = percentiles(latencies)
        count = len(latencies)
        server_errors = stats.statuses[endpoint][5]
        no_answer = sum(stats.failures[endpoint].values())
        rows.append((endpoint, count, count / seconds, p50, p95, p99,
                     stats.statuses[endpoint][4], server_errors, no_answer))
        result_endpoints[endpoint] = {
            "requests": count, "rps": round(count / seconds, 2), "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1), "p99_ms": round(p99, 1),
            "4xx": dict(stats.codes[endpoint]), "5xx": server_errors, "no_answer": no_answer,
        }
    total = sum(len(values) for values in stats.latencies.values())
    print(f"Load bench: gunicorn with deploy/gunicorn.conf.py ({args.workers} workers x "
          f"{args.threads} threads) on "
          f"PostgreSQL {db['server']} (private cluster), {args.clerks} clerks (mix "
          f"{'/'.join(f'{share:g}' for share in args.mix)} book/reschedule/cancel, mean pause "
          f"{args.think:g} s) and {args.viewers} board viewers (poll every ~{args.poll:g} s) for "
          f"{seconds:.0f} s.")
    print(f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs shared with the load "
          f"generator; load average {report['load'][0]:.2f} before, {report['load'][1]:.2f} "
          f"after.")
    print()
    width = max(len(row[0]) for row in rows)
    print(f"{'endpoint':<{width}}  {'requests':>8}  {'req/s':>6}  {'p50 ms':>7}  {'p95 ms':>7}  "
          f"{'p99 ms':>7}  {'4xx':>5}  {'5xx':>4}  {'no answer':>9}")
    for endpoint, count, rate, p50, p95, p99, client, server, none in rows:
        print(f"{endpoint:<{width}}  {count:>8}  {rate:>6.1f}  {p50:>7.0f}  {p95:>7.0f}  "
              f"{p99:>7.0f}  {client:>5}  {server:>4}  {none:>9}")
    print(f"{'all':<{width}}  {total:>8}  {total / seconds:>6.1f}")
    print()
    for endpoint in endpoints:
        if stats.codes[endpoint]:
            codes = ", ".join(f"{code} {n}" for code, n in stats.codes[endpoint].most_common())
            print(f"4xx of {endpoint}: {codes}")
        if stats.failures[endpoint]:
            kinds = ", ".join(f"{kind} {n}" for kind, n in stats.failures[endpoint].most_common())
            print(f"No answer to {endpoint} (client gives up after {TIMEOUT} s): {kinds}")
    outcomes = stats.outcomes
    print(f"Clerks: {outcomes['booked']} booked, {outcomes['rescheduled']} rescheduled, "
          f"{outcomes['cancelled']} cancelled; {db['active_cases']} active cases of "
          f"{db['cases']} at the end.")
    if outcomes["viewer_login_failed"]:
        print(f"Viewers who could not log in: {outcomes['viewer_login_failed']}")
    server_errors = stats.server_errors()
    print(f"5xx answers: {server_errors} (goal 0): {'met' if server_errors == 0 else 'MISSED'}; "
          f"requests with no answer: {stats.failed()}")
    print(f"Overlapping active stages (one SQL query): {db['overlaps']} (goal 0): "
          f"{'met' if db['overlaps'] == 0 else 'MISSED'}")
    if report["server_log"]:
        print("\nServer log (tail):\n" + report["server_log"])
    booking = result_endpoints.get("POST cases/", {})
    board = result_endpoints.get("GET api/v1/board/", {})
    emit("load.py", [
        figure("requests per second, all endpoints", round(total / seconds, 1), unit="req/s"),
        figure("booking p50 / p95", f"{booking.get('p50_ms', 0):.0f} / "
               f"{booking.get('p95_ms', 0):.0f}", unit="ms"),
        figure("board JSON p50 / p95", f"{board.get('p50_ms', 0):.0f} / "
               f"{board.get('p95_ms', 0):.0f}", unit="ms"),
        figure("5xx answers", server_errors, goal="0", met=server_errors == 0),
        figure("overlapping active stages", db["overlaps"], goal="0", met=db["overlaps"] == 0),
        figure("requests with no answer in 60 s", stats.failed()),
    ], seconds=round(seconds, 1), clerks=args.clerks, viewers=args.viewers,
        booked=outcomes["booked"], rescheduled=outcomes["rescheduled"],
        cancelled=outcomes["cancelled"], endpoints=result_endpoints)


if __name__ == "__main__":
    sys.exit(main())
