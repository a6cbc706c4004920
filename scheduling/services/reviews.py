"""A booking that a screening answer blocked, handed to a clinician: approve, decline, or let the
hold run out.

The front desk books it as needs_review (case_book with request_review): its stages hold their
rooms, bays and surgeon like any booked case's (the exclusion constraints count them), but no
message is planned. Approval records the clinician's reason as the screening override, exactly
as a clinician booking it would have, and only then plans the patient's messages. A decline or
an expired hold releases the stages and tells the patient nothing: they were never told a time,
and the unit calls them with the clinician's answer (the case stays on the review list's
"decided" part with the reason for the desk to see).
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit import records as audit
from hl7v2.models import SiuTrigger
from hl7v2.outbox import siu_write
from notifications.services import reminders_plan

from .. import roles
from ..errors import SchedulingError
from ..locks import case_locked
from ..models import Case, CaseAction, CaseEvent, CaseStatus
from ..offers.freed import freed_time_record


def case_review_approve(
    *, case: Case, by: AbstractBaseUser, reason: str, expected_version: str | None = None
) -> Case:
    """The clinician lets the case go ahead despite its screening answers; the patient's
    messages are planned from now."""
    reason = _reason(by, reason)
    now = timezone.now()
    with transaction.atomic():
        locked = _awaiting_review(case, expected_version)
        if locked.review_hold_until is not None and locked.review_hold_until <= now:
            raise SchedulingError(
                "review_expired",
                "The hold on this booking's rooms ran out before the review; book it again.",
            )
        locked.status = CaseStatus.BOOKED
        locked.screening_override_reason = reason
        locked.screening_overridden_by = by
        locked.screening_overridden_at = now
        locked.review_hold_until = None
        locked.save(update_fields=[
            "status", "screening_override_reason", "screening_overridden_by",
            "screening_overridden_at", "review_hold_until", "updated_at",
        ])
        _step(locked, CaseAction.REVIEW_APPROVE, by=by, reason=reason, at=now)
        reminders_plan(locked, now=now)
        # The interface engine hears of the case only now: before, the unit had not accepted it.
        siu_write(case=locked, trigger=SiuTrigger.BOOKED, by=by)
    return locked


def case_review_decline(
    *, case: Case, by: AbstractBaseUser, reason: str, expected_version: str | None = None
) -> Case:
    """The clinician refuses the case: its time is freed and the patient is sent nothing."""
    reason = _reason(by, reason)
    with transaction.atomic():
        locked = _awaiting_review(case, expected_version)
        _release(locked, CaseAction.REVIEW_DECLINE, by=by, reason=reason, at=timezone.now())
    return locked


def cases_review_expire(*, now: datetime | None = None) -> int:
    """Release every case whose review hold has run out (run by the periodic task); returns how
    many were released."""
    now = now or timezone.now()
    ids = list(
        Case.objects.filter(status=CaseStatus.NEEDS_REVIEW, review_hold_until__lte=now)
        .values_list("pk", flat=True)
    )
    released = 0
    for pk in ids:
        with transaction.atomic():
            locked = case_locked(pk)
            # Decided meanwhile by a clinician: their word stands.
            if locked.status != CaseStatus.NEEDS_REVIEW:
                continue
            hours = locked.site.review_hold_hours
            _release(
                locked, CaseAction.REVIEW_EXPIRE, by=None, at=now,
                reason=f"Not reviewed within {hours} hours; its rooms were released.",
            )
            released += 1
    return released


def _reason(by: AbstractBaseUser, reason: str) -> str:
    if not roles.user_has_role(by, roles.OVERRIDE_SCREENING):
        raise SchedulingError(
            "review_not_allowed", "Only a clinician may approve or decline a booking under review."
        )
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("reason_required", "Write the reason for your decision.",
                              field="reason")
    return reason


def _awaiting_review(case: Case, expected_version: str | None) -> Case:
    locked = case_locked(case.pk, expected_version=expected_version)
    if locked.status != CaseStatus.NEEDS_REVIEW:
        raise SchedulingError(
            "not_awaiting_review",
            f"The case is {locked.get_status_display().lower()}, no longer awaiting review.",
        )
    return locked


def _release(
    case: Case, action: str, *, by: AbstractBaseUser | None, reason: str, at: datetime
) -> None:
    case.status = CaseStatus.CANCELLED
    case.cancel_reason = f"{CaseAction(action).label}: {reason}"
    case.cancelled_at = at
    case.cancelled_by = by
    case.review_hold_until = None
    case.save(update_fields=[
        "status", "cancel_reason", "cancelled_at", "cancelled_by", "review_hold_until",
        "updated_at",
    ])
    audit.update(case.stages.all(), active=False)
    freed_time_record(case=case)
    _step(case, action, by=by, reason=reason, at=at)


def _step(case: Case, action: str, *, by, reason: str, at: datetime) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, action=action, status_before=CaseStatus.NEEDS_REVIEW, at=at, by=by,
        reason=reason,
    )
