"""A booking against other processes and other clerks, committing for real: a change of the
unit's setup made by another process is seen by this one's next booking, and a booking beaten to
its bay by another clerk is tried again as a whole transaction, its new patient with it."""

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from scheduling.models import Patient, Resource, Stage
from tests.conftest import case_payload
from tests.factories import TUESDAY, case_made
from tests.scheduling.test_booking_deadlock import wait_until_someone_waits_for_a_transaction
from tests.scheduling.test_booking_lean import slots
from tests.scheduling.test_concurrency_postgres import case_without_stages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/cases/"
OPENING = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # Tuesday 07:00 in New York
WEDNESDAY = date(2026, 3, 4)


def in_another_process(code: str) -> None:
    """Run Python in a new Django process on the test database, as another gunicorn worker
    or a manager's shell would."""
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    environ = os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "vertebro_site.settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_hours_changed_by_another_process_are_seen_by_the_next_booking_here(unit, front_desk):
    before = slots(front_desk)[0]["start"]  # this process now keeps the unit's setup

    in_another_process(
        "from datetime import time\n"
        "from scheduling.models import OpeningHours\n"
        "for hours in OpeningHours.objects.filter(site__code='main'):\n"
        "    hours.opens = time(11)\n"
        "    hours.save()\n"
    )

    after = slots(front_desk)[0]["start"]
    assert before.startswith(f"{TUESDAY.isoformat()}T08:30")
    assert after.startswith(f"{TUESDAY.isoformat()}T12:30")


def test_a_booking_beaten_to_its_bay_is_tried_again_whole_with_its_new_patient(
    tiny_unit, front_desk
):
    holder = case_without_stages(case_made(site=tiny_unit, day=WEDNESDAY))
    bay = Resource.objects.get(site=tiny_unit, kind="pre_op_bay")
    payload = case_payload()
    payload["patient"] = payload["patient"] | {"mrn": "MRN-RETRY-1"}
    outcome = {}

    def clerk():
        try:
            with CaptureQueriesContext(connection) as queries:
                outcome["response"] = front_desk.post(URL, payload, format="json")
            outcome["sqls"] = [query["sql"] for query in queries.captured_queries]
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc
        finally:
            connection.close()

    booking = threading.Thread(target=clerk, daemon=True)
    with transaction.atomic():
        # Another clerk's booking, not committed yet, holds the only pre-op bay all morning:
        # the booking cannot see it, picks the first pre-op time and waits on the constraint.
        Stage.objects.create(
            case=holder, position=0, kind="pre_op", resource=bay, planned_start=OPENING,
            planned_end=OPENING + timedelta(hours=3), held_until=OPENING + timedelta(hours=3),
        )
        booking.start()
        wait_until_someone_waits_for_a_transaction()
    booking.join(timeout=60)

    assert not booking.is_alive()
    assert "error" not in outcome, outcome.get("error")
    response = outcome["response"]
    assert response.status_code == 201, response.json()
    pre_op = Stage.objects.get(case_id=response.json()["id"], kind="pre_op")
    assert pre_op.planned_start >= OPENING + timedelta(hours=3)
    patient_inserts = [
        sql for sql in outcome["sqls"] if sql.startswith('INSERT INTO "scheduling_patient"')
    ]
    assert len(patient_inserts) == 2  # one per try: the first was rolled back with its case
    assert Patient.objects.filter(mrn="MRN-RETRY-1").count() == 1
    assert [sql for sql in outcome["sqls"] if "SAVEPOINT" in sql] == []
