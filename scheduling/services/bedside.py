"""What the nurses record at the bedside: the pre-op checklist ticked, the INR, the driver
marked present, vitals, and the discharge assessment. Each write takes the case's change lock,
so it is serialised with the steps of services/tracking.py, which read these records to decide
whether the procedure may start and the patient may go home."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import bedside
from ..bedside import AUTOMATIC_ITEMS, INR, Checklist
from ..bedside_models import (
    ChecklistItem,
    ChecklistTick,
    DischargeAssessment,
    VitalSigns,
    VitalsPhase,
)
from ..errors import SchedulingError, case_not_active
from ..locks import case_locked
from ..models import CLOSED_STATUSES, NOT_ARRIVED_STATUSES, Case, StageKind

UNSET = object()


def case_checklist_get(*, case: Case) -> Checklist:
    """The case's pre-op checklist as it stands: four queries, whatever its length."""
    inr_needed = case.held_medications.filter(drug__inr_check=True).exists()
    items = bedside.checklist_items(
        ChecklistItem.objects.filter(site_id=case.site_id),
        procedure_type_id=case.procedure_type_id,
        inr_needed=inr_needed,
    )
    return bedside.checklist_of(
        items,
        ticks=dict(ChecklistTick.objects.filter(case=case).values_list("code", "done")),
        preop_vitals=VitalSigns.objects.filter(case=case, phase=VitalsPhase.PRE_OP).exists(),
        inr=case.inr,
        inr_limit=case.site.inr_limit,
    )


def checklist_update(
    *,
    case: Case,
    by: AbstractBaseUser,
    ticks: dict[str, bool] | None = None,
    inr: Decimal | None | object = UNSET,
    driver_present: bool | None = None,
) -> Checklist:
    """Tick or untick items of the case's checklist, record its INR (None clears it), and mark
    the driver present (or not). Items the system fills in are refused, as are codes the case's
    checklist does not ask."""
    ticks = ticks or {}
    with transaction.atomic():
        locked = _locked(case)
        if locked.status in CLOSED_STATUSES:
            raise case_not_active(locked)
        asked = {item.code for item in case_checklist_get(case=locked).items}
        errors = {}
        for code in ticks:
            if code in AUTOMATIC_ITEMS:
                errors[code] = [
                    "Recorded by the pre-op vitals, not ticked."
                    if code != INR
                    else "Give the INR result as `inr`, a number."
                ]
            elif code not in asked:
                errors[code] = ["This case's checklist has no such item."]
        if errors:
            raise SchedulingError(
                "unknown_checklist_item", "The checklist has no such item to tick.", errors=errors
            )
        now = timezone.now()
        for code, done in ticks.items():
            ChecklistTick.objects.update_or_create(
                case=locked, code=code, defaults={"done": done, "at": now, "by": by}
            )
        changed = []
        if inr is not UNSET:
            locked.inr = inr
            changed.append("inr")
        if driver_present is not None and driver_present != bool(locked.driver_present_at):
            locked.driver_present_at = now if driver_present else None
            changed.append("driver_present_at")
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        return case_checklist_get(case=locked)


def vitals_record(
    *, case: Case, phase: str, values: dict[str, int], by: AbstractBaseUser
) -> VitalSigns:
    with transaction.atomic():
        locked = _locked(case)
        if locked.status in CLOSED_STATUSES:
            raise case_not_active(locked)
        if locked.status in NOT_ARRIVED_STATUSES:
            raise SchedulingError(
                "not_checked_in", "Check the patient in before recording vitals."
            )
        # Discharge asks for recovery vitals: a reading taken before recovery (a slip of the
        # phase) would meet that without one taken where it counts.
        if phase == VitalsPhase.RECOVERY and not _recovery_started(locked):
            raise SchedulingError(
                "not_in_recovery", "Recovery vitals are taken once recovery has started."
            )
        if errors := bedside.vitals_impossible(values):
            raise SchedulingError(
                "vitals_out_of_range",
                " ".join(errors.values()),
                errors={name: [message] for name, message in errors.items()},
            )
        return VitalSigns.objects.create(
            case=locked,
            phase=VitalsPhase(phase),
            taken_at=timezone.now(),
            by=by,
            **{name: values[name] for name in bedside.PHYSIOLOGICAL},
        )


def discharge_assess(
    *, case: Case, scores: dict[str, int], by: AbstractBaseUser
) -> DischargeAssessment:
    """Record a modified Aldrete score; asked once recovery has started."""
    with transaction.atomic():
        locked = _locked(case)
        if locked.status in CLOSED_STATUSES:
            raise case_not_active(locked)
        if not _recovery_started(locked):
            raise SchedulingError(
                "not_in_recovery",
                "The discharge assessment is made in recovery; recovery has not started.",
            )
        values = {name: scores[name] for name in bedside.ALDRETE_ITEMS}
        return DischargeAssessment.objects.create(
            case=locked, total=sum(values.values()), at=timezone.now(), by=by, **values
        )


def _recovery_started(case: Case) -> bool:
    return case.stages.filter(kind=StageKind.RECOVERY, actual_start__isnull=False).exists()


def _locked(case: Case) -> Case:
    locked = case_locked(case.pk)
    locked.site = case.site if case.site_id == locked.site_id else locked.site
    return locked

