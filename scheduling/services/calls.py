"""The unit's calls to patients nothing can reach (booked with "the unit will call")."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..errors import SchedulingError
from ..locks import case_locked
from ..models import Case, Channel, Patient


def unit_will_call_check(*, patient: Patient, acknowledged: bool) -> bool:
    """Whether the case is on the unit's call list: only a patient nothing would reach is, and
    only with the clerk's word that the unit will call them."""
    if not patient.unreachable:
        return False
    if not acknowledged:
        address = "email address" if patient.preferred_channel == Channel.EMAIL else "phone"
        raise SchedulingError(
            "unit_will_call_required",
            f"The patient has no {address} for their messages, so no reminder would reach them. "
            "Add one, or confirm that the unit will call them.",
            field="unit_will_call",
        )
    return True


def unit_called(*, case: Case, by: AbstractBaseUser) -> Case:
    """The front desk called the patient: the case leaves the call list. Idempotent."""
    with transaction.atomic():
        locked = case_locked(case.pk)
        if not locked.unit_will_call:
            raise SchedulingError(
                "not_on_call_list", "The patient can be reached by message: no call is due."
            )
        if locked.unit_called_at is None:
            locked.unit_called_at = timezone.now()
            locked.unit_called_by = by
            locked.save(update_fields=["unit_called_at", "unit_called_by", "updated_at"])
    return locked
