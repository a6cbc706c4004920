"""Thin Celery tasks for offering freed times and planning a day; the schedule that runs the
periodic ones is in vertebro_site/celery.py."""

from celery import shared_task

from .holding import slot_holds_expire
from .offers import sending, waves
from .plan import runs
from .services.reviews import cases_review_expire


@shared_task(ignore_result=True)
def offers_start(freed_time_id: int) -> int:
    """Sent after the commit that freed a time (scheduling.offers.freed.OFFERS_START_TASK)."""
    made = waves.freed_time_offers_start(freed_time_id=freed_time_id)
    sending.offers_dispatch()
    return made


@shared_task(ignore_result=True)
def offers_tick() -> int:
    """Expire, start the next waves, send what is due and recover stuck sends."""
    sending.offers_sweep()
    waves.offers_tick()
    return sending.offers_dispatch()


@shared_task(ignore_result=True)
def review_holds_expire() -> int:
    """Release the rooms of bookings awaiting a clinician's review past their site's hold."""
    return cases_review_expire()


@shared_task(ignore_result=True)
def slot_holds_sweep() -> int:
    """Let the holds of times past their minutes go (FHIR Appointment/$hold)."""
    return slot_holds_expire()


@shared_task(ignore_result=True)
def plan_run(plan_run_id: int) -> None:
    """Sent after the commit that asked for a plan (scheduling.plan.runs.PLAN_RUN_TASK)."""
    runs.plan_run_execute(run_id=plan_run_id)
