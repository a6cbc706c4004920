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
    return BoardMarkup(tracks=tracks, case_rows=mark_safe(case_rows))


def _block(block: Block, hhmm) -> str:
    stage, state = block.stage, block.state
    kind = stage.kind
    label = STAGE_LABELS[kind]
    patient = block.case.patient
    times = f"{hhmm(block.start)}–{hhmm(block.end)}"
    late = f", late by {block.delay_minutes} min" if block.late else ""
    title = escape(
        f"{patient.last_name}, {patient.first_name}: {label}, planned "
        f"{hhmm(stage.planned_start)}–{hhmm(stage.planned_end)}; {state} {times}{late}"
    )
    late_label = (
        f' <strong class="late-label">late +{block.delay_minutes}</strong>' if block.late else ""
    )
    return (
        f'<div class="planned kind-{kind}" style="left: {block.planned_left}%; '
        f'width: {block.planned_width}%" aria-hidden="true"></div>'
        f'<div class="block kind-{kind} state-{state}{" late" if block.late else ""}" '
        f'id="stage-{stage.id}" data-stage="{stage.id}" data-state="{state}" '
        f'style="left: {block.left}%; width: {block.width}%" title="{title}">'
        f'<span class="block-name">{escape(patient.last_name)}</span>'
        f'<span class="block-kind">{label}</span>'
        f'<span class="block-time">{times}</span>{late_label}</div>'
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
    status = case.get_status_display()  # a BoardCase's: a dict, nothing to escape
    if line.late:
        status += f'<br><strong class="late-label">late +{line.delay_minutes} min</strong>'
    if line.timer:
        status += (
            f'<br><strong class="timer timer-up" role="alert">⚠ {line.timer}</strong>'
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
        status += (
            f'<br><strong class="vitals-alert" role="alert">⚠ Vitals: {", ".join(alerts)}'
            "</strong>"
        )
    return (
        f'<tr id="case-{case.pk}" class="{"case-late" if line.late else ""}">'
        f'<td class="time">{line.arrival}</td>'
        f'<td class="time">{line.procedure}{moved}</td>'
        f'<td>{link}{name}</a><br><span class="muted">{escape(patient.mrn)}</span></td>'
        f'<td class="case-status">{status}</td>'
        f"<td>{driver}</td>"
        f'<td><ul class="flags">{flags}</ul></td>'
        f'<td class="case-actions" data-case-actions="{case.pk}">{steps}'
        f"{link}Open case</a></td></tr>"
    )
