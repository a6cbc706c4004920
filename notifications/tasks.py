"""Thin Celery tasks; the schedule that runs them is in vertebro_site/celery.py."""

import time

from celery import shared_task

from . import dispatch


@shared_task(ignore_result=True)
def dispatch_due_reminders(max_seconds: float = 25.0) -> int:
    """Send due reminders, batch after batch, until none is due or the time is up (the next
    beat tick carries on). Any number of these may run at once: claims never overlap."""
    deadline = time.monotonic() + max_seconds
    sent = 0
    while time.monotonic() < deadline:
        claimed = dispatch.reminders_dispatch()
        sent += claimed
        if claimed == 0:
            break
    return sent


@shared_task(ignore_result=True)
def sweep_reminders() -> dict:
    return dispatch.reminders_sweep()
