"""Delivery with real parts: a Celery worker subprocess on Redis and PostgreSQL, sending through
the recording backend (notifications/backends/recording.py), which appends one line per provider
call to a file shared by every process. No beat: the test enqueues the dispatcher task itself, as
beat would, only more often.

The first three tests run twice: the worker connects to PostgreSQL directly, then through a
PgBouncer in transaction pooling mode (the `pgbouncer` fixture), where no lock may outlive a
transaction; the last runs through PgBouncer only.

These tests commit for real (transaction=True), so the worker's own connections see the rows.
The worker sees the real clock while this process is frozen by the `clock` fixture: reminders are
due in 2000 and must go by 2100, which both clocks agree on.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.db import connection

from notifications.dispatch import reminders_sweep
from notifications.models import OPEN_STATUSES, Reminder, ReminderRule, ReminderStatus
from scheduling.models import Case
from scheduling.services import case_reschedule
from tests.conftest import REDIS_SERVER, project_broker_forget
from tests.factories import ProcedureTypeFactory, SiteFactory, case_made, cases_in_bulk

pytestmark = [REDIS_SERVER, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 5  # a database of its own on the CI Redis, flushed at the start of each test
RECORDING = "notifications.backends.recording.RecordingBackend"
DISPATCH_TASK = "notifications.tasks.dispatch_due_reminders"
DUE_AT = datetime(2000, 1, 1, tzinfo=UTC)
SEND_BY = datetime(2100, 1, 1, tzinfo=UTC)
# After a kill, rows still `sending` belong to the dead worker: sweep as if long after.
SWEEP_AT = datetime(2099, 1, 1, tzinfo=UTC)
DEADLINE = 60  # seconds for a run to bring every reminder to a final state
ENQUEUE_EVERY = 0.5
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]


# --- services ---------------------------------------------------------------------------------


@pytest.fixture
def broker_url(monkeypatch):
    """Redis from CELERY_BROKER_URL (as .ci/run sets it), on a database of our own. Without it
    the tests skip in a developer's quick run, and fail when VERTEBRO_REQUIRE_SERVICES is set."""
    import redis

    configured = os.environ.get("CELERY_BROKER_URL", "")
    problem = None
    if not configured.startswith("redis://"):
        problem = "needs CELERY_BROKER_URL=redis://..."
    else:
        parts = urlsplit(configured)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))
        try:
            redis.Redis.from_url(url, socket_timeout=5).flushdb()
        except redis.RedisError as exc:
            problem = f"Redis at {parts.netloc} cannot be reached: {exc}"
    if problem:
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail(f"VERTEBRO_REQUIRE_SERVICES is set but the test {problem}")
        pytest.skip(problem)
    # Celery reads CELERY_BROKER_URL from the environment before any broker given to an app,
    # so the test's own app must see our database there too.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    yield url
    # Later tests (a plan run sent on commit) must not publish to this test's database.
    project_broker_forget()


@pytest.fixture
def enqueue(broker_url):
    """Send the dispatcher task through the same broker, from an app of our own: the project's
    app keeps its broker (and its connection pool) for the other tests."""
    from celery import Celery

    app = Celery("vertebro-delivery-test", broker=broker_url, set_as_current=False)

    def send() -> None:
        # Redis may be restarting; the next tick sends again.
        with contextlib.suppress(Exception):
            app.send_task(DISPATCH_TASK, retry=True, retry_policy={"max_retries": 1})

    yield send
    app.close()


@pytest.fixture(params=["direct", "pgbouncer"])
def database_route(request):
    """How the workers reach PostgreSQL: directly (None), or through the running PgBouncer."""
    return request.getfixturevalue("pgbouncer") if request.param == "pgbouncer" else None


def database_url(bouncer=None) -> str:
    """The pytest test database, as a DATABASE_URL for the worker (through `bouncer`, if given:
    a PgBouncer on this machine)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = "127.0.0.1" if bouncer else db["HOST"] or "localhost"
    port = f":{bouncer.port}" if bouncer else f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


class Worker:
    """One `celery worker` process tree in a session of its own, so that a kill takes the
    parent and its pool processes at once."""

    def __init__(self, *, broker_url: str, record_file: Path, log_file: Path, name: str = "test",
                 delay_ms: int = 0, bouncer=None) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(bouncer),
            "DATABASE_POOLER": "transaction" if bouncer else "",
            "CELERY_BROKER_URL": broker_url,
            "NOTIFICATIONS_SMS_BACKEND": RECORDING,
            "NOTIFICATIONS_EMAIL_BACKEND": RECORDING,
            "VERTEBRO_RECORD_FILE": str(record_file),
            "VERTEBRO_RECORD_DELAY_MS": str(delay_ms),
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        self.name = name
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "vertebro_site", "worker",
                 "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip",
                 "--without-mingle", "-n", f"{self.name}@%h"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        _wait_for_group_to_die(self.process.pid)
        self.process = None

    def log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""


def _wait_for_group_to_die(pgid: int, timeout: float = 10) -> None:
    """The pool processes outlive their parent for a moment; a zombie counts as dead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive = True
                break
        if not alive:
            return
        time.sleep(0.05)


def _wait_for_worker_connections_to_close(timeout: float = 10) -> None:
    """A killed worker's backends end when PostgreSQL notices; the flush and the final DROP
    DATABASE must not meet them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


@pytest.fixture
def workers(broker_url, tmp_path, database_route):
    """Make workers with `workers.new(name)`; every one is stopped when the test ends, and the
    PgBouncer they went through with them."""

    class Workers(list):
        record_file = tmp_path / "sent.jsonl"

        def new(self, name: str = "test", *, delay_ms: int = 0) -> Worker:
            worker = Worker(broker_url=broker_url, record_file=self.record_file,
                            log_file=tmp_path / f"worker-{name}.log", name=name,
                            delay_ms=delay_ms, bouncer=database_route)
            self.append(worker)
            worker.start()
            return worker

        def logs(self) -> str:
            return "\n".join(f"--- {w.name}\n{w.log_tail()}" for w in self)

    made = Workers()
    try:
        yield made
    finally:
        for worker in made:
            worker.kill()
        if database_route is not None:
            database_route.stop()
        _wait_for_worker_connections_to_close()


# --- data -------------------------------------------------------------------------------------


def due_reminders(count: int, *, cases: int = 20) -> list[int]:
    """`count` confirmation SMS in English, due long ago, spread over `cases` booked cases,
    each to its own number (the unique key holds)."""
    site = SiteFactory()
    procedure_type = ProcedureTypeFactory()
    # A transactional test ends by emptying every table, the seeded rules too.
    rule = ReminderRule.objects.filter(kind="confirmation", audience="patient").first()
    if rule is None:
        rule = ReminderRule.objects.create(kind="confirmation", audience="patient",
                                           anchor="booking")
    booked = cases_in_bulk(site=site, procedure_type=procedure_type, count=cases, name="Worker",
                           preferred_channel="sms")
    reminders = Reminder.objects.bulk_create(
        Reminder(case=booked[n % cases], rule=rule, kind="confirmation", audience="patient",
                 channel="sms", recipient=f"+1646555{n:04d}", plan_version=1, due_at=DUE_AT,
                 send_by=SEND_BY)
        for n in range(count)
    )
    return [reminder.pk for reminder in reminders]


def records(path: Path) -> list[dict]:
    """The complete lines: read while a worker is writing, the file may end in part of one."""
    if not path.exists():
        return []
    *complete, _partial = path.read_text().split("\n")
    return [json.loads(line) for line in complete]


def open_count() -> int:
    return Reminder.objects.filter(status__in=OPEN_STATUSES).count()


def statuses() -> Counter:
    return Counter(Reminder.objects.values_list("status", flat=True))


def run_until_settled(enqueue, workers, *, on_progress=None) -> None:
    """Enqueue the dispatcher every half second, as a fast beat would, until no reminder is
    planned or sending. `on_progress(lines_recorded)` may kill and restart things meanwhile."""
    deadline = time.monotonic() + DEADLINE
    next_enqueue = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_enqueue:
            enqueue()
            next_enqueue = time.monotonic() + ENQUEUE_EVERY
        if on_progress is not None:
            on_progress(len(records(workers.record_file)))
        if open_count() == 0:
            return
        time.sleep(0.05)
    pytest.fail(
        f"reminders still open after {DEADLINE} s: {dict(statuses())}\n{workers.logs()}"
    )


def restart_redis() -> None:
    """Stop Redis and start it again as .ci/run does. It keeps nothing on disk, so every queued
    message is gone, as after a crash of a broker without persistence."""
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True,
                   timeout=10)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True,
                          text=True).stdout.strip() != "PONG":
            break
        time.sleep(0.05)
    subprocess.run(REDIS_START, check=True, capture_output=True, timeout=10)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            return
        time.sleep(0.05)
    pytest.fail("Redis did not come back after the restart")


# --- tests ------------------------------------------------------------------------------------


def test_a_thousand_due_reminders_are_each_sent_exactly_once(workers, enqueue, database_route):
    ids = due_reminders(1000)
    workers.new()

    run_until_settled(enqueue, workers)

    sent = records(workers.record_file)
    assert len(sent) == 1000
    assert {line["reminder_id"] for line in sent} == set(ids)
    assert statuses() == {ReminderStatus.SENT: 1000}
    by_id = {line["reminder_id"]: line for line in sent}
    for reminder in Reminder.objects.all():
        assert by_id[reminder.pk]["to"] == reminder.recipient
        assert reminder.provider_message_id.startswith(f"rec-{reminder.pk}-")
    assert len({line["pid"] for line in sent}) == 2, "both pool processes should have sent"
    if database_route is not None:
        assert database_route.transactions(connection.settings_dict["NAME"]) > 1000


def test_nothing_is_lost_when_workers_are_killed_and_redis_restarts(workers, enqueue):
    ids = due_reminders(1000)
    worker = workers.new("test", delay_ms=4)
    done = []
    recovered = Counter()

    def chaos(recorded: int) -> None:
        nonlocal worker
        kill = "kill 1" if "kill 1" not in done else "kill 2"
        if recorded >= {"kill 1": 150, "kill 2": 450}[kill] and kill not in done:
            done.append(kill)
            worker.kill()
            # No dispatcher is alive: every row still `sending` was left by the dead one.
            recovered.update(reminders_sweep(now=SWEEP_AT))
            worker = workers.new(f"test{len(done)}", delay_ms=4)
        elif recorded >= 700 and "redis" not in done:
            done.append("redis")
            restart_redis()

    run_until_settled(enqueue, workers, on_progress=chaos)

    assert done == ["kill 1", "kill 2", "redis"], "the chaos did not happen during the run"
    # The kills left claimed rows behind, and the sweep gave them back or marked them unknown.
    assert recovered["requeued"] + recovered["unknown"] > 0, recovered
    final = statuses()
    assert set(final) <= {ReminderStatus.SENT, ReminderStatus.UNKNOWN}, final
    assert sum(final.values()) == len(ids)
    sends = Counter(line["reminder_id"] for line in records(workers.record_file))
    unknown = set(
        Reminder.objects.filter(status=ReminderStatus.UNKNOWN).values_list("id", flat=True)
    )
    assert {rid for rid, times in sends.items() if times > 1} <= unknown
    for reminder_id in Reminder.objects.filter(status=ReminderStatus.SENT).values_list(
        "id", flat=True
    ):
        assert sends[reminder_id] == 1, f"sent row {reminder_id} recorded {sends[reminder_id]}x"
    # Only the sends a kill landed in can be unknown: at most one per pool process per kill.
    assert len(unknown) <= 4


def test_two_workers_at_once_never_send_a_row_twice(workers, enqueue):
    ids = due_reminders(500, cases=50)
    workers.new("one", delay_ms=1)
    workers.new("two", delay_ms=1)

    run_until_settled(enqueue, workers)

    sent = records(workers.record_file)
    times = Counter(line["reminder_id"] for line in sent)
    assert [rid for rid, count in times.items() if count > 1] == []
    assert set(times) == set(ids)
    assert statuses() == {ReminderStatus.SENT: 500}
    # They really ran at once: two processes sent over overlapping spans of time.
    spans = {}
    for line in sent:
        at = datetime.fromisoformat(line["at"])
        first, last = spans.get(line["pid"], (at, at))
        spans[line["pid"]] = (min(first, at), max(last, at))
    assert any(
        a_first < b_last and b_first < a_last
        for a, (a_first, a_last) in spans.items()
        for b, (b_first, b_last) in spans.items()
        if a != b
    ), f"the senders did not overlap: {spans}"


def old_time_messages(case: Case, count: int) -> list[int]:
    """`count` confirmation SMS of the case's present plan, due long ago, in place of what
    booking planned (due by the frozen clock of this process, not by the worker's)."""
    Reminder.objects.filter(case=case).delete()
    rule = ReminderRule.objects.get(kind="confirmation", audience="patient")
    return [
        Reminder.objects.create(
            case=case, rule=rule, kind="confirmation", audience="patient", channel="sms",
            recipient=f"+1646555{n:04d}", plan_version=case.plan_version, due_at=DUE_AT,
            send_by=SEND_BY,
        ).pk
        for n in range(count)
    ]


def handed_to_provider(ids: list[int], timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handed = Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENDING,
                                         provider_called_at__isnull=False).first()
        if handed is not None:
            return handed.pk
        time.sleep(0.02)
    pytest.fail("no message was handed to the provider")


@pytest.mark.parametrize("database_route", ["pgbouncer"], indirect=True)
def test_a_reschedule_waits_for_the_text_with_the_provider_and_no_old_time_goes_after_it(
    workers, enqueue, database_route, unit, front_desk
):
    case = case_made(site=unit, by=front_desk.user)
    old = old_time_messages(case, 5)
    workers.new(delay_ms=3000)  # each provider call takes three seconds, so a slow test sees it
    enqueue()
    in_flight = handed_to_provider(old)

    started = time.perf_counter()
    case_reschedule(case=case, day=date(2026, 3, 5), by=front_desk.user)
    waited = time.perf_counter() - started
    sent_before_the_change = {line["reminder_id"] for line in records(workers.record_file)}
    run_until_settled(enqueue, workers)

    assert waited > 0.3, "the reschedule did not wait for the text with the provider"
    assert in_flight in sent_before_the_change
    sent = Counter(line["reminder_id"] for line in records(workers.record_file))
    assert {rid for rid in old if sent[rid]} == {rid for rid in old if rid in
                                                 sent_before_the_change}
    assert all(sent[rid] <= 1 for rid in old)
    final = dict(Reminder.objects.filter(pk__in=old).values_list("id", "status"))
    assert final[in_flight] == ReminderStatus.SENT
    # The batch's other messages were held back, then withdrawn by the change.
    assert sorted(final.values()) == sorted(
        [ReminderStatus.SENT] * len(sent_before_the_change & set(old))
        + [ReminderStatus.CANCELLED] * (len(old) - len(sent_before_the_change & set(old)))
    )
    assert database_route.transactions(connection.settings_dict["NAME"]) > 0
