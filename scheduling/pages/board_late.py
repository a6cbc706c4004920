"""The running-late notice from the day board: one button per patient not checked in yet whose
procedure runs late, and one for the day that tells all of them at once. The workflow (who is
late enough, what they are told, once per delay) is services/running_late.py; these views read
the form, call it and say what came of it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import horizon, roles, selectors
from ..errors import SchedulingError
from ..services.running_late import (
    ALREADY,
    LATE_NOTICE_MINUTES,
    TOLD,
    UNREACHABLE,
    case_tell_late,
    site_day_tell_late,
)
from .access import role_required
from .board_actions import board_url, who


@role_required(*roles.CHECK_IN)
@require_POST
def board_tell_late(request, pk: int):
    case = selectors.case_get(pk, request.user)
    if case is None:
        raise Http404("No such case.")
    back = board_url(request, site_code=case.site.code, day=case.day, anchor=f"case-{case.pk}")
    try:
        notice = case_tell_late(case=case, by=request.user)
    except SchedulingError as error:
        messages.error(request, f"{who(case)}: not told. {error.detail}")
        return redirect(back)
    if notice.outcome == TOLD:
        messages.success(request, f"{who(case)}: patient told to arrive at {notice.new_arrival}.")
    elif notice.outcome == ALREADY:
        messages.info(request, f"{who(case)}: already told to arrive at {notice.new_arrival}.")
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
    day = horizon.day_parse(request.POST.get("date", "")) or now.astimezone(site.zone).date()
    back = board_url(request, site_code=site.code, day=day, anchor="board-cases-heading")
    try:
        notices = site_day_tell_late(site=site, day=day, by=request.user, now=now)
    except SchedulingError as error:
        messages.error(request, f"Nobody told: {error.detail}")
        return redirect(back)
    if not notices:
        messages.info(
            request,
            f"Nobody to tell: no patient still to come is more than {LATE_NOTICE_MINUTES} "
            "minutes late.",
        )
        return redirect(back)
    outcomes: dict[str, list[str]] = {TOLD: [], ALREADY: [], UNREACHABLE: []}
    for notice in notices:
        outcomes[notice.outcome].append(f"{who(notice.case)} ({notice.new_arrival})")
    if outcomes[TOLD]:
        messages.success(request, f"Told to arrive later: {'; '.join(outcomes[TOLD])}.")
    if outcomes[ALREADY]:
        messages.info(request, f"Already told: {'; '.join(outcomes[ALREADY])}.")
    if outcomes[UNREACHABLE]:
        messages.error(
            request, f"Not told (no phone or email): {'; '.join(outcomes[UNREACHABLE])}."
        )
    return redirect(back)
