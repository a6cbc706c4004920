"""/healthz: each check passing and failing for real, no login, no patient data, never a 500."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError

from notifications.dispatch import reminders_dispatch
from notifications.models import Reminder, ReminderStatus
from tests.conftest import REDIS_SERVER, production_environ, redis_test_url
from tests.factories import case_made

pytestmark = REDIS_SERVER

ROOT = Path(__file__).resolve().parents[1]
REDIS_DB = 9
CLOSED_PORT_BROKER = f"redis://127.0.0.1:1/{REDIS_DB}"  # nothing listens on port 1


@pytest.fixture
def file_broker(settings, tmp_path):
    """The embedded broker, in folders of this test's own."""
    queue, processed = tmp_path / "queue", tmp_path / "processed"
    queue.mkdir()
    processed.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(queue), "data_folder_out": str(queue),
        "processed_folder": str(processed), "store_processed": False,
    }
    return queue


@pytest.fixture
def redis_broker(settings):
    """The Redis of CELERY_BROKER_URL (as .ci/run sets it), on our own database number."""
    url = redis_test_url(REDIS_DB)
    settings.CELERY_BROKER_URL = url
    return url


def health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def oldest_planned_due():
    return Reminder.objects.filter(status=ReminderStatus.PLANNED).order_by("due_at")[0].due_at


def test_all_well_answers_200_without_a_login(client, unit, file_broker):
    status, body = health(client)
    assert status == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "broker": "ok", "reminders": "ok", "hl7": "ok",
    }
    assert body["checks"]["reminders"]["oldest_overdue_seconds"] == 0
    assert body["checks"]["reminders"]["threshold_seconds"] == 600


def test_a_reachable_redis_broker_passes(client, db, redis_broker):
    status, body = health(client)
    assert status == 200, body
    assert body["checks"]["broker"]["transport"] == "redis"


def test_a_broker_nobody_listens_on_fails_quickly_without_its_address(client, db, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["status"] == "fail"
    assert body["checks"]["broker"]["error"]  # the exception's class name
    assert body["checks"]["broker"]["ms"] < 3000
    assert "127.0.0.1" not in response.content.decode()
    assert body["checks"]["database"]["status"] == "ok"


def test_a_missing_broker_folder_fails(client, db, file_broker):
    file_broker.rmdir()
    status, body = health(client)
    assert status == 503
    assert body["checks"]["broker"] == {"status": "fail", "error": "NotADirectoryError",
                                        "ms": body["checks"]["broker"]["ms"]}


def test_a_due_message_unsent_past_the_threshold_fails_and_passes_once_sent(
    client, unit, front_desk, file_broker, clock
):
    """What a worker that is up but not consuming looks like: due rows age, nothing else fails."""
    case_made(site=unit, by=front_desk.user, patient={"mrn": "MRN-1001"})
    due = oldest_planned_due()

    clock.move_to(due + timedelta(minutes=5))
    status, body = health(client)
    assert status == 200
    assert body["checks"]["reminders"]["oldest_overdue_seconds"] == 300

    clock.move_to(due + timedelta(minutes=11))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["reminders"] == {
        "status": "fail", "oldest_overdue_seconds": 660, "threshold_seconds": 600,
        "ms": body["checks"]["reminders"]["ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"
    text = response.content.decode()
    for detail in ["Whitfield", "Margaret", "MRN-1001", "2125550100", "+1212"]:
        assert detail not in text

    while reminders_dispatch():  # a worker catches up
        pass
    status, body = health(client)
    assert status == 200
    assert body["checks"]["reminders"]["oldest_overdue_seconds"] == 0


def test_the_threshold_comes_from_settings(client, unit, front_desk, file_broker, clock, settings):
    case_made(site=unit, by=front_desk.user, patient={"mrn": "MRN-1001"})
    clock.move_to(oldest_planned_due() + timedelta(minutes=5))
    settings.HEALTH_REMINDER_MAX_WAIT_SECONDS = 120
    status, body = health(client)
    assert status == 503
    assert body["checks"]["reminders"]["threshold_seconds"] == 120


def test_messages_not_yet_due_or_already_dealt_with_do_not_count(
    client, unit, front_desk, file_broker, clock
):
    case_made(site=unit, by=front_desk.user, patient={"mrn": "MRN-1001"})
    due = oldest_planned_due()
    Reminder.objects.filter(due_at=due).update(status=ReminderStatus.CANCELLED)
    clock.move_to(due + timedelta(minutes=30))
    later = Reminder.objects.filter(status=ReminderStatus.PLANNED, due_at__lte=due + timedelta(
        minutes=30))
    assert not later.exists(), "the next message is due within 30 minutes: pick another gap"
    status, body = health(client)
    assert status == 200
    assert body["checks"]["reminders"]["oldest_overdue_seconds"] == 0


def test_a_database_that_cannot_be_queried_fails_with_503_not_500(
    client, db, file_broker, monkeypatch
):
    """A database outage cannot be staged inside the test's own database, so this is the one
    place a patch stands in: every new cursor raises the driver's OperationalError, as a server
    that went away would."""

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", refuse)
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["status"] == "fail"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["reminders"]["status"] == "fail"
    assert "server closed" not in response.content.decode()  # class names only
    assert body["checks"]["broker"]["status"] == "ok"


def test_only_get_and_head(client, db, file_broker):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.postgres
def test_the_oldest_overdue_message_is_read_from_the_partial_index(db):
    from django.utils import timezone

    query = (
        Reminder.objects.filter(status=ReminderStatus.PLANNED, due_at__lte=timezone.now())
        .order_by("due_at").values_list("due_at", flat=True)[:1]
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table is seq-scanned anyway
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "reminder_due" in plan, plan


def test_production_does_not_redirect_the_probe_to_https():
    """A load balancer probes over plain HTTP on the private network; every other path is still
    sent to HTTPS."""
    script = (
        "import django, json; django.setup(); from django.test import Client; c = Client(); "
        "print(json.dumps([c.get('/healthz', HTTP_HOST='example.org').status_code, "
        "c.get('/accounts/login/', HTTP_HOST='example.org').status_code]))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=production_environ(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    probe, login = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe != 301
    assert login == 301


def test_a_probe_costs_three_queries_whatever_the_outbox_holds(
    client, unit, front_desk, file_broker, django_assert_num_queries
):
    case_made(site=unit, by=front_desk.user, patient={"mrn": "MRN-1001"})
    assert Reminder.objects.count() > 3
    # SELECT 1, the oldest due reminder, and the oldest SIU message not delivered.
    with django_assert_num_queries(3):
        status, _ = health(client)
    assert status == 200
