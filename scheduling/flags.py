"""A case's flags: what staff should look at before the patient arrives. The day board, its
JSON and the case API all show them from here, in this order."""

from .models import CLOSED_STATUSES, CaseStatus

# Code and label of each flag, in the order they are listed.
FLAG_LABELS = {
    # Not a patient coming yet: a clinician must approve the booking first.
    "needs_review": "Awaiting clinician review",
    # A closure (closure_models.py) covers the case's day, room or bay, or surgeon: the front
    # desk moves it; nothing moves it on its own.
    "on_closed_day": "On a closed day",
    "not_confirmed": "Not confirmed",
    "driver_missing": "Driver missing",
    "inr_check": "INR check",
    "screening_overridden": "Screening overridden",
    "not_reached": "Not reached",
    "not_reachable": "No phone or email",
    "contrast_allergy": "Contrast allergy",
    "latex_allergy": "Latex allergy",
}


def case_flags(
    *,
    status: str,
    driver_name: str,
    driver_phone: str,
    inr_check: bool,
    screening_override_reason: str,
    not_reached: bool,
    patient_phone: str,
    patient_email: str,
    allergy_contrast: bool,
    allergy_latex: bool,
    on_closed_day: bool,
) -> list[str]:
    """The codes of the flags raised, in FLAG_LABELS' order.

    `inr_check`: a held drug asks for an INR check on the day; `not_reached`: a message to the
    patient failed or its fate is unknown; `allergy_contrast`, `allergy_latex`: the patient's
    record says so (the room prepares for it); `on_closed_day`: a closure covers the case's day,
    one of its rooms or bays, or its surgeon (closure_models.case_on_closed_day)."""
    raised = {
        "needs_review": status == CaseStatus.NEEDS_REVIEW,
        "on_closed_day": bool(on_closed_day) and status not in CLOSED_STATUSES,
        "not_confirmed": status == CaseStatus.BOOKED,
        "driver_missing": not (driver_name and driver_phone),
        "inr_check": bool(inr_check),
        "screening_overridden": bool(screening_override_reason),
        "not_reached": bool(not_reached),
        "not_reachable": not (patient_phone or patient_email),
        "contrast_allergy": bool(allergy_contrast),
        "latex_allergy": bool(allergy_latex),
    }
    return [flag for flag in FLAG_LABELS if raised[flag]]
