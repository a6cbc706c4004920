"""Planning off the request path: the page or the API asks for a plan run (a row), a Celery
worker solves it (scheduling.tasks.plan_run), and the manager's page or client polls the row.

The row is the promise, as with reminders (DESIGN.md decision 2): the task sent after commit
only carries its id. A run the broker never took is failed at once; one whose worker died is
reported failed when read after `LOST_AFTER`, so nobody waits for ever. A run is claimed by one
update from queued to running, so a redelivered task does not solve it twice.
"""

import logging
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from vertebro_site.celery import app

from ..errors import SchedulingError
from ..models import Site
from ..plan_models import PlanRun, PlanRunStatus
from ..selectors import MAX_ID, visible_sites
from ..services.booking import check_day
from .loader import instant
from .proposal import Proposal, plan_propose
from .result import proposal_json

log = logging.getLogger(__name__)

PLAN_RUN_TASK = "scheduling.tasks.plan_run"
# The longest solve (20 s) and its what-if, with room for a busy worker to take the task.
LOST_AFTER = timedelta(minutes=5)
WAITING = (PlanRunStatus.QUEUED, PlanRunStatus.RUNNING)


def plan_run_request(
    *, site: Site, day: date, by: AbstractBaseUser, options: dict
) -> PlanRun:
    """Queue a plan of the day; a day that cannot be planned is refused now, not later."""
    check_day(site, day)
    run = PlanRun.objects.create(
        site=site, day=day, requested_by=by, options=options,
        progress="Waiting for the planner to start.",
    )
    transaction.on_commit(lambda: _send(run.pk))
    return run


def _send(run_id: int) -> None:
    try:
        app.send_task(PLAN_RUN_TASK, args=[run_id])
    except Exception as exc:  # the broker is down: say so now rather than leave the run queued
        log.warning("plan run %s: could not be queued: %s", run_id, type(exc).__name__)
        _finish(run_id, PlanRunStatus.FAILED, error_code="planner_unavailable",
                error_detail="The planner could not be reached; try again in a minute.")


def plan_run_execute(*, run_id: int) -> PlanRun | None:
    """Solve a queued run and keep the proposal on it; None if it was not waiting."""
    now = timezone.now()
    claimed = PlanRun.objects.filter(pk=run_id, status=PlanRunStatus.QUEUED).update(
        status=PlanRunStatus.RUNNING, started_at=now, progress="Reading the day."
    )
    if not claimed:
        return None
    run = PlanRun.objects.select_related("site").get(pk=run_id)
    try:
        proposal = plan_propose(
            site=run.site, day=run.day, progress=lambda text: _progress(run_id, text),
            **run.options,
        )
    except SchedulingError as error:
        _finish(run_id, PlanRunStatus.FAILED, error_code=error.code, error_detail=error.detail)
    except Exception as exc:
        # The type only: a message could carry a patient's details into the log.
        log.error("plan run %s failed: %s", run_id, type(exc).__name__)
        _finish(run_id, PlanRunStatus.FAILED, error_code="planner_failed",
                error_detail="The planner failed on this day; try again, or plan by hand.")
    else:
        _finish(run_id, PlanRunStatus.DONE, result=run_result(proposal))
    return PlanRun.objects.get(pk=run_id)


def _progress(run_id: int, text: str) -> None:
    PlanRun.objects.filter(pk=run_id, status=PlanRunStatus.RUNNING).update(progress=text)


def _finish(run_id: int, status: str, **fields) -> None:
    progress = "Done." if status == PlanRunStatus.DONE else "Stopped."
    PlanRun.objects.filter(pk=run_id, status__in=WAITING).update(
        status=status, progress=progress, finished_at=timezone.now(), **fields
    )


def run_result(proposal: Proposal) -> dict:
    """The API's proposal, and what the plan page shows beside it."""
    current_end = proposal.current_end
    return {
        "proposal": proposal_json(proposal),
        "labels": {row.key: row.label for row in proposal.rows},
        "end_now": instant(current_end).isoformat() if current_end is not None else None,
        "changes": proposal.changes,
    }


def plan_run_status(run: PlanRun) -> tuple[str, str, str]:
    """(status, error code, error detail) as the manager should see them now: a run waiting
    far longer than any solve lost its worker."""
    if run.status in WAITING and run.created_at < timezone.now() - LOST_AFTER:
        return (PlanRunStatus.FAILED, "planner_lost",
                "The planner stopped before it finished (a worker restarted); propose again.")
    return run.status, run.error_code, run.error_detail


def plan_run_get(
    *, pk: int, user, site_code: str | None = None, day: date | None = None
) -> PlanRun | None:
    """A plan run of one of the user's sites (of that site and day when given), or None: one of
    another site is not found, like one that does not exist."""
    if not 0 < pk <= MAX_ID:
        return None
    runs = PlanRun.objects.filter(pk=pk, site__in=visible_sites(user))
    if site_code is not None:
        runs = runs.filter(site__code=site_code)
    if day is not None:
        runs = runs.filter(day=day)
    return runs.select_related("site").first()
