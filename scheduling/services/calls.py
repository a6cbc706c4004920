"""The unit's calls to patients nothing can reach (booked with "the unit will call")."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..errors import SchedulingError
from ..locks import case_locked
from ..models import Case


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
