"""Errors a user can cause, each with a stable code for the API and a message for the person.

The scheduling app's codes; SchedulingConfig.ready() adds them to the API's table
(api/errors.py), which holds the codes of a request's shape, and docs/api-errors.md lists them all
(a test keeps it in step).
"""

from api.errors import ApiError

ERROR_CODES: dict[str, tuple[int, str]] = {
    # What is being booked
    "unknown_site": (400, "No site has this code."),
    "unknown_procedure_type": (400, "No active procedure type has this code."),
    "unknown_surgeon": (400, "No active surgeon with this code works at the site."),
    "unknown_drug": (400, "No active drug in the medication table has this code."),
    "unknown_patient": (400, "No patient has this id."),
    "levels_out_of_range": (400, "Levels must be from 1 to the procedure type's maximum."),
    # When
    "date_in_past": (400, "The date is before today at the site."),
    "date_out_of_range": (
        400,
        "The date is past the days cases are booked on (BOOKING_HORIZON_DAYS ahead) or outside "
        "the days shown (EARLIEST_DAY_SHOWN up to that horizon).",
    ),
    "start_in_past": (400, "The start time has already passed."),
    "site_closed": (
        409, "The site is closed on that day: no opening hours that weekday, or a closure."
    ),
    "outside_opening_hours": (400, "The case would start before opening or end after closing."),
    "off_grid": (400, "Start times fall on a 5-minute grid (08:00, 08:05, ...)."),
    "start_not_on_date": (400, "The start falls on another day than the date given."),
    "start_needs_offset": (400, "The start must carry a UTC offset, e.g. 2026-03-02T09:00-05:00."),
    # Who
    "invalid_phone": (400, "The phone number is not a valid number."),
    "invalid_email": (400, "The email address is not valid."),
    "date_of_birth_in_future": (400, "The date of birth is in the future."),
    "date_of_birth_too_early": (
        400, "The date of birth is before 1900 or more than 120 years ago."
    ),
    "patient_exists": (409, "A patient with this MRN is already registered; book with patient_id."),
    "patient_already_booked": (409, "The patient already has an active case on that day."),
    # Screening
    "contraindicated": (400, "A screening answer blocks the booking; a clinician may override."),
    "override_reason_required": (400, "An override needs a written reason."),
    "override_not_allowed": (403, "Only a clinician may override screening."),
    "medicines_conflict": (
        400, "Medicines to hold were given together with “takes none of these”."
    ),
    "review_not_allowed": (403, "Only a clinician may approve or decline a booking under review."),
    "not_awaiting_review": (409, "The case is not (or no longer) awaiting a clinician's review."),
    "review_expired": (
        409, "The booking's hold ran out before the review and its rooms were released."
    ),
    # Reaching the patient
    "not_on_call_list": (409, "The patient can be reached by message: no call is due."),
    "unit_will_call_required": (
        400, "The patient has no phone (SMS) or email (email) for their messages: confirm with "
        "`unit_will_call: true` that the unit will call them."
    ),
    # Conflicts
    "slot_taken": (409, "The room, bay or surgeon is no longer free at that time."),
    "hold_expired": (
        409, "The hold on the time has run out or was released; find a time and hold it again."
    ),
    "no_free_slot": (409, "No free time is left on that day for this case."),
    "surgeon_unavailable": (409, "The surgeon does not work at that time or is already busy."),
    "resource_closed": (
        409, "Every room or bay of a kind the case needs is closed on that day (maintenance)."
    ),
    "surgeon_on_leave": (409, "The surgeon asked for is on leave on that day."),
    "case_not_changeable": (409, "The case has been checked in, cancelled or has ended."),
    "patient_change_closed": (
        409, "Past the site's cut-off before arrival, the patient's page cannot change the case."
    ),
    "start_too_soon": (400, "The start is sooner than the patient's page may move a case to."),
    "case_changed": (409, "The case was changed since the version the change was based on."),
    "message_being_sent": (
        409, "A message of the case is with the provider, who has not answered yet; try again."
    ),
    "reason_required": (400, "A reason is required."),
    "not_yet_due": (409, "A no-show can be recorded only once the arrival time has passed."),
    "start_or_date_required": (400, "Give a new start or a new date."),
    # The day of the case (stage tracking)
    "case_not_active": (409, "The case is cancelled, a no-show or already discharged."),
    "not_case_day": (409, "A patient can be checked in only on the day of their case."),
    "already_checked_in": (409, "The patient has already been checked in."),
    "not_checked_in": (409, "The patient has not been checked in yet."),
    "unknown_stage": (404, "No such stage: pre_op, procedure, cement_set or recovery."),
    "wrong_order": (409, "Stages go in order: the one before must be finished first."),
    "already_started": (409, "The stage has already been started."),
    "not_started": (409, "The stage has not been started, so it cannot be finished."),
    "already_finished": (409, "The stage has already been finished."),
    "preop_incomplete": (
        409, "The pre-op checklist is not complete (`errors` names each missing item); a "
        "clinician may start the procedure anyway with `override_reason`."
    ),
    "stage_too_early": (
        409, "The stage has not lasted its minimum (the cement set's hour); finishing it sooner "
        "needs `early_reason`."
    ),
    "discharge_criteria_not_met": (
        409, "The patient does not meet the discharge criteria (`errors` names each); a "
        "clinician may discharge anyway with `override_reason`."
    ),
    "not_in_recovery": (
        409, "The discharge assessment and recovery vitals are taken once recovery has started."
    ),
    "vitals_out_of_range": (400, "A vital sign is outside what is physiologically possible."),
    "unknown_checklist_item": (
        400, "The case's checklist has no such item, or the item is filled in by the system."
    ),
    "nothing_to_undo": (409, "The case has no step left to undo."),
    "undo_expired": (409, "A step can be undone only within two minutes."),
    "not_running_late": (
        409, "Only a patient not checked in yet whose procedure runs more than 30 minutes late "
        "can be told a new arrival time."
    ),
    # The waiting list and the day planner
    "waiting_window_invalid": (400, "The latest date is before the earliest date."),
    "entry_not_waiting": (409, "The waiting-list entry has been scheduled or removed."),
    "plan_stale": (409, "The day changed since the plan was proposed; propose again."),
    "plan_not_applicable": (409, "A proposed time could not be booked; nothing was changed."),
    # Closures of a site, a room or bay, or a surgeon's diary
    "closure_days_out_of_order": (400, "The end date is before the start date."),
    "closure_room_or_surgeon": (
        400, "A closure names a room or bay, or a surgeon, not both."
    ),
    "unknown_resource": (400, "No room or bay of the site has this name."),
}


class SchedulingError(ApiError):
    """A refusal that the person who caused it can act on."""


def case_not_active(case) -> SchedulingError:
    """The refusal of any step on a case that is cancelled, a no-show or discharged."""
    return SchedulingError(
        "case_not_active",
        f"The case is {case.get_status_display().lower()}; nothing more can be done on it.",
    )
