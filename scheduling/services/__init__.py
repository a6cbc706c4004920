from .booking import case_book, case_cancel, case_confirm, case_mark_no_show, case_reschedule
from .patients import patient_create, patient_register, patient_site_link, phone_e164

__all__ = [
    "case_book",
    "case_cancel",
    "case_confirm",
    "case_mark_no_show",
    "case_reschedule",
    "patient_create",
    "patient_register",
    "patient_site_link",
    "phone_e164",
]
