"""How long the sweeper takes (reminders_sweep, twice a minute) on a table of a million messages.

Run from the project root:  .venv/bin/python bench/sweeper.py [--rows 1000000]

It prints figures; it is not a test. One case's reminder table is filled with `--rows` sent
messages (one in 100,000 left `sending`, as a dead worker leaves them) by one INSERT ... SELECT
from generate_series, then the sweep is timed (median of 10) with the partial index of the
`sending` rows and again after dropping it. The run makes its own throwaway PostgreSQL database
and drops it at the end.
"""

import argparse
import logging
import statistics
from time import perf_counter

from results import emit, figure
from throwaway import bench_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
FILL = """
INSERT INTO notifications_reminder (case_id, rule_id, kind, audience, channel, recipient,
    drug_code, note, plan_version, due_at, send_by, status, attempts, provider_message_id, error,
    late, created_at)
SELECT %s, %s, 'confirmation', 'patient', 'sms', '+1' || g, '', '', 1, now() - interval '1 day',
    now(), CASE WHEN g %% 100000 = 0 THEN 'sending' ELSE 'sent' END, 1, '', '', false, now()
FROM generate_series(1, %s) g
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="messages (1,000,000)")
    args = parser.parse_args(argv)
    with bench_database("sweeper", DEFAULT_DATABASE_URL) as (server, database):
        with_index, without = measure(args.rows)
    print(f"PostgreSQL {server}, database {database}; {args.rows:,} messages, median of 10 sweeps")
    print(f"sweep with the reminder_sending index: {with_index:.1f} ms; without: {without:.1f} ms")
    emit("sweeper", [
        figure("sweep, partial index", round(with_index, 1), unit="ms"),
        figure("sweep, no index", round(without, 1), unit="ms"),
    ])
    return 0


def measure(rows: int) -> tuple[float, float]:
    import time_machine
    from django.db import connection

    from notifications.dispatch import reminders_sweep
    from notifications.models import ReminderRule
    from tests.factories import NOW, build_unit, case_made

    logging.disable(logging.INFO)
    with time_machine.travel(NOW):
        case = case_made(site=build_unit(code="main"))
    with connection.cursor() as cursor:
        cursor.execute(FILL, [case.pk, ReminderRule.objects.first().pk, rows])
        cursor.execute("ANALYZE notifications_reminder")

    def timed() -> float:
        times = []
        for _ in range(10):
            started = perf_counter()
            reminders_sweep()
            times.append((perf_counter() - started) * 1000)
        return statistics.median(times)

    with_index = timed()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX reminder_sending")
        cursor.execute("ANALYZE notifications_reminder")
    return with_index, timed()


if __name__ == "__main__":
    raise SystemExit(main())
