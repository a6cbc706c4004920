"""The running-late notice from the day board: a patient not checked in yet, whose procedure is
projected to start more than LATE_NOTICE_MINUTES late, is told a new arrival time.

One button per such patient in their case row, and one for the day that tells all of them at
once. Either way the delay is the board's, worked out again here (never taken from the form), so
a stale page cannot send a wrong time, and a patient is told once per delay
(notifications.services.running_late_notify).
"""

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import horizon, roles, selectors
from ..board.day import day_board_get
from ..errors import SchedulingError
from ..models import Case
from .access import role_required
from .board_actions import LATE_NOTICE_MINUTES, board_url, late_notice_delay, who

TOLD, ALREADY, UNREACHABLE = "told", "already", "unreachable"


@role_required(*roles.CHECK_IN)
@require_POST
def board_tell_late(request, pk: int):
    case = selectors.case_get(pk, request.user)
    if case is None:
        raise Http404("No such case.")
    back = board_url(request, site_code=case.site.code, day=case.day, anchor=f"case-{case.pk}")
    board = day_board_get(case.site, case.day, timezone.now())
    line = next((line for line in board.cases if line.case.pk == case.pk), None)
    delay = late_notice_delay(line) if line else 0
    if not delay:
        messages.error(
            request,
            f"{who(case)}: not told. Only a patient not checked in yet whose procedure runs "
            f"more than {LATE_NOTICE_MINUTES} minutes late can be given a new arrival time.",
        )
        return redirect(back)
    outcome, new_arrival = _tell(case, delay, by=request.user)
    if outcome == TOLD:
        messages.success(request, f"{who(case)}: patient told to arrive at {new_arrival}.")
    elif outcome == ALREADY:
        messages.info(request, f"{who(case)}: already told to arrive at {new_arrival}.")
    else:
        messages.error(request, f"{who(case)}: not told: no phone or email to reach them.")
    return redirect(back)


@role_required(*roles.CHECK_IN)
@require_POST
def board_tell_late_all(request):
    """The room runs late: one click tells every patient still to come their new time."""
    code = request.POST.get("site", "")
    site = next((s for s in selectors.visible_sites(request.user) if s.code == code), None)
    if site is None:
        raise Http404("No such site.")
    now = timezone.now()
    today = now.astimezone(site.zone).date()
    day = horizon.day_parse(request.POST.get("date", "")) or today
    back = board_url(request, site_code=site.code, day=day, anchor="board-cases-heading")
    try:
        horizon.day_shown_check(day=day, today=today)
    except SchedulingError as error:
        messages.error(request, f"Nobody told: {error.detail}")
        return redirect(back)
    delays = {
        line.case.pk: delay
        for line in day_board_get(site, day, now).cases
        if (delay := late_notice_delay(line))
    }
    if not delays:
        messages.info(
            request,
            f"Nobody to tell: no patient still to come is more than {LATE_NOTICE_MINUTES} "
            "minutes late.",
        )
        return redirect(back)
    outcomes: dict[str, list[str]] = {TOLD: [], ALREADY: [], UNREACHABLE: []}
    cases = Case.objects.filter(pk__in=delays).select_related("patient", "site")
    for case in cases.order_by("procedure_start", "pk"):
        outcome, new_arrival = _tell(case, delays[case.pk], by=request.user)
        outcomes[outcome].append(f"{who(case)} ({new_arrival})")
    if outcomes[TOLD]:
        messages.success(request, f"Told to arrive later: {'; '.join(outcomes[TOLD])}.")
    if outcomes[ALREADY]:
        messages.info(request, f"Already told: {'; '.join(outcomes[ALREADY])}.")
    if outcomes[UNREACHABLE]:
        messages.error(
            request, f"Not told (no phone or email): {'; '.join(outcomes[UNREACHABLE])}."
        )
    return redirect(back)


def _tell(case: Case, delay: int, *, by) -> tuple[str, str]:
    """Tell one patient; the outcome and the new arrival time (HH:MM at the site)."""
    from notifications.services import running_late_note, running_late_notify

    new_arrival = f"{(case.arrival_at + timedelta(minutes=delay)).astimezone(case.site.zone):%H:%M}"
    with transaction.atomic():
        planned = running_late_notify(case=case, delay_minutes=delay, by=by)
    if planned:
        return TOLD, new_arrival
    if case.reminders.filter(
        kind="running_late", plan_version=case.plan_version, note=running_late_note(delay)
    ).exists():
        return ALREADY, new_arrival
    return UNREACHABLE, new_arrival
