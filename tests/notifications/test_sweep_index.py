"""The sweeper finds the rows a dead worker left `sending` through a partial index of those rows,
not by reading every message ever sent (the table keeps them all)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.dispatch import reminders_sweep

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_sweepers_sending_rows_are_read_through_their_partial_index():
    with CaptureQueriesContext(connection) as swept:
        reminders_sweep()
    sending = [query["sql"] for query in swept.captured_queries if "'sending'" in query["sql"]]
    assert len(sending) == 2, swept.captured_queries

    with connection.cursor() as cursor:
        # A test table is tiny and a sequential scan cheapest: switched off, the plan shows
        # whether an index answers the sweeper's question at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in sending:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert "reminder_sending" in plan, plan
