"""The day board's repeated markup: one block per stage on its row and one row per case.

Written here rather than in templates/pages/board_body.html because it repeats ~1,500 times on
a busy day: Django's template engine spends ~10 µs on every variable it resolves, localises and
escapes, which made a 300-case board cost three times its data (bench/board.py). Here each
string is escaped once with the standard library and numbers are written as they are. The
template keeps everything that does not grow with the day (summary, legend, axis, rows' labels).
The markup is the page's alone: the board (board/day.py) holds plain data, shared with the JSON.
"""

from dataclasses import dataclass
from datetime import datetime
from html import escape

from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

from ..board.day import STAGE_LABELS, Block, CaseLine, DayBoard, Row
from ..timing import local_hm

UNDO_CLASS = "button-secondary step-undo"


@dataclass(frozen=True)
class BoardMarkup:
    tracks: list[tuple[Row, SafeString]]  # each row of rooms and bays with its blocks' markup
    case_rows: SafeString  # the table rows of the cases not cancelled or no-show
    alerts: SafeString  # the list items of what needs a nurse now: timers up, cases running late


def board_markup(
    board: DayBoard, *, request, case_url: str, refresh_seconds: int
) -> BoardMarkup:
    """The markup of each row's blocks and of the case list's rows."""
    zone = board.site.zone
    hours: dict[datetime, str] = {}

    def hhmm(instant: datetime) -> str:
        text = hours.get(instant)
        if text is None:
            text = hours[instant] = local_hm(instant, zone)
        return text

    now_line = (
        "" if board.now_left is None
        else f'<div class="now-line" style="left: {board.now_left}%" aria-hidden="true"></div>'
    )
    tracks = [
        (row, mark_safe("".join([_block(block, hhmm) for block in row.blocks]) + now_line))
        for row in board.rows
    ]
    # Every step's form carries the same hidden fields: written once for the day.
    hidden = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(request))}">'
        f'<input type="hidden" name="site" value="{escape(board.site.code)}">'
        f'<input type="hidden" name="date" value="{board.day:%Y-%m-%d}">'
        f'<input type="hidden" name="refresh" value="{refresh_seconds}">'
    )
    case_url = escape(case_url)
    case_rows = "".join(
        [_case_row(line, case_url=case_url, hidden=hidden) for line in board.active_cases]
    )
    alerts = "".join([_alerts(line) for line in board.active_cases])
    return BoardMarkup(tracks=tracks, case_rows=mark_safe(case_rows), alerts=mark_safe(alerts))


def short_name(patient) -> str:
    """A patient as a block names them: "Nakamura H.", telling apart two of one family name."""
    initial = patient.first_name[:1]
    return f"{patient.last_name} {initial}." if initial else patient.last_name


def _alerts(line: CaseLine) -> str:
    """What in this case needs a nurse, as a mark, a word and a colour, readable across the
    room: abnormal vitals and a cement set or recovery past its time first, then a case running
    late."""
    vitals = line.bedside.alert_words if line.bedside else []
    if not (line.timer_up or line.late or vitals):
        return ""
    name = escape(short_name(line.case.patient))
    items = ""
    if vitals:
        items += (
            f'<li class="alert alert-overdue"><span class="alert-mark" aria-hidden="true">⚠</span>'
            f" <strong>VITALS</strong> {name}: {escape(', '.join(vitals))}</li>"
        )
    if line.timer_up:
        items += (
            f'<li class="alert alert-overdue"><span class="alert-mark" aria-hidden="true">⚠</span>'
            f" <strong>OVERDUE</strong> {name} {escape(line.timer)}</li>"
        )
    if line.late:
        items += (
            f'<li class="alert alert-late"><span class="alert-mark" aria-hidden="true">⚠</span>'
            f" <strong>LATE</strong> {name} +{line.delay_minutes} min</li>"
        )
    return items


def _block(block: Block, hhmm) -> str:
    """A stage on its row. Its lines, most needed first, each cut with an ellipsis when the
    block is narrow; a line with no room below the others is left out whole (board.css), and
    the title holds all of it. The planned time is a thin bar above it, never an empty box."""
    stage, state = block.stage, block.state
    kind = stage.kind
    label = STAGE_LABELS[kind]
    patient = block.case.patient
    times = f"{hhmm(block.start)}–{hhmm(block.end)}"
    late = f", late by {block.delay_minutes} min" if block.late else ""
    timer = ""
    if block.timer:
        timer = f", overdue {block.timer}" if block.timer_up else f", {block.timer} left"
    title = escape(
        f"{patient.last_name}, {patient.first_name}: {label}, planned "
        f"{hhmm(stage.planned_start)}–{hhmm(stage.planned_end)}; {state} {times}{late}{timer}"
    )
    alerts = ""
    if block.timer_up:
        # The minutes first: on a narrow block the ellipsis takes the word, never the number.
        alerts += f'<strong class="block-alert">⚠ {block.timer} OVERDUE</strong>'
    elif block.timer:
        alerts += f'<span class="block-timer">{block.timer}</span>'
    if block.late and not block.timer:  # a countdown says it better
        alerts += f'<strong class="block-alert">⚠ LATE +{block.delay_minutes}</strong>'
    classes = f"block kind-{kind} state-{state}"
    if block.late:
        classes += " late"
    if block.timer_up:
        classes += " overdue"
    return (
        f'<div class="planned kind-{kind}" style="left: {block.planned_left}%; '
        f'width: {block.planned_width}%" aria-hidden="true"></div>'
        f'<div class="{classes}" id="stage-{stage.id}" data-stage="{stage.id}" '
        f'data-state="{state}" style="left: {block.left}%; width: {block.width}%" '
        f'title="{title}"><div class="block-body">'
        f'<span class="block-name">{escape(short_name(patient))}</span>'
        f'<span class="block-kind">{label}</span>{alerts}'
        f'<span class="block-time">{times}</span></div></div>'
    )


def _step(step, *, hidden: str, name: str) -> str:
    """A button in its own form, or a form that opens in place (a disclosure) for a step that
    asks for more than a click."""
    if step.panel:
        return (
            f'<details class="board-panel" data-panel="{step.action}">'
            f'<summary class="step-next" aria-label="{escape(step.label)}: {name}">'
            f"{escape(step.label)}</summary>"
            f'<form method="post" action="{escape(step.url)}" class="board-step-form">{hidden}'
            f"{step.panel}</form></details>"
        )
    return (
        f'<form method="post" action="{escape(step.url)}" class="board-step">{hidden}'
        f'<button type="submit" class="{UNDO_CLASS if step.undo else "step-next"}"'
        f' data-step="{step.action}" aria-label="{escape(step.label)}: {name}">'
        f"{escape(step.label)}</button></form>"
    )


def _case_row(line: CaseLine, *, case_url: str, hidden: str) -> str:
    case = line.case
    patient = case.patient
    name = escape(f"{patient.last_name}, {patient.first_name}")
    link = f'<a href="{case_url}{case.pk}/">'
    moved = f'<br><span class="muted">{line.procedure_moved}</span>' if line.procedure_moved else ""
    # A BoardCase's status label and the stage done are from dicts: nothing to escape.
    status = line.stage_done or case.get_status_display()
    if line.late:
        status += f'<br><strong class="late-label">⚠ Late +{line.delay_minutes} min</strong>'
    if line.timer:
        status += (
            f'<br><strong class="timer timer-up">⚠ Overdue: {line.timer}</strong>'
            if line.timer_up else f'<br><span class="timer">{line.timer}</span>'
        )
    if line.ready:
        status += f'<br><span class="muted">ready {line.ready}</span>'
    if case.driver_name:
        driver = escape(case.driver_name)
        if case.driver_phone:
            driver += f'<br><span class="muted phone">{escape(case.driver_phone)}</span>'
    else:
        driver = "<strong>none yet</strong>"
    flags = "".join(
        f'<li class="flag flag-{code}">{label}</li>' for code, label in line.flag_labels
    )
    steps = "".join([_step(step, hidden=hidden, name=name) for step in line.steps])
    alerts = line.bedside.alert_words if line.bedside else []
    if alerts:
        # Told once in the board's live region (_alerts); here it stays put in the row.
        status += f'<br><strong class="vitals-alert">⚠ Vitals: {", ".join(alerts)}</strong>'
    arrival = line.arrival
    if line.told_arrival:
        # The patient was told to come later: the time they will come, and when they were told.
        arrival = (
            f'<strong class="told-arrival">{line.told_arrival}</strong><br>'
            f'<span class="muted told">told at {line.told_at}, was {line.arrival}</span>'
        )
    return (
        f'<tr id="case-{case.pk}" class="{"case-late" if line.late else ""}">'
        f'<td class="time case-arrival" data-label="Arrival">{arrival}</td>'
        f'<td class="time case-procedure" data-label="Procedure">{line.procedure}{moved}</td>'
        f'<td class="case-patient">{link}{name}</a><br>'
        f'<span class="muted">{escape(patient.mrn)}</span></td>'
        f'<td class="case-status">{status}</td>'
        f'<td class="case-driver" data-label="Driver">{driver}</td>'
        f'<td class="case-flags"><ul class="flags">{flags}</ul></td>'
        f'<td class="case-actions" data-case-actions="{case.pk}">{steps}'
        f"{link}Open case</a></td></tr>"
    )
