"""Add or change the adult who takes the patient home.

The driver's own messages (the pickup reminder) follow: planned for a new number, dropped for
an old one. The patient's messages are not touched.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from notifications.services import reminders_driver_changed

from ..errors import SchedulingError
from ..locks import case_locked
from ..models import CLOSED_STATUSES, Case
from .patients import phone_e164


def case_driver_set(
    *,
    case: Case,
    name: str,
    phone: str,
    by: AbstractBaseUser,
    expected_version: str | None = None,
) -> Case:
    name = (name or "").strip()
    phone = (phone or "").strip()
    if not name:
        raise SchedulingError("invalid", "Give the driver's name.", field="driver.name")
    if phone:
        phone = phone_e164(phone, field="driver.phone")
    with transaction.atomic():
        locked = case_locked(case.pk, expected_version=expected_version)
        if locked.status in CLOSED_STATUSES:
            raise SchedulingError(
                "case_not_changeable",
                f"The case is {locked.get_status_display().lower()} and can no longer be "
                "changed.",
            )
        locked.driver_name = name
        locked.driver_phone = phone
        locked.save(update_fields=["driver_name", "driver_phone", "updated_at"])
        reminders_driver_changed(locked)
    return locked
