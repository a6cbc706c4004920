"""How fast one real worker sends due reminders, beside a no-op Celery task on the same worker.

Run from the project root:  .venv/bin/python bench/dispatch.py  (see bench/README.md)

It prints figures; it is not a test. One `celery worker --concurrency 2` on Redis and
PostgreSQL runs the real dispatch path (claim, re-check, render, send, record) for 10,000 due
reminders, sending through the recording backend (one JSON line per send to a file, no delay).
The same worker, on the same broker, also runs a task that does nothing. The goal: reminders per
second at least 0.6 times no-op tasks per second. Also printed: the worker's peak memory, the sum
of VmRSS over its process tree (parent and pool), sampled every 50 ms, and the statements a
reminder costs in a full batch (claim, case locks and re-check shared by the batch; BEGIN and
COMMIT counted).

Both rates are measured on work already waiting: the reminders are rows before the dispatcher is
enqueued, and the no-op tasks sit in a queue the worker starts consuming (remote control
`add_consumer`) when the clock starts. The run makes its own throwaway PostgreSQL database (as
bench/booking.py does) and flushes its own Redis database (default /6) at the start.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from results import emit, figure
from throwaway import BenchError, bench_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/6"
RECORDING = "notifications.backends.recording.RecordingBackend"
DISPATCH_TASK = "notifications.tasks.dispatch_due_reminders"
NOOP_TASK = "bench.noop"
NOOP_QUEUE = "bench_noop"
WORKER_NAME = f"bench@{socket.gethostname()}"
GOAL = 0.6
WARMUP = 100
BATCH = 20  # notifications.dispatch.BATCH, for the report (this process imports Django late)
DEADLINE = 900  # seconds, for either phase


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000, help="due reminders (10,000)")
    parser.add_argument("--noops", type=int, default=10_000, help="no-op tasks (10,000)")
    parser.add_argument("--cases", type=int, default=200, help="cases they belong to (200)")
    parser.add_argument("--broker", default=DEFAULT_BROKER_URL,
                        help=f"Redis URL, flushed first (default {DEFAULT_BROKER_URL})")
    args = parser.parse_args(argv)
    if not args.broker.startswith("redis://"):
        print("bench/dispatch.py measures Redis only: --broker redis://...", file=sys.stderr)
        return 2

    with (
        bench_database("dispatch", DEFAULT_DATABASE_URL) as (_, test_name),
        tempfile.TemporaryDirectory(prefix="vertebro-bench-") as tmp,
    ):
        report = run(args, Path(tmp))
    print_report(report, args=args, database=test_name)
    return 0


def run(args, tmp: Path) -> dict:
    import redis
    from celery import Celery

    broker = redis.Redis.from_url(args.broker)
    try:
        broker.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {args.broker} cannot be reached: {exc}") from None
    # Celery prefers CELERY_BROKER_URL from the environment over the broker an app is given.
    os.environ["CELERY_BROKER_URL"] = args.broker
    app = Celery("vertebro-bench", broker=args.broker, set_as_current=False)
    record_file = tmp / "sent.jsonl"
    worker = start_worker(args.broker, record_file, tmp / "worker.log")
    memory = MemorySampler(worker.pid)
    memory.start()
    load_before = os.getloadavg()
    try:
        wait_for_worker(app, worker)
        # Warm up both paths: imports, templates, the pool's database connections.
        noop_rate(app, broker, 200)
        make_due_reminders(WARMUP, cases=10)
        dispatch_rate(app, broker)
        noops = noop_rate(app, broker, args.noops)
        make_due_reminders(args.reminders, cases=args.cases)
        reminders = dispatch_rate(app, broker)
        reminders["statements_per_send"] = statements_per_send(record_file)
        reminders["commit_ms"] = durable_commit_ms()
    except BenchError as exc:
        raise BenchError(f"{exc}\n{log_tail(tmp / 'worker.log')}") from None
    finally:
        memory.stop()
        stop_worker(worker)
        app.close()
    sends = [json.loads(line) for line in record_file.read_text().splitlines()]
    ids = [line["reminder_id"] for line in sends]
    return {
        "noops": noops,
        "reminders": reminders,
        "peak_rss": memory.peak,
        "processes": memory.processes,
        "sends": len(ids),
        "distinct": len(set(ids)),
        "load": (load_before, os.getloadavg()),
    }


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}{port}/{db['NAME']}"


def start_worker(broker_url: str, record_file: Path, log_file: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "NOTIFICATIONS_SMS_BACKEND": RECORDING,
        "NOTIFICATIONS_EMAIL_BACKEND": RECORDING,
        "VERTEBRO_RECORD_FILE": str(record_file),
        "VERTEBRO_RECORD_DELAY_MS": "0",
        "DJANGO_DEBUG": "false",  # as in production: no query log in the worker
        "LOG_LEVEL": "WARNING",
    }
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "vertebro_site", "worker", "--concurrency", "2",
             "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
             "-I", "bench.noop_tasks", "-n", WORKER_NAME],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    # The pool's database connections must be gone before the database is dropped.
    from django.db import connection

    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


def wait_for_worker(app, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise BenchError(f"the worker exited with {worker.returncode}")
        if app.control.ping(destination=[WORKER_NAME], timeout=0.5):
            return
    raise BenchError("the worker did not answer a ping within 60 s")


def log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class MemorySampler(threading.Thread):
    """Peak of the summed VmRSS of every live process in the worker's process group."""

    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid = pgid
        self.peak = 0
        self.processes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.05):
            total, count = 0, 0
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[2]) != self.pgid:
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                            count += 1
                except (OSError, IndexError, ValueError):
                    continue
            if total > self.peak:
                self.peak, self.processes = total, count

    def stop(self) -> None:
        self._halt.set()
        self.join()


def make_due_reminders(count: int, *, cases: int) -> None:
    """`count` English confirmation SMS due a minute ago, spread over `cases` booked cases."""
    from notifications.models import Reminder, ReminderRule
    from scheduling.models import Case, Patient, ProcedureType, Site

    site, _ = Site.objects.get_or_create(
        code="main",
        defaults={"name": "Riverside Spine Center", "time_zone": "America/New_York",
                  "phone": "+12125550142"},
    )
    procedure_type, _ = ProcedureType.objects.get_or_create(
        code="vertebroplasty", defaults={"name": "Vertebroplasty", "max_levels": 3}
    )
    rule = ReminderRule.objects.get(kind="confirmation", audience="patient")  # seeded
    first = Patient.objects.count()
    patients = Patient.objects.bulk_create(
        Patient(first_name="Margaret", last_name=f"Bench{n}", date_of_birth=date(1948, 5, 17),
                mrn=f"BENCH{n:06d}", phone="+12125550100", language="en",
                preferred_channel="sms")
        for n in range(first, first + cases)
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    booked = Case.objects.bulk_create(
        Case(site=site, patient=patient, procedure_type=procedure_type, levels=1,
             day=start.date(), arrival_at=start - timedelta(minutes=90), procedure_start=start,
             fasting_solids_until=start - timedelta(hours=8),
             fasting_clear_liquids_until=start - timedelta(hours=2), active_infection=False,
             fracture_painful=True, bleeding_disorder=False, tumor_in_canal=False,
             cement_allergy=False, traumatic=False, conservative_treatment_weeks=8,
             imaging_on_file=True)
        for patient in patients
    )
    now = datetime.now(UTC)
    Reminder.objects.bulk_create(
        (
            Reminder(case=booked[n % cases], rule=rule, kind="confirmation", audience="patient",
                     channel="sms", recipient=f"+1646{n:07d}", plan_version=1,
                     due_at=now - timedelta(minutes=1), send_by=now + timedelta(days=1))
            for n in range(count)
        ),
        batch_size=2000,
    )


def noop_rate(app, broker, count: int) -> dict:
    """Fill a queue the worker does not consume yet, then time it draining: tasks per second."""
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            app.send_task(NOOP_TASK, queue=NOOP_QUEUE, producer=producer)
    if broker.llen(NOOP_QUEUE) != count:
        raise BenchError(f"{broker.llen(NOOP_QUEUE)} no-op tasks queued, not {count}")
    started = time.perf_counter()
    app.control.add_consumer(NOOP_QUEUE, destination=[WORKER_NAME])
    deadline = time.monotonic() + DEADLINE
    while broker.llen(NOOP_QUEUE) or broker.hlen("unacked"):
        if time.monotonic() > deadline:
            raise BenchError(f"{broker.llen(NOOP_QUEUE)} no-op tasks left after {DEADLINE} s")
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    app.control.cancel_consumer(NOOP_QUEUE, destination=[WORKER_NAME], reply=True)
    return {"count": count, "seconds": seconds, "rate": count / seconds}


def dispatch_rate(app, broker) -> dict:
    """Enqueue the dispatcher (again whenever no copy of it waits, as a fast beat would) until
    every due reminder is sent: reminders per second."""
    from notifications.models import OPEN_STATUSES, Reminder, ReminderStatus

    count = Reminder.objects.filter(status__in=OPEN_STATUSES).count()
    started = time.perf_counter()
    deadline = time.monotonic() + DEADLINE
    enqueued = 0
    while Reminder.objects.filter(status__in=OPEN_STATUSES).exists():
        if time.monotonic() > deadline:
            raise BenchError(f"reminders still open after {DEADLINE} s")
        if broker.llen("celery") == 0:
            app.send_task(DISPATCH_TASK)
            enqueued += 1
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    not_sent = Reminder.objects.exclude(status=ReminderStatus.SENT).count()
    if not_sent:
        raise BenchError(f"{not_sent} reminders ended other than sent")
    return {"count": count, "seconds": seconds, "rate": count / seconds, "tasks": enqueued}


def statements_per_send(record_file: Path) -> float:
    """The statements of one full batch, claim included, in this process, per reminder sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications import dispatch
    from notifications.models import Reminder, ReminderStatus

    os.environ["VERTEBRO_RECORD_FILE"] = str(record_file.with_suffix(".local"))
    make_due_reminders(dispatch.BATCH, cases=5)
    with override_backend(), CaptureQueriesContext(connection) as queries:
        claimed = dispatch.reminders_dispatch()
    sent = Reminder.objects.filter(status=ReminderStatus.SENT).count()
    if claimed != dispatch.BATCH or Reminder.objects.exclude(status=ReminderStatus.SENT).exists():
        raise BenchError(f"the sample batch sent {sent} of {dispatch.BATCH}")
    return len(queries) / claimed


def durable_commit_ms(count: int = 200) -> float:
    """Median time of a one-row UPDATE committed on its own, as a reminder's provider_called_at
    is (it must be on disk before the provider is called): the floor under one send."""
    import statistics

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit (id int PRIMARY KEY, at timestamptz)")
        cursor.execute("INSERT INTO bench_commit SELECT n, NULL FROM generate_series(1, %s) n",
                       [count])
        times = []
        for n in range(1, count + 1):
            started = time.perf_counter()
            cursor.execute("UPDATE bench_commit SET at = now() WHERE id = %s", [n])
            times.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_commit")
    return statistics.median(times) * 1000


def override_backend():
    from django.test import override_settings

    return override_settings(NOTIFICATIONS_SMS_BACKEND=RECORDING)


def print_report(r: dict, *, args, database: str) -> None:
    import django
    import redis as redis_client
    from celery import __version__ as celery_version

    noops, reminders = r["noops"], r["reminders"]
    ratio = reminders["rate"] / noops["rate"]
    print(f"Dispatch bench: one worker, prefork concurrency 2, on Redis ({args.broker}) and "
          f"PostgreSQL ({database}, throwaway).")
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, Celery "
          f"{celery_version}, redis-py {redis_client.__version__}; {os.cpu_count()} CPUs; load "
          f"average {r['load'][0][0]:.2f} before, {r['load'][1][0]:.2f} after.")
    print(f"Reminders: English confirmation SMS over {args.cases} cases, recording backend "
          f"(no delay); the dispatcher task enqueued whenever no copy of it waited "
          f"({reminders['tasks']} enqueued). Settings as production: acks late, prefetch 1, "
          f"DEBUG off.")
    print()
    rows = [
        ("no-op task", noops["count"], noops["seconds"], noops["rate"]),
        ("reminder (claim, check, render, send, record)", reminders["count"],
         reminders["seconds"], reminders["rate"]),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'work':<{width}}  {'count':>6}  {'seconds':>8}  {'per second':>10}")
    for label, count, seconds, rate in rows:
        print(f"{label:<{width}}  {count:>6}  {seconds:>8.2f}  {rate:>10.1f}")
    print()
    print(f"reminders/s / no-op tasks/s: {ratio:.2f} (goal >= {GOAL}): "
          f"{'met' if ratio >= GOAL else 'MISSED'}")
    print(f"Worker peak memory (sum of VmRSS, {r['processes']} processes): "
          f"{r['peak_rss'] / 2**20:.1f} MiB")
    print(f"A one-row UPDATE committed on its own (as provider_called_at is, before each call): "
          f"{reminders['commit_ms']:.2f} ms median, so at most "
          f"{1000 / reminders['commit_ms']:.0f} reminders/s per pool process on this disk.")
    print(f"Statements per reminder sent (a batch of {BATCH} over 5 cases, in-process, claim, "
          f"BEGIN and COMMIT included): {reminders['statements_per_send']:.2f}")
    print(f"Provider calls recorded: {r['sends']} for {r['distinct']} distinct reminders "
          f"(warm-up {WARMUP} included).")
    emit("dispatch", [
        figure("reminders sent per second (1 worker, concurrency 2)", reminders["rate"]),
        figure("no-op tasks per second, same worker", noops["rate"]),
        figure("reminders/s / no-op tasks/s", ratio, unit="x", goal=f">= {GOAL}",
               met=ratio >= GOAL),
        figure("worker peak memory", r["peak_rss"] / 2**20, unit=" MiB"),
        figure("statements per reminder sent", reminders["statements_per_send"]),
        figure("one durable commit (median)", reminders["commit_ms"], unit=" ms"),
        figure("provider calls for one reminder", r["sends"] - r["distinct"], unit=" extra",
               goal="0 extra", met=r["sends"] == r["distinct"]),
    ])


if __name__ == "__main__":
    sys.exit(main())
