"""/healthz: can this deployment serve pages and send messages right now?

For a load balancer or a monitor, without a login: it answers 200 when every check passes and 503
when one fails, with JSON that names no patient. Three checks:

- database: one trivial query;
- broker: a connection to the Celery broker, given two seconds (the embedded file-system broker:
  its folders exist and can be written);
- reminders: how long the oldest message that is due and still unsent has waited. Workers that
  are up but not consuming (or no beat) show here and nowhere else: the dispatcher claims due
  rows every 30 seconds, so a wait past the threshold means nothing is sending;
- hl7: how long the oldest SIU message not yet delivered to the hospital (planned, sending or
  unknown) has waited since it was written. A figure for the monitor, never a failure: the
  hospital's interface engine being down must not take this unit's pages out of the load
  balancer.

A check that raises fails with the exception's class name only: messages from drivers can carry
connection strings, and the answer must never be a 500.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from hl7v2.sending import hl7_oldest_undelivered_seconds
from notifications.models import Reminder, ReminderStatus

BROKER_TIMEOUT = 2.0  # seconds


def database_check() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def broker_check() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out"):
            folder = Path(options[key])
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise NotADirectoryError(key)
        return {"transport": "filesystem"}
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT) as broker:
        # max_retries=0: one attempt; a probe that waits on retries is a probe that times out.
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
        return {"transport": broker.transport_cls}


def reminders_check() -> dict:
    now = timezone.now()
    # The partial index reminder_due (due_at WHERE status = 'planned') answers this from its
    # first entry: one index probe whatever the size of the outbox.
    oldest = (
        Reminder.objects.filter(status=ReminderStatus.PLANNED, due_at__lte=now)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    waited = int((now - oldest).total_seconds()) if oldest else 0
    threshold = settings.HEALTH_REMINDER_MAX_WAIT_SECONDS
    result = {"oldest_overdue_seconds": waited, "threshold_seconds": threshold}
    if waited > threshold:
        raise Overdue(result)
    return result


def hl7_check() -> dict:
    return {"oldest_undelivered_seconds": hl7_oldest_undelivered_seconds()}


class Overdue(Exception):
    """The check ran, and its figures say it fails."""

    def __init__(self, figures: dict) -> None:
        super().__init__("overdue")
        self.figures = figures


CHECKS: dict[str, Callable[[], dict]] = {
    "database": database_check,
    "broker": broker_check,
    "reminders": reminders_check,
    "hl7": hl7_check,
}


def run_check(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = {"status": "ok", **check()}
    except Overdue as exc:
        result = {"status": "fail", **exc.figures}
    except Exception as exc:  # noqa: BLE001 - any failure is this check failing, never a 500
        result = {"status": "fail", "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {name: run_check(check) for name, check in CHECKS.items()}
    ok = all(result["status"] == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
