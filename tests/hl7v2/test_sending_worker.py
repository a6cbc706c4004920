"""Delivery with real parts: a Celery worker subprocess on Redis and PostgreSQL sends the
outbox to a real MLLP peer in this process (tests/hl7v2/peer.py), which records what it reads.
It is killed with SIGKILL in the middle of its batches, twice, and started again; the sweeper
runs after each kill, as its beat entry would. Counted from the peer's record: nothing lost,
nothing sent twice except messages left `unknown` (which an admin then resends), and no
message of a case before an earlier one.

As in tests/notifications/test_delivery_worker.py: the test commits for real, enqueues the
dispatcher itself (no beat), and the worker sees the real clock while this process's is frozen,
so the messages are due in 2000 and the sweeps are run as of 2099.
"""

import contextlib
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from hl7v2.models import OutboundMessage, OutboundStatus
from hl7v2.sending import hl7_messages_resend, hl7_sweep
from tests.conftest import REDIS_SERVER, project_broker_forget, redis_test_url
from tests.factories import ProcedureTypeFactory, SiteFactory, cases_in_bulk
from tests.hl7v2.peer import Peer, siu_body
from tests.notifications.test_delivery_worker import (
    Worker,
    _wait_for_worker_connections_to_close,
)

pytestmark = [REDIS_SERVER, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DISPATCH_TASK = "hl7v2.tasks.hl7_dispatch_due"
DUE_AT = datetime(2000, 1, 1, tzinfo=UTC)
SWEEP_AT = datetime(2099, 1, 1, tzinfo=UTC)
CASES = 30
PER_CASE = 10
REDIS_DB = 8  # a database of its own on the CI Redis, flushed at the start of the test
KILLS_AT = (80, 180)  # messages the peer has read when the worker is killed
DEADLINE = 120  # seconds for a phase to settle
ENQUEUE_EVERY = 0.5


@pytest.fixture
def broker_url(monkeypatch):
    """A Redis database of the test's own on the Redis of CELERY_BROKER_URL, flushed; skipped
    without one unless VERTEBRO_REQUIRE_SERVICES is set."""
    import redis

    url = redis_test_url(REDIS_DB)
    redis.Redis.from_url(url, socket_timeout=5).flushdb()
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    yield url
    project_broker_forget()


@pytest.fixture
def enqueue(broker_url):
    from celery import Celery

    app = Celery("vertebro-hl7-test", broker=broker_url, set_as_current=False)

    def send() -> None:
        with contextlib.suppress(Exception):
            app.send_task(DISPATCH_TASK, retry=True, retry_policy={"max_retries": 1})

    yield send
    app.close()


@pytest.fixture
def peer():
    peer = Peer().start()
    peer.delay = 0.01  # a slow peer, so that a kill lands in the middle of a batch
    yield peer
    peer.stop()


@pytest.fixture
def workers(broker_url, peer, tmp_path):
    started: list[Worker] = []

    def new(name: str) -> Worker:
        worker = Worker(broker_url=broker_url, record_file=tmp_path / "unused.jsonl",
                        log_file=tmp_path / f"worker-{name}.log", name=name)
        worker.env["HL7_ENDPOINTS"] = f"engine={peer.address}"
        started.append(worker)
        worker.start()
        return worker

    yield new
    for worker in started:
        worker.kill()
    _wait_for_worker_connections_to_close()


def outbox_written() -> dict[str, tuple[int, int]]:
    """CASES cases with PER_CASE messages each, all due: control id -> (case id, sequence)."""
    site = SiteFactory()
    procedure_type = ProcedureTypeFactory()
    cases = cases_in_bulk(site=site, procedure_type=procedure_type, count=CASES, name="Peer")
    rows = [
        OutboundMessage(
            case=case, site=site, endpoint="engine", trigger="S14", sequence=sequence,
            control_id=f"W{case.pk}-{sequence}",
            body=siu_body(control_id=f"W{case.pk}-{sequence}", trigger="S14"), due_at=DUE_AT,
        )
        for sequence in range(1, PER_CASE + 1) for case in cases
    ]
    OutboundMessage.objects.bulk_create(rows)
    return {row.control_id: (row.case_id, row.sequence) for row in rows}


def settled() -> bool:
    """Nothing being sent, and every message still planned waits behind an unknown one."""
    rows = list(OutboundMessage.objects.values_list("case_id", "sequence", "status"))
    if any(status == OutboundStatus.SENDING for _, _, status in rows):
        return False
    blocked_from = {}
    for case_id, sequence, status in rows:
        if status in (OutboundStatus.UNKNOWN, OutboundStatus.FAILED):
            blocked_from[case_id] = min(sequence, blocked_from.get(case_id, sequence))
    return all(
        case_id in blocked_from and sequence > blocked_from[case_id]
        for case_id, sequence, status in rows if status == OutboundStatus.PLANNED
    )


def statuses() -> Counter:
    return Counter(OutboundMessage.objects.values_list("status", flat=True))


def run_until_settled(enqueue, on_progress=None) -> None:
    deadline = time.monotonic() + DEADLINE
    next_enqueue = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_enqueue:
            enqueue()
            next_enqueue = time.monotonic() + ENQUEUE_EVERY
        if on_progress is not None:
            on_progress()
        if settled():
            return
        time.sleep(0.05)
    pytest.fail(f"the outbox did not settle in {DEADLINE} s: {dict(statuses())}")


def test_killed_workers_lose_nothing_send_nothing_twice_but_unknowns_and_keep_each_case_s_order(
    workers, enqueue, peer
):
    written = outbox_written()
    worker = workers("hl7-0")
    kills = []
    swept = Counter()

    def chaos() -> None:
        nonlocal worker
        if len(kills) < len(KILLS_AT) and len(peer.received) >= KILLS_AT[len(kills)]:
            kills.append(len(peer.received))
            worker.kill()
            # No sender is alive: every row still `sending` was left by the dead one.
            swept.update(hl7_sweep(now=SWEEP_AT))
            worker = workers(f"hl7-{len(kills)}")

    run_until_settled(enqueue, chaos)
    assert len(kills) == len(KILLS_AT), "the kills did not happen during the run"
    unknown = set(OutboundMessage.objects.filter(status=OutboundStatus.UNKNOWN)
                  .values_list("control_id", flat=True))
    # An admin resends what may or may not have gone; then everything goes.
    hl7_messages_resend(messages=OutboundMessage.objects.filter(status=OutboundStatus.UNKNOWN))
    run_until_settled(enqueue)

    final = statuses()
    times = Counter(peer.control_ids())
    twice = {cid for cid, n in times.items() if n > 1}
    print(f"\nhl7 fault run: {len(written)} messages, kills at {kills} read by the peer, "
          f"swept {dict(swept)}, unknown after the kills {len(unknown)}, "
          f"read by the peer {sum(times.values())}, read twice {len(twice)}, final {dict(final)}")
    assert final == {OutboundStatus.SENT: len(written)}, final
    assert set(times) == set(written), "a message was lost"
    assert twice <= unknown, f"sent twice without having been unknown: {twice - unknown}"
    # Only a message with the peer when a kill landed can be unknown: one per pool process.
    assert len(unknown) <= 2 * len(KILLS_AT)
    assert swept["unknown"] + swept["requeued"] > 0, swept
    by_case = defaultdict(list)
    for cid in peer.control_ids():
        case_id, sequence = written[cid]
        by_case[case_id].append(sequence)
    for case_id, sequences in by_case.items():
        assert sequences == sorted(sequences), f"case {case_id} out of order: {sequences}"
