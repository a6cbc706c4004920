from .booking import (
    booking_attempts,
    case_book,
    case_cancel,
    case_confirm,
    case_mark_no_show,
    case_reschedule,
)
from .patients import patient_create, patient_register, patient_site_link, phone_e164
from .reviews import case_review_approve, case_review_decline, cases_review_expire

__all__ = [
    "booking_attempts",
    "case_book",
    "case_cancel",
    "case_confirm",
    "case_mark_no_show",
    "case_reschedule",
    "case_review_approve",
    "case_review_decline",
    "cases_review_expire",
    "patient_create",
    "patient_register",
    "patient_site_link",
    "phone_e164",
]
