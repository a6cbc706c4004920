"""Thin Celery tasks; the schedule that runs them is in vertebro_site/celery.py."""

import time

from celery import shared_task

from . import sending


@shared_task(ignore_result=True)
def hl7_dispatch_due(max_seconds: float = 25.0) -> int:
    """Send due SIU messages, batch after batch, until none is due or the time is up (the next
    beat tick carries on). Any number of these may run at once: claims never overlap."""
    deadline = time.monotonic() + max_seconds
    claimed = 0
    while time.monotonic() < deadline:
        outcomes = sending.hl7_dispatch()
        claimed += len(outcomes)
        if not outcomes:
            break
    return claimed


@shared_task(ignore_result=True)
def hl7_sweep() -> dict:
    return sending.hl7_sweep()
