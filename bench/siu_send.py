"""How fast the SIU sender delivers the outbox to an MLLP peer, and what a message costs the
database.

(Named siu_send, not hl7: a bench script's folder comes first on the import path, and a
bench/hl7.py would hide the python-hl7 package from everything it imports.)

Run from the project root:  .venv/bin/python bench/siu_send.py [--messages 5000] [--cases 500]

It prints figures; it is not a test. The run makes its own throwaway PostgreSQL database (as
bench/dispatch.py does), starts the test suite's MLLP peer (tests/hl7v2/peer.py: python-hl7's
asyncio server in a thread, answering AA at once), writes `--messages` due SIU rows spread over
`--cases` cases (each case's messages in sequence), and runs the dispatcher (hl7_dispatch, batch
after batch, in this process, as the Celery task does) until none is left. Printed: messages per
second, end to end (claim, peer_called_at, the MLLP exchange, the ACK recorded), and the SQL
statements per message (the claim shared by a batch), counted by a wrapper on the connection. The
peer's record is checked: each message read exactly once, each case in order.
"""

import argparse
import os
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

from results import emit, figure
from throwaway import ROOT, BenchError, bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
DUE_AT = datetime(2000, 1, 1, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="due messages (5,000)")
    parser.add_argument("--cases", type=int, default=500, help="cases they belong to (500)")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # as the workers run: a line per send costs
    with bench_database("siu_send", DEFAULT_DATABASE_URL) as (server, database):
        report = run(args)
    print(f"PostgreSQL {server}, database {database}; {args.messages:,} messages over "
          f"{args.cases:,} cases, one dispatcher, peer on 127.0.0.1 answering AA")
    print(f"messages per second: {report['rate']:.0f} ({report['seconds']:.2f} s)")
    print(f"SQL statements per message (claim shared by a batch of {report['batch']}): "
          f"{report['statements']:.2f}")
    emit("siu_send", [
        figure("SIU messages sent per second", round(report["rate"])),
        figure("statements per message", round(report["statements"], 2)),
    ], messages=args.messages, cases=args.cases)
    return 0


def run(args) -> dict:
    sys.path.insert(0, str(ROOT))
    from django.conf import settings
    from django.db import connection

    from hl7v2 import sending
    from tests.hl7v2.peer import Peer

    peer = Peer().start()
    try:
        settings.HL7_ENDPOINTS = {"engine": peer.address}
        written = outbox_written(args.messages, args.cases)
        started = time.perf_counter()
        statements = []

        def counted(execute, sql, params, many, context):
            statements.append(1)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            sent = 0
            while outcomes := sending.hl7_dispatch():
                sent += sum(1 for status in outcomes.values() if status == "sent")
        seconds = time.perf_counter() - started
        received = peer.control_ids()
    finally:
        peer.stop()
    if sent != args.messages or Counter(received) != Counter(written.keys()):
        raise BenchError(f"sent {sent}, the peer read {len(received)} "
                         f"({len(set(received))} distinct) of {args.messages}")
    by_case = defaultdict(list)
    for control_id in received:
        by_case[written[control_id][0]].append(written[control_id][1])
    if any(sequences != sorted(sequences) for sequences in by_case.values()):
        raise BenchError("a case's messages reached the peer out of order")
    return {"rate": args.messages / seconds, "seconds": seconds, "batch": sending.BATCH,
            "statements": len(statements) / args.messages}


def outbox_written(messages: int, cases: int) -> dict[str, tuple[int, int]]:
    """Due messages over `cases` bare cases: control id -> (case id, sequence)."""
    from hl7v2.models import OutboundMessage
    from scheduling.models import ProcedureType, Site
    from tests.factories import cases_in_bulk
    from tests.hl7v2.peer import siu_body

    site = Site.objects.create(code="bench", name="Bench Spine Center",
                               time_zone="America/New_York")
    procedure_type = ProcedureType.objects.create(code="bench", name="Bench vertebroplasty")
    booked = cases_in_bulk(site=site, procedure_type=procedure_type, count=cases, name="Bench")
    rows = []
    for n in range(messages):
        case = booked[n % cases]
        sequence = n // cases + 1
        control_id = f"B{n:08d}"
        rows.append(OutboundMessage(
            case=case, site=site, endpoint="engine", trigger="S14", sequence=sequence,
            control_id=control_id, body=siu_body(control_id=control_id, trigger="S14"),
            due_at=DUE_AT,
        ))
    OutboundMessage.objects.bulk_create(rows, batch_size=1000)
    return {row.control_id: (row.case_id, row.sequence) for row in rows}


if __name__ == "__main__":
    raise SystemExit(main())
