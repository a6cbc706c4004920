"""The day of a case as it happens: check-in, each stage started and finished in order,
discharge, and undo of a mistaken click within two minutes.

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

from notifications.services import driver_pickup_projected

from .. import roles
from ..board.family import case_family_code_issue
from ..errors import SchedulingError
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
)
from ..timing import local_hm

UNDO_WINDOW = timedelta(minutes=2)

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
        _set_status(locked, CaseStatus.CHECKED_IN)
        # The family board's short code, in this transaction; undo of the check-in keeps it.
        case_family_code_issue(locked)
    return locked


def stage_start(*, case: Case, kind: str, by: AbstractBaseUser) -> Case:
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
        _record(locked, CaseAction.STAGE_START, by, now, stage)
        stage.actual_start = now
        stage.save(update_fields=["actual_start"])
        _set_status(locked, STAGE_STATUS[stage.kind])
        if stage.kind == StageKind.RECOVERY:
            driver_pickup_projected(locked)  # the driver hears when to come
    return locked


def stage_finish(*, case: Case, kind: str, by: AbstractBaseUser) -> Case:
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
        _record(locked, CaseAction.STAGE_FINISH, by, now, stage)
        stage.actual_end = now
        stage.save(update_fields=["actual_end"])
    return locked


def case_discharge(*, case: Case, by: AbstractBaseUser) -> Case:
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        _check_active(locked)
        if locked.status in NOT_ARRIVED_STATUSES:
            raise SchedulingError("not_checked_in", "The patient has not been checked in yet.")
        stages = _stages(locked)
        last = stages[-1] if stages else None
        if last is not None and last.actual_end is None:
            raise SchedulingError(
                "wrong_order", f"Finish {_name(last).lower()} before discharging the patient."
            )
        if not locked.driver_name.strip():
            raise SchedulingError(
                "driver_missing",
                "No driver is recorded for this case; a patient is discharged only to an "
                "adult driver. Record the driver first.",
            )
        _record(locked, CaseAction.DISCHARGE, by, now)
        _set_status(locked, CaseStatus.DISCHARGED)
    return locked


def case_undo(*, case: Case, by: AbstractBaseUser) -> Case:
    """Undo the case's last step if it was taken less than two minutes ago."""
    with transaction.atomic():
        locked = _lock(case)
        now = timezone.now()
        if locked.status in RELEASED_STATUSES:
            raise _not_active(locked)
        event = (
            CaseEvent.objects.select_for_update()
            .filter(case=locked, undone_at__isnull=True)
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
            field = "actual_start" if event.action == CaseAction.STAGE_START else "actual_end"
            setattr(stage, field, None)
            stage.save(update_fields=[field])
        _set_status(locked, event.status_before)
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
        raise _not_active(case)


def _not_active(case: Case) -> SchedulingError:
    return SchedulingError(
        "case_not_active",
        f"The case is {case.get_status_display().lower()}; nothing more can be done on it.",
    )


def _check_checked_in(case: Case, stage: Stage) -> None:
    if case.status in NOT_ARRIVED_STATUSES:
        raise SchedulingError(
            "not_checked_in",
            f"Check the patient in before {_name(stage).lower()}.",
        )


def _record(
    case: Case, action: str, by: AbstractBaseUser, at: datetime, stage: Stage | None = None
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        action=action,
        stage_kind=stage.kind if stage else "",
        status_before=case.status,
        at=at,
        by=by,
    )


def _set_status(case: Case, status: str) -> None:
    if case.status != status:
        case.status = status
        case.save(update_fields=["status", "updated_at"])


def _name(stage: Stage) -> str:
    return stage.get_kind_display()
