"""The nurse's one-click steps on the day board: check in, start and finish each stage in order,
discharge, and undo a mistaken click for two minutes.

Each case row of the board carries its next step and, while the last step is recent, Undo, as
small POST forms (no script: the board's body is swapped every few seconds and plain forms keep
working after a swap). The view calls one tracking service and tells the outcome with a message:
the service decides what is allowed and says why not, in the nurse's words.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from .. import roles, selectors
from ..board.day import STAGE_LABELS, CaseLine, DayBoard
from ..errors import SchedulingError
from ..horizon import day_parse
from ..models import (
    CLOSED_STATUSES,
    NOT_ARRIVED_STATUSES,
    RELEASED_STATUSES,
    Case,
    CaseEvent,
    StageKind,
)
from ..services import tracking
from ..services.running_late import late_notice_offer
from ..timing import local_hm
from .access import role_required

# As the board page allows (pages/board.py, which imports this module).
REFRESH_RANGE = (1, 15)
TRACK_REFUSED = "Only a nurse or clinician may start or finish a stage or discharge a patient."


@dataclass(frozen=True)
class Step:
    """A button in a case row: `action` is the last part of its URL."""

    action: str
    label: str
    url: str = ""
    undo: bool = False


def _slug(kind: str) -> str:
    return kind.replace("_", "-")


# The board's steps


def case_steps_attach(board: DayBoard, *, user) -> None:
    """Give each case line of the board its `steps` (the next step, then Undo while the last
    step is less than two minutes old). One query for the whole day, whatever its size."""
    lines = board.cases
    may_act = roles.user_has_role(user, roles.CHECK_IN)
    board.late_notices = 0
    recent = _cases_with_a_recent_step(lines, board.now) if may_act else set()
    # One reverse() for the day rather than one per button.
    base = reverse("board-action", args=[1, "undo"]).removesuffix("1/undo/")
    for line in lines:
        line.steps = []
        if not may_act:
            continue
        steps = [_next_step(line)]
        if line.case.pk in recent and line.case.status not in RELEASED_STATUSES:
            steps.append(Step("undo", "Undo", undo=True))
        delay = late_notice_offer(line)
        if delay:
            steps.append(Step("tell-late", f"Tell: arrive +{delay} min"))
            board.late_notices += 1
        line.steps = [
            Step(step.action, step.label, f"{base}{line.case.pk}/{step.action}/", step.undo)
            for step in steps
            if step is not None
        ]


def _cases_with_a_recent_step(lines: list[CaseLine], now: datetime) -> set[int]:
    # Steps are recorded in time order, so a case's last step (the one undo reverts) is recent
    # exactly when any of its steps still in force is.
    ids = [line.case.pk for line in lines if line.case.status not in RELEASED_STATUSES]
    if not ids:
        return set()
    return set(
        CaseEvent.objects.filter(
            case_id__in=ids, undone_at__isnull=True, at__gt=now - tracking.UNDO_WINDOW
        ).values_list("case_id", flat=True)
    )


def _next_step(line: CaseLine) -> Step | None:
    status = line.case.status
    if status in NOT_ARRIVED_STATUSES:
        return Step("check-in", "Check in")
    if status in CLOSED_STATUSES:
        return None
    for stage, *_ in line.stages:
        name = STAGE_LABELS[stage.kind].lower()
        if stage.actual_start is None:
            return Step(f"start-{_slug(stage.kind)}", f"Start {name}")
        if stage.actual_end is None:
            return Step(f"finish-{_slug(stage.kind)}", f"Finish {name}")
    return Step("discharge", "Discharge")


# The view


@dataclass(frozen=True)
class Action:
    run: Callable[..., Case]
    tracks: bool  # a stage or a discharge: nurses and clinicians only
    done: Callable[[Case], str]


def _stage_done(kind: str, verb: str) -> Callable[[Case], str]:
    name = StageKind(kind).label

    def done(case: Case) -> str:
        return f"{who(case)}: {name.lower()} {verb} at {local_hm(timezone.now(), case.site.zone)}."

    return done


def _actions() -> dict[str, Action]:
    actions = {
        "check-in": Action(
            run=tracking.case_check_in,
            tracks=False,
            done=lambda case: f"{who(case)} is checked in.",
        ),
        "discharge": Action(
            run=tracking.case_discharge,
            tracks=True,
            done=lambda case: f"{who(case)} is discharged.",
        ),
        # Who may undo depends on the step undone: the service decides.
        "undo": Action(
            run=tracking.case_undo,
            tracks=False,
            done=lambda case: f"Undone: {who(case)} is {case.get_status_display().lower()} "
            "again.",
        ),
    }
    for kind in StageKind.values:
        actions[f"start-{_slug(kind)}"] = Action(
            run=lambda *, case, by, kind=kind: tracking.stage_start(case=case, kind=kind, by=by),
            tracks=True,
            done=_stage_done(kind, "started"),
        )
        actions[f"finish-{_slug(kind)}"] = Action(
            run=lambda *, case, by, kind=kind: tracking.stage_finish(case=case, kind=kind, by=by),
            tracks=True,
            done=_stage_done(kind, "finished"),
        )
    return actions


ACTIONS = _actions()


@role_required(*roles.CHECK_IN)
@require_POST
def board_action(request, pk: int, action: str):
    chosen = ACTIONS.get(action)
    case = selectors.case_get(pk, request.user)
    if chosen is None or case is None:
        raise Http404("No such case or step.")
    back = _board_url(request, case)
    if chosen.tracks and not roles.user_has_role(request.user, roles.TRACK_STAGES):
        messages.error(request, TRACK_REFUSED)
        return redirect(back)
    try:
        changed = chosen.run(case=case, by=request.user)
    except SchedulingError as error:
        messages.error(request, f"{who(case)}: {error.detail}")
        return redirect(back)
    messages.success(request, chosen.done(changed))
    return redirect(back)


def _board_url(request, case: Case) -> str:
    return board_url(request, site_code=case.site.code, day=case.day, anchor=f"case-{case.pk}")


def board_url(request, *, site_code: str, day: date, anchor: str = "") -> str:
    """Back to the board the form was on: its site and date if they are well formed and the
    user works at that site, else the given site and day."""
    site = request.POST.get("site", "")
    if site not in {each.code for each in selectors.visible_sites(request.user)}:
        site = site_code
    day = day_parse(request.POST.get("date", "")) or day
    query = {"site": site, "date": day.isoformat()}
    refresh = request.POST.get("refresh", "")
    low, high = REFRESH_RANGE
    # Compared as text: "²".isdigit() is true but int("²") raises, as int() does past 4,300 digits.
    if refresh in {str(seconds) for seconds in range(low, high + 1)}:
        query["refresh"] = refresh
    return reverse("board") + "?" + urlencode(query) + (f"#{anchor}" if anchor else "")


def who(case) -> str:
    return f"{case.patient.last_name}, {case.patient.first_name}"
