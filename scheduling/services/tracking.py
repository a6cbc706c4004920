"""The day of a case as it happens: check-in, each stage started and finished in order,
discharge, and undo of a mistaken click within two minutes.

Three steps hold the patient to the day as they were told it, gently: the procedure starts once
the pre-op checklist is complete, a stage with a minimum (the cement set's hour) is not finished
sooner, and the patient goes home when they meet the discharge criteria. Each may still be taken,
deliberately: with a written reason (a clinician's, to skip the checklist or the criteria), kept
on the step's CaseEvent as the exception it was.

Every verb takes the case's change lock and then re-reads the case with select_for_update, so
two nurses clicking the same button at the same moment are served one after the other: the
second sees the first one's step and is told why nothing more happens (e.g. the stage has
already been started) instead of writing it twice. Each step is a CaseEvent row (who, when,
the status before), which is both the case's history and what undo reverts.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from hl7v2.outbox import siu_status_changed
from notifications.services import driver_pickup_projected

from .. import bedside, roles
from ..bedside_models import DischargeAssessment, VitalSigns, VitalsPhase
from ..board.family import case_family_code_issue
from ..errors import SchedulingError, case_not_active
from ..locks import case_lock_for_change
from ..models import (
    CLOSED_STATUSES,
    NOT_ARRIVED_STATUSES,
    RELEASED_STATUSES,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    Stage,
    StageKind,
    StageTemplate,
)
from ..timing import local_hm
from .bedside import case_checklist_get

UNDO_WINDOW = timedelta(minutes=2)
# The steps of the day that undo reverts. A case's history also holds what the patient did
# (confirm, cancel, move, an offer taken): those are never undone from the board.
DAY_STEPS = (
    CaseAction.CHECK_IN, CaseAction.STAGE_START, CaseAction.STAGE_FINISH, CaseAction.DISCHARGE,
)
REASON_MAX = 2000

# The status a case takes when each of its stages starts.
STAGE_STATUS = {
    StageKind.PRE_OP: CaseStatus.IN_PRE_OP,
    StageKind.PROCEDURE: CaseStatus.IN_PROCEDURE,
    StageKind.CEMENT_SET: CaseStatus.CEMENT_SETTING,
    StageKind.RECOVERY: CaseStatus.IN_RECOVERY,
}


def case_check_in(*, case: Case, by: AbstractBaseUser) -> Case:
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        _check_active(locked)
        if locked.status not in NOT_ARRIVED_STATUSES:
            raise SchedulingError("already_checked_in", "The patient is already checked in.")
        today = now.astimezone(locked.site.zone).date()
        if today != locked.day:
            raise SchedulingError(
                "not_case_day",
                f"This case is on {locked.day:%A %-d %B %Y}; "
                "a patient can be checked in only on the day of their case.",
            )
        _record(locked, CaseAction.CHECK_IN, by, now)
        _set_status(locked, CaseStatus.CHECKED_IN, by=by)
        # The family board's short code, in this transaction; undo of the check-in keeps it.
        case_family_code_issue(locked)
    return locked


def stage_start(
    *, case: Case, kind: str, by: AbstractBaseUser, override_reason: str = ""
) -> Case:
    """Start a stage now. The procedure waits for a complete pre-op checklist, unless a
    clinician gives `override_reason`."""
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        stages = _stages(locked)
        stage = _stage(stages, kind)
        _check_active(locked)
        _check_checked_in(locked, stage)
        if stage.actual_start is not None:
            raise SchedulingError(
                "already_started",
                f"{_name(stage)} was already started at "
                f"{local_hm(stage.actual_start, locked.site.zone)}.",
            )
        before = _previous(stages, stage)
        if before is not None and before.actual_end is None:
            raise SchedulingError(
                "wrong_order",
                f"Finish {_name(before).lower()} before starting {_name(stage).lower()}.",
            )
        exception = {}
        if stage.kind == StageKind.PROCEDURE:
            exception = _checklist_exception(locked, by, override_reason)
        _record(locked, CaseAction.STAGE_START, by, now, stage, **exception)
        stage.actual_start = now
        stage.save(update_fields=["actual_start"])
        _set_status(locked, STAGE_STATUS[stage.kind], by=by)
        if stage.kind == StageKind.RECOVERY:
            driver_pickup_projected(locked)  # the driver hears when to come
    return locked


def stage_finish(*, case: Case, kind: str, by: AbstractBaseUser, early_reason: str = "") -> Case:
    """Finish a started stage now; before its minimum has passed only with `early_reason`."""
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        stage = _stage(_stages(locked), kind)
        _check_active(locked)
        _check_checked_in(locked, stage)
        if stage.actual_start is None:
            raise SchedulingError(
                "not_started", f"{_name(stage)} has not been started, so it cannot be finished."
            )
        if stage.actual_end is not None:
            raise SchedulingError(
                "already_finished",
                f"{_name(stage)} was already finished at "
                f"{local_hm(stage.actual_end, locked.site.zone)}.",
            )
        exception = _early_exception(locked, stage, now, early_reason)
        _record(locked, CaseAction.STAGE_FINISH, by, now, stage, **exception)
        stage.actual_end = now
        stage.save(update_fields=["actual_end"])
    return locked


def case_discharge(*, case: Case, by: AbstractBaseUser, override_reason: str = "") -> Case:
    """Discharge the patient once recovery has started and they meet the discharge criteria
    (bedside.discharge_unmet), or with a clinician's `override_reason`. A recovery still running
    is finished by the discharge (and undoing the discharge resumes it)."""
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        _check_active(locked)
        if locked.status in NOT_ARRIVED_STATUSES:
            raise SchedulingError("not_checked_in", "The patient has not been checked in yet.")
        stages = _stages(locked)
        last = stages[-1] if stages else None
        if last is not None and last.actual_start is None:
            raise SchedulingError(
                "wrong_order", f"Start {_name(last).lower()} before discharging the patient."
            )
        unmet = _discharge_unmet(locked, last, now)
        exception = _exception(
            locked, by, "discharge_criteria_not_met", unmet, override_reason,
            refused="The patient does not meet the discharge criteria yet.",
            clinician_only=True,
        )
        finishes = last if last is not None and last.actual_end is None else None
        _record(locked, CaseAction.DISCHARGE, by, now, finishes, **exception)
        if finishes is not None:
            finishes.actual_end = now
            finishes.save(update_fields=["actual_end"])
        _set_status(locked, CaseStatus.DISCHARGED, by=by)
    return locked


def case_undo(*, case: Case, by: AbstractBaseUser) -> Case:
    """Undo the case's last step if it was taken less than two minutes ago."""
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        if locked.status in RELEASED_STATUSES:
            raise case_not_active(locked)
        event = (
            CaseEvent.objects.select_for_update()
            .filter(case=locked, undone_at__isnull=True, action__in=DAY_STEPS)
            .order_by("-at", "-id")
            .first()
        )
        if event is None:
            raise SchedulingError("nothing_to_undo", "There is no step of this case to undo.")
        if now - event.at >= UNDO_WINDOW:
            raise SchedulingError(
                "undo_expired",
                f"The last step ({event.get_action_display().lower()} at "
                f"{local_hm(event.at, locked.site.zone)}) was more than two minutes ago and can "
                "no longer be undone.",
            )
        if event.action != CaseAction.CHECK_IN and not roles.user_has_role(
            by, roles.TRACK_STAGES
        ):
            raise SchedulingError(
                "permission_denied", "Only a nurse or clinician may undo a stage or a discharge."
            )
        if event.stage_kind:
            stage = locked.stages.get(kind=event.stage_kind)
            # A discharge names the recovery it finished, if it did.
            field = "actual_start" if event.action == CaseAction.STAGE_START else "actual_end"
            setattr(stage, field, None)
            stage.save(update_fields=[field])
        _set_status(locked, event.status_before, by=by)
        event.undone_at = now
        event.undone_by = by
        event.save(update_fields=["undone_at", "undone_by"])
    return locked


def _lock(case: Case) -> Case:
    case_lock_for_change(case.pk)
    return Case.objects.select_for_update().select_related("site").get(pk=case.pk)


def _stages(case: Case) -> list[Stage]:
    return list(Stage.objects.filter(case=case).order_by("position"))


def _stage(stages: list[Stage], kind: str) -> Stage:
    for stage in stages:
        if stage.kind == kind:
            return stage
    raise SchedulingError("unknown_stage", f"This case has no “{kind}” stage.", field="kind")


def _previous(stages: list[Stage], stage: Stage) -> Stage | None:
    index = stages.index(stage)
    return stages[index - 1] if index else None


def _check_active(case: Case) -> None:
    if case.status in CLOSED_STATUSES:
        raise case_not_active(case)


def _checklist_exception(case: Case, by: AbstractBaseUser, reason: str) -> dict:
    checklist = case_checklist_get(case=case)
    unmet = {code: f"{checklist.label(code)}: not done." for code in checklist.missing}
    return _exception(
        case, by, "preop_incomplete", unmet, reason,
        refused="The pre-op checklist is not complete.", clinician_only=True,
    )


def _early_exception(case: Case, stage: Stage, now: datetime, reason: str) -> dict:
    minimum = (
        StageTemplate.objects.filter(procedure_type_id=case.procedure_type_id, kind=stage.kind)
        .values_list("minimum_minutes", flat=True)
        .first()
    )
    if not minimum or now - stage.actual_start >= timedelta(minutes=minimum):
        return {}
    lasted = int((now - stage.actual_start).total_seconds() // 60)
    unmet = {
        "minimum_minutes": f"{_name(stage)} has lasted {lasted} min of its {minimum} min "
        f"(until {local_hm(stage.actual_start + timedelta(minutes=minimum), case.site.zone)})."
    }
    return _exception(
        case, None, "stage_too_early", unmet, reason,
        refused=f"{_name(stage)} cannot be finished before its {minimum} minutes.",
        clinician_only=False,
    )


def _discharge_unmet(case: Case, recovery: Stage | None, now: datetime) -> dict[str, str]:
    latest = DischargeAssessment.objects.filter(case=case).order_by("-at", "-id").first()
    return bedside.discharge_unmet(
        recovery_start=recovery.actual_start if recovery else None,
        recovery_end=recovery.actual_end if recovery else None,
        now=now,
        minimum_minutes=case.site.recovery_minimum_minutes,
        latest_score=latest.total if latest else None,
        score_minimum=case.site.discharge_score_minimum,
        recovery_vitals=VitalSigns.objects.filter(
            case=case, phase=VitalsPhase.RECOVERY
        ).exists(),
        driver_name=case.driver_name,
        driver_present=case.driver_present_at is not None,
    )


def _exception(
    case: Case,
    by: AbstractBaseUser | None,
    code: str,
    unmet: dict[str, str],
    reason: str,
    *,
    refused: str,
    clinician_only: bool,
) -> dict:
    """Nothing if no rule is unmet; else the exception to record with the step when a reason is
    given (by a clinician, where only a clinician may), or the refusal naming what is unmet."""
    if not unmet:
        return {}
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise SchedulingError(
            "invalid", f"Keep the reason under {REASON_MAX:,} characters.", field="reason"
        )
    if not reason:
        raise SchedulingError(
            code, f"{refused} {' '.join(unmet.values())}",
            errors={name: [message] for name, message in unmet.items()},
        )
    if clinician_only and not roles.user_has_role(by, roles.OVERRIDE_BEDSIDE_RULES):
        raise SchedulingError(
            "permission_denied", f"Only a clinician may go ahead anyway. {refused}"
        )
    return {"exception": code, "unmet": list(unmet), "reason": reason}


def _check_checked_in(case: Case, stage: Stage) -> None:
    if case.status in NOT_ARRIVED_STATUSES:
        raise SchedulingError(
            "not_checked_in",
            f"Check the patient in before {_name(stage).lower()}.",
        )


def _record(
    case: Case,
    action: str,
    by: AbstractBaseUser,
    at: datetime,
    stage: Stage | None = None,
    **exception,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        action=action,
        stage_kind=stage.kind if stage else "",
        status_before=case.status,
        at=at,
        by=by,
        **exception,
    )


def _set_status(case: Case, status: str, *, by: AbstractBaseUser) -> None:
    if case.status != status:
        before = case.status
        case.status = status
        case.save(update_fields=["status", "updated_at"])
        siu_status_changed(case=case, before=before, by=by)


def _name(stage: Stage) -> str:
    return stage.get_kind_display()
