"""The fields of the board's in-place forms: the pre-op checklist, vitals, the discharge
assessment, and a reason for a step taken against a rule. Written as strings for the reason
board_html.py gives (they repeat for every case in the unit); every text from the database is
escaped here. Inputs sit inside their labels, so no id has to be unique across the board."""

from html import escape

from .. import bedside
from ..board.bedside import Bedside

VITALS_FIELDS = (
    ("systolic", "BP systolic", "mmHg"),
    ("diastolic", "BP diastolic", "mmHg"),
    ("heart_rate", "Heart rate", "/min"),
    ("spo2", "SpO2", "%"),
    ("resp_rate", "Resp. rate", "/min"),
)
ALDRETE_LABELS = {
    "activity": ("Activity", ("none", "two limbs", "four limbs")),
    "respiration": ("Respiration", ("apnoeic", "shallow / limited", "breathes deeply, coughs")),
    "circulation": ("Circulation (BP vs pre-op)", ("±50% or more", "±20-50%", "within ±20%")),
    "consciousness": ("Consciousness", ("not responding", "rousable", "fully awake")),
    "oxygen_saturation": (
        "Oxygen saturation", ("<90% with O2", ">90% with O2", ">92% on room air")
    ),
}


def checklist_fields(state: Bedside, *, inr, inr_limit) -> str:
    checklist = state.checklist
    rows = []
    for item in checklist.items:
        done = checklist.done.get(item.code, False)
        label = escape(item.label)
        if item.code == bedside.PREOP_VITALS:
            rows.append(
                f'<li class="{"check-done" if done else "check-missing"}">'
                f'{"✓" if done else "✗"} {label}'
                f'{"" if done else " (record pre-op vitals)"}</li>'
            )
        elif item.code == bedside.INR:
            rows.append(
                f'<li><label>INR (limit {inr_limit}) <input name="inr" inputmode="decimal" '
                f'size="4" value="{"" if inr is None else inr}"></label>'
                f'{" ✓" if done else ""}</li>'
            )
        else:
            checked = " checked" if done else ""
            rows.append(
                f'<li><input type="hidden" name="shown" value="{escape(item.code)}">'
                f'<label><input type="checkbox" name="item" value="{escape(item.code)}"'
                f"{checked}> {label}</label></li>"
            )
    return (
        f'<ul class="checklist">{"".join(rows)}</ul>'
        '<button type="submit" class="step-next">Save checklist</button>'
    )


def vitals_fields(phase: str) -> str:
    inputs = "".join(
        f'<label>{label} <input type="number" name="{name}" required min="{low}" '
        f'max="{high}" inputmode="numeric"> <span class="muted">{unit}</span></label>'
        for name, label, unit in VITALS_FIELDS
        for low, high in [bedside.PHYSIOLOGICAL[name]]
    )
    return (
        f'<input type="hidden" name="phase" value="{phase}"><div class="vitals-fields">{inputs}'
        '</div><button type="submit" class="step-next">Record vitals</button>'
    )


def assessment_fields() -> str:
    selects = "".join(
        f'<label>{label} <select name="{name}" required><option value="">–</option>'
        + "".join(f'<option value="{score}">{score}: {word}</option>'
                  for score, word in enumerate(words))
        + "</select></label>"
        for name, (label, words) in ALDRETE_LABELS.items()
    )
    return (
        f'<div class="assessment-fields">{selects}</div>'
        '<button type="submit" class="step-next">Record score</button>'
    )


def reason_fields(unmet: list[str], *, may: bool, button: str) -> str:
    """What a rule still asks, and, for those who may go ahead anyway, a reason to do so."""
    listed = "".join(f"<li>{escape(text)}</li>" for text in unmet)
    if not may:
        return (
            f'<ul class="unmet">{listed}</ul>'
            '<p class="muted">Only a clinician may go ahead before these are met.</p>'
        )
    return (
        f'<ul class="unmet">{listed}</ul>'
        '<label>Reason <textarea name="reason" required maxlength="2000" rows="2"></textarea>'
        f'</label><button type="submit" class="step-next">{escape(button)}</button>'
    )
