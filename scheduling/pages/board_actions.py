"""The nurse's steps on the day board: check in, start and finish each stage in order,
discharge, and undo a mistaken click for two minutes; and, in place, the records the rules ask
for: the pre-op checklist, vitals, the discharge assessment, the driver's arrival, and a reason
where a step is taken against a rule (the cement set finished early, a clinician's override).

Each case row of the board carries its next step (a button, or a form that opens in place) and,
while the last step is recent, Undo, as small POST forms (no script needed: the board's body is
swapped every few seconds and plain forms keep working after a swap; the script holds the swap
while a form is open). The view calls one service and tells the outcome with a message: the
service decides what is allowed and says why not, in the nurse's words.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from .. import bedside, roles, selectors
from ..bedside_models import VitalsPhase
from ..board.bedside import Bedside, bedside_of_day
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
from ..services import bedside as bedside_services
from ..services import tracking
from ..services.running_late import late_notice_offer
from ..timing import local_hm
from . import board_panels as panels
from .access import role_required

# As the board page allows (pages/board.py, which imports this module).
REFRESH_RANGE = (1, 15)
TRACK_REFUSED = "Only a nurse or clinician may start or finish a stage or discharge a patient."


@dataclass(frozen=True)
class Step:
    """A button in a case row, or with `panel` (its form's fields) a form that opens in place:
    `action` is the last part of its URL."""

    action: str
    label: str
    url: str = ""
    undo: bool = False
    panel: str = ""


def _slug(kind: str) -> str:
    return kind.replace("_", "-")


# The board's steps


def case_steps_attach(board: DayBoard, *, user) -> None:
    """Give each case line of the board its `steps` (the next step, then Undo while the last
    step is less than two minutes old). One query for the whole day, whatever its size."""
    lines = board.cases
    may_act = roles.user_has_role(user, roles.CHECK_IN)
    tracks = roles.user_has_role(user, roles.TRACK_STAGES)
    may_override = roles.user_has_role(user, roles.OVERRIDE_BEDSIDE_RULES)
    board.late_notices = 0
    recent = _cases_with_a_recent_step(lines, board.now) if may_act else set()
    records = (
        bedside_of_day(
            [line.case for line in lines],
            site=board.site,
            stages_of={line.case.pk: [stage for stage, *_ in line.stages] for line in lines},
            now=board.now,
        )
        if may_act
        else {}
    )
    # One reverse() for the day rather than one per button.
    base = reverse("board-action", args=[1, "undo"]).removesuffix("1/undo/")
    for line in lines:
        line.steps = []
        line.bedside = records.get(line.case.pk)
        if not may_act:
            continue
        steps = _next_steps(
            line, board, tracks=tracks, may_override=may_override
        )
        if line.case.pk in recent and line.case.status not in RELEASED_STATUSES:
            steps.append(Step("undo", "Undo", undo=True))
        delay = late_notice_offer(line)
        if delay:
            steps.append(Step("tell-late", f"Tell: arrive +{delay} min"))
            board.late_notices += 1
        line.steps = [
            Step(
                step.action, step.label, f"{base}{line.case.pk}/{step.action}/", step.undo,
                step.panel,
            )
            for step in steps
        ]


def _cases_with_a_recent_step(lines: list[CaseLine], now: datetime) -> set[int]:
    # Steps are recorded in time order, so a case's last step (the one undo reverts) is recent
    # exactly when any of its steps still in force is.
    ids = [line.case.pk for line in lines if line.case.status not in RELEASED_STATUSES]
    if not ids:
        return set()
    return set(
        CaseEvent.objects.filter(
            case_id__in=ids, undone_at__isnull=True, at__gt=now - tracking.UNDO_WINDOW,
            action__in=tracking.DAY_STEPS,
        ).values_list("case_id", flat=True)
    )


def _next_steps(
    line: CaseLine, board: DayBoard, *, tracks: bool, may_override: bool
) -> list[Step]:
    """The case's next step first, then the records its stage asks for. Only nurses and
    clinicians get the stage steps; the front desk gets check-in."""
    case, state = line.case, line.bedside
    status = case.status
    if status in NOT_ARRIVED_STATUSES:
        return [Step("check-in", "Check in")]
    if status in CLOSED_STATUSES or not tracks or state is None:
        return []
    current = next((stage for stage, *_ in line.stages if stage.actual_end is None), None)
    if current is None:  # every stage finished (a day recorded before discharge ended them)
        return [_discharge_step(state, may_override)]
    kind, name = current.kind, STAGE_LABELS[current.kind].lower()
    slug = _slug(kind)
    checklist = _checklist_step(state, case)
    if current.actual_start is None:
        if kind == StageKind.PROCEDURE and not state.checklist.complete:
            missing = [f"{state.checklist.label(code)}: not done." for code in
                       state.checklist.missing]
            steps = [checklist, *_vitals_steps(state, VitalsPhase.PRE_OP, only_missing=True)]
            if may_override:
                steps.append(Step(f"start-{slug}", f"Start {name} anyway…", panel=(
                    panels.reason_fields(missing, may=True, button=f"Start {name} anyway")
                )))
            return steps
        return [Step(f"start-{slug}", f"Start {name}")]
    if kind == StageKind.PRE_OP:
        return [
            Step(f"finish-{slug}", f"Finish {name}"),
            checklist,
            *_vitals_steps(state, VitalsPhase.PRE_OP),
        ]
    if kind == StageKind.RECOVERY:
        steps = [_discharge_step(state, may_override)]
        steps += _vitals_steps(state, VitalsPhase.RECOVERY)
        score = "" if state.latest_score is None else f" ({state.latest_score}/10)"
        steps.append(Step("assess", f"Aldrete score{score}", panel=panels.assessment_fields()))
        if case.driver_name.strip() and case.driver_present_at is None:
            steps.append(Step("driver-present", "Driver is here"))
        return steps
    minimum = state.minimums.get(kind)
    if minimum and board.now - current.actual_start < timedelta(minutes=minimum):
        until = local_hm(current.actual_start + timedelta(minutes=minimum), board.site.zone)
        return [Step(f"finish-{slug}", f"Finish {name} early…", panel=panels.reason_fields(
            [f"{STAGE_LABELS[kind]} lasts at least {minimum} min, until {until}."],
            may=True,
            button=f"Finish {name} early",
        ))]
    return [Step(f"finish-{slug}", f"Finish {name}")]


def _checklist_step(state: Bedside, case) -> Step:
    checklist = state.checklist
    done = len(checklist.items) - len(checklist.missing)
    return Step(
        "checklist",
        f"Checklist {done}/{len(checklist.items)}",
        panel=panels.checklist_fields(state, inr=case.inr, inr_limit=case.site.inr_limit),
    )


def _vitals_steps(state: Bedside, phase: str, *, only_missing: bool = False) -> list[Step]:
    recorded = phase in state.vitals_phases
    if recorded and only_missing:
        return []
    label = f"{VitalsPhase(phase).label} vitals{' ✓' if recorded else ''}"
    return [Step(f"vitals-{_slug(phase)}", label, panel=panels.vitals_fields(phase))]


def _discharge_step(state: Bedside, may_override: bool) -> Step:
    unmet = state.discharge_unmet
    if not unmet:
        return Step("discharge", "Discharge")
    return Step("discharge", "Discharge…", panel=panels.reason_fields(
        list(unmet.values()), may=may_override, button="Discharge anyway"
    ))


# The view


@dataclass(frozen=True)
class Action:
    # Called with the case, the user and the form's fields; answers what was done, in words.
    run: Callable[..., str]
    tracks: bool  # anything but check-in and undo: nurses and clinicians only


def _stage_step(verb: str, kind: str) -> Callable[..., str]:
    name = StageKind(kind).label.lower()

    def run(*, case, by, form) -> str:
        reason = form.get("reason", "")
        if verb == "started":
            tracking.stage_start(case=case, kind=kind, by=by, override_reason=reason)
        else:
            tracking.stage_finish(case=case, kind=kind, by=by, early_reason=reason)
        return f"{who(case)}: {name} {verb} at {local_hm(timezone.now(), case.site.zone)}."

    return run


def _check_in(*, case, by, form) -> str:
    tracking.case_check_in(case=case, by=by)
    return f"{who(case)} is checked in."


def _discharge(*, case, by, form) -> str:
    tracking.case_discharge(case=case, by=by, override_reason=form.get("reason", ""))
    return f"{who(case)} is discharged."


def _undo(*, case, by, form) -> str:
    changed = tracking.case_undo(case=case, by=by)
    return f"Undone: {who(case)} is {changed.get_status_display().lower()} again."


def _checklist(*, case, by, form) -> str:
    shown = form.getlist("shown")
    ticked = set(form.getlist("item"))
    inr = {}
    if "inr" in form:
        inr["inr"] = _inr(form["inr"])
    checklist = bedside_services.checklist_update(
        case=case, by=by, ticks={code: code in ticked for code in shown}, **inr
    )
    if checklist.complete:
        return f"{who(case)}: the pre-op checklist is complete."
    return f"{who(case)}: checklist saved; {len(checklist.missing)} still to do."


def _inr(text: str) -> Decimal | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    inr = bedside.inr_from(text)
    if inr is None:
        raise SchedulingError("invalid", f"“{text[:20]}” is not an INR; give a number such as 1.2.")
    return inr


def _whole_numbers(form, names) -> dict[str, int]:
    values = {}
    for name in names:
        text = form.get(name, "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 4):
            raise SchedulingError("invalid", "Give every value as a whole number.", field=name)
        values[name] = int(text)
    return values


def _vitals(phase: str) -> Callable[..., str]:
    def run(*, case, by, form) -> str:
        values = _whole_numbers(form, bedside.PHYSIOLOGICAL)
        vitals = bedside_services.vitals_record(case=case, phase=phase, values=values, by=by)
        alerts = bedside.vitals_alerts(vitals, case.site)
        words = ", ".join(dict.fromkeys(bedside.ALERT_WORDS[alert] for alert in alerts))
        return f"{who(case)}: {VitalsPhase(phase).label.lower()} vitals recorded" + (
            f"; look again: {words}." if words else "."
        )

    return run


def _assess(*, case, by, form) -> str:
    scores = _whole_numbers(form, bedside.ALDRETE_ITEMS)
    if any(score > 2 for score in scores.values()):
        raise SchedulingError("invalid", "Each item of the score is 0, 1 or 2.")
    assessment = bedside_services.discharge_assess(case=case, scores=scores, by=by)
    return f"{who(case)}: Aldrete score {assessment.total}/10 recorded."


def _driver_present(*, case, by, form) -> str:
    bedside_services.checklist_update(case=case, by=by, driver_present=True)
    return f"{who(case)}: the driver is here."


def _actions() -> dict[str, Action]:
    actions = {
        "check-in": Action(run=_check_in, tracks=False),
        "discharge": Action(run=_discharge, tracks=True),
        # Who may undo depends on the step undone: the service decides.
        "undo": Action(run=_undo, tracks=False),
        "checklist": Action(run=_checklist, tracks=True),
        "assess": Action(run=_assess, tracks=True),
        "driver-present": Action(run=_driver_present, tracks=True),
    }
    for phase in VitalsPhase.values:
        actions[f"vitals-{_slug(phase)}"] = Action(run=_vitals(phase), tracks=True)
    for kind in StageKind.values:
        actions[f"start-{_slug(kind)}"] = Action(run=_stage_step("started", kind), tracks=True)
        actions[f"finish-{_slug(kind)}"] = Action(run=_stage_step("finished", kind), tracks=True)
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
        done = chosen.run(case=case, by=request.user, form=request.POST)
    except SchedulingError as error:
        messages.error(request, f"{who(case)}: {error.detail}")
        return redirect(back)
    messages.success(request, done)
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
