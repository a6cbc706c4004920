"""Claim due reminders, send them, record what happened: the one writer of a reminder's status.

A reminder moves planned -> sending (claimed, committed) -> sent, or back to planned with a
backoff after a transient failure, or to failed. Two dispatchers never claim the same row
(SELECT ... FOR UPDATE SKIP LOCKED). Just before the provider is called the row records
`provider_called_at`; a worker that dies after that leaves a row the sweeper marks `unknown`
(it may or may not have gone out, so it is not sent again blindly), and a worker that dies
before it leaves a row the sweeper puts back to `planned`. The provider's delivery reports, a
STOP texted back and a change to the case that withdraws unsent messages all come through here.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from scheduling.locks import case_lock_for_send
from scheduling.models import RELEASED_STATUSES, Channel

from . import rendering
from .backends import DeliveryError, backend_for
from .models import OPEN_STATUSES, MessageKind, Reminder, ReminderStatus, SmsOptOut

log = logging.getLogger(__name__)

# The notices of a change: what they tell is the change itself, so they still go out after it
# (a cancel's to a cancelled case; a move's even if the case has been moved again since).
AFTER_CANCEL_KINDS = (MessageKind.CANCELLATION_NOTICE, MessageKind.DRIVER_CANCELLATION)
AFTER_MOVE_KINDS = (MessageKind.RESCHEDULE_NOTICE, MessageKind.DRIVER_RESCHEDULE)

BATCH = 20
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=30)  # doubled after each failed attempt
STALE_SENDING = timedelta(minutes=5)
# Delivery reports arrive out of order and more than once: a status only ever moves up this
# ladder (a late `sent` never undoes `delivered`). Delivered and failed are both final; planned,
# cancelled and suppressed rows were never handed to the provider, so no report moves them.
DELIVERY_RANK = {
    ReminderStatus.SENDING: 0,
    ReminderStatus.UNKNOWN: 0,
    ReminderStatus.SENT: 1,
    ReminderStatus.DELIVERED: 2,
    ReminderStatus.FAILED: 2,
}


def reminders_claim(*, now: datetime, limit: int = BATCH) -> list[int]:
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=ReminderStatus.PLANNED, due_at__lte=now)
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        Reminder.objects.filter(id__in=ids).update(
            status=ReminderStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def reminders_dispatch(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Claim one batch of due reminders and send each. Returns how many were claimed."""
    ids = reminders_claim(now=now or timezone.now(), limit=limit)
    for reminder_id in ids:
        outcome = reminder_send(reminder_id)
        # Ids and statuses only: never the recipient or the text.
        log.info("reminder %s %s", reminder_id, outcome,
                 extra={"reminder_id": reminder_id, "outcome": str(outcome)})
    return len(ids)


def reminder_send(reminder_id: int) -> str:
    """Send one claimed reminder; returns its new status."""
    case_id = Reminder.objects.filter(pk=reminder_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return "missing"
    # Hold the case's lock from the last check until the provider answers: a reschedule or
    # cancel waits for this send, and a send never goes out for a time changed meanwhile.
    with case_lock_for_send(case_id):
        with transaction.atomic():
            reminder = (
                Reminder.objects.select_for_update(of=("self",))
                .select_related("case__patient", "case__site", "rule", "drug")
                .get(pk=reminder_id)
            )
            if reminder.status != ReminderStatus.SENDING or reminder.provider_called_at:
                return reminder.status  # another dispatcher has it, or it was dealt with
            now = timezone.now()
            refusal = _refusal(reminder, now)
            if refusal is not None:
                status, reason = refusal
                _finish(reminder, status, error=reason, late=status == ReminderStatus.FAILED)
                return status
            try:
                message = rendering.render(reminder)
            except Exception as exc:  # a broken template must not stop the batch
                log.warning("reminder %s: render failed: %s", reminder.pk, type(exc).__name__)
                return _retry_or_fail(reminder, f"render failed: {exc}", now)
            reminder.provider_called_at = now
            reminder.save(update_fields=["provider_called_at"])
            # The sweeper judges a call in flight by provider_called_at, not by when the batch
            # was claimed: a long batch is not mistaken for a dead worker.
        try:
            provider_id = backend_for(reminder.channel).send(message)
        except DeliveryError as exc:
            with transaction.atomic():
                if exc.permanent:
                    _finish(reminder, ReminderStatus.FAILED, error=str(exc))
                    reminder_fall_back(reminder)
                    return ReminderStatus.FAILED
                return _retry_or_fail(reminder, str(exc), timezone.now())
        except Exception as exc:  # the provider's client broke: it may or may not have gone out
            log.exception("reminder %s: unexpected error from the %s backend", reminder.pk,
                          reminder.channel)
            _finish(reminder, ReminderStatus.UNKNOWN, error=f"{type(exc).__name__}: {exc}")
            return ReminderStatus.UNKNOWN
        # A provider that answered after the sweeper gave up on it still has the last word.
        Reminder.objects.filter(
            pk=reminder.pk, status__in=[ReminderStatus.SENDING, ReminderStatus.UNKNOWN]
        ).update(
            status=ReminderStatus.SENT,
            sent_at=timezone.now(),
            provider_message_id=provider_id,
            error="",
        )
        return ReminderStatus.SENT


def reminders_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover rows left by a worker that died, and flag messages that missed their deadline."""
    now = now or timezone.now()
    sending = Reminder.objects.filter(status=ReminderStatus.SENDING)
    unknown = sending.filter(provider_called_at__lt=now - STALE_SENDING).update(
        status=ReminderStatus.UNKNOWN,
        error="The worker stopped while the provider was being called; it may have gone out.",
    )
    requeued = sending.filter(
        provider_called_at__isnull=True, claimed_at__lt=now - STALE_SENDING
    ).update(status=ReminderStatus.PLANNED)
    late = Reminder.objects.filter(status=ReminderStatus.PLANNED, send_by__lt=now).update(
        status=ReminderStatus.FAILED,
        late=True,
        failed_at=now,
        error="Could not be sent before its send-by time.",
    )
    return {"unknown": unknown, "requeued": requeued, "late": late}


def _refusal(reminder: Reminder, now: datetime) -> tuple[str, str] | None:
    case = reminder.case
    if case.status in RELEASED_STATUSES and reminder.kind not in AFTER_CANCEL_KINDS:
        return ReminderStatus.CANCELLED, "The case was cancelled."
    if reminder.plan_version != case.plan_version and reminder.kind not in AFTER_MOVE_KINDS:
        return ReminderStatus.CANCELLED, "The case was rescheduled."
    if (
        reminder.channel == Channel.SMS
        and SmsOptOut.objects.filter(phone=reminder.recipient).exists()
    ):
        return ReminderStatus.SUPPRESSED, "The recipient texted STOP."
    if now > reminder.send_by:
        return ReminderStatus.FAILED, "Could not be sent before its send-by time."
    return None


def _retry_or_fail(reminder: Reminder, error: str, now: datetime) -> str:
    if reminder.attempts >= MAX_ATTEMPTS:
        _finish(reminder, ReminderStatus.FAILED, error=error)
        reminder_fall_back(reminder)
        return ReminderStatus.FAILED
    reminder.status = ReminderStatus.PLANNED
    reminder.due_at = now + BACKOFF * 2 ** (reminder.attempts - 1)
    reminder.provider_called_at = None
    reminder.error = error[:500]
    reminder.save(update_fields=["status", "due_at", "provider_called_at", "error"])
    return ReminderStatus.PLANNED


def _finish(reminder: Reminder, status: str, *, error: str = "", late: bool = False) -> None:
    reminder.status = status
    reminder.error = error[:500]
    reminder.late = late or reminder.late
    fields = ["status", "error", "late"]
    if status == ReminderStatus.FAILED:
        reminder.failed_at = timezone.now()
        fields.append("failed_at")
    reminder.save(update_fields=fields)


def reminder_fall_back(reminder: Reminder) -> None:
    """A message that failed for good on one channel goes by the patient's other one."""
    if reminder.audience != "patient":
        return
    patient = reminder.case.patient
    other = {"sms": ("email", patient.email), "email": ("sms", patient.phone)}[reminder.channel]
    channel, address = other
    if not address or Reminder.objects.filter(
        case=reminder.case, rule=reminder.rule, plan_version=reminder.plan_version,
        drug_code=reminder.drug_code, note=reminder.note, channel=channel,
    ).exists():
        return
    if channel == "sms" and SmsOptOut.objects.filter(phone=address).exists():
        return
    now = timezone.now()
    Reminder.objects.create(
        case=reminder.case, rule=reminder.rule, kind=reminder.kind, audience=reminder.audience,
        channel=channel, recipient=address, drug=reminder.drug, drug_code=reminder.drug_code,
        note=reminder.note, plan_version=reminder.plan_version, due_at=now,
        send_by=max(reminder.send_by, now + timedelta(hours=1)),
    )


def delivery_moves_forward(current: str, reported: str) -> bool:
    """Whether a delivery report of `reported` moves a reminder now `current` up the ladder."""
    return (
        current in DELIVERY_RANK
        and reported in DELIVERY_RANK
        and DELIVERY_RANK[current] < DELIVERY_RANK[reported]
    )


def reminder_delivery_record(
    *, provider_message_id: str, status: str, error: str = "", now: datetime | None = None
) -> Reminder | None:
    """Record the provider's report on a message it was handed: sent, delivered or failed (with
    `error`, for the front desk). A report that is unknown, repeated or older than what is
    recorded changes nothing: None. A failed message goes by the patient's other channel."""
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update()
            .filter(provider_message_id=provider_message_id)
            .first()
        )
        if reminder is None or not delivery_moves_forward(reminder.status, status):
            return None
        now = now or timezone.now()
        reminder.status = status
        fields = ["status"]
        if status == ReminderStatus.SENT and reminder.sent_at is None:
            reminder.sent_at = now
            fields.append("sent_at")
        elif status == ReminderStatus.DELIVERED:
            reminder.delivered_at = now
            fields.append("delivered_at")
        elif status == ReminderStatus.FAILED:
            reminder.failed_at = now
            reminder.error = error[:500]
            fields += ["failed_at", "error"]
        reminder.save(update_fields=fields)
        if status == ReminderStatus.FAILED:
            reminder_fall_back(reminder)
    return reminder


def reminders_withdraw(reminders: QuerySet[Reminder], *, reason: str) -> int:
    """The messages among `reminders` not sent yet will not be: a change to the case made them
    wrong. Returns how many were withdrawn."""
    return reminders.filter(status__in=OPEN_STATUSES).update(
        status=ReminderStatus.CANCELLED, error=reason
    )


def reminders_sent_back_then(reminders: QuerySet[Reminder], *, now: datetime) -> int:
    """A history written after the fact (the demo's days before today): the planned messages
    among `reminders` that fell due before `now` are recorded as sent at their due time, so the
    dispatcher does not send them late. Returns how many."""
    return reminders.filter(status=ReminderStatus.PLANNED, due_at__lt=now).update(
        status=ReminderStatus.SENT, sent_at=F("due_at")
    )


def sms_opt_out(*, phone: str) -> None:
    """The number texted STOP: nothing more goes to it by SMS, starting with what is planned."""
    SmsOptOut.objects.get_or_create(phone=phone)
    Reminder.objects.filter(
        channel=Channel.SMS, recipient=phone, status=ReminderStatus.PLANNED
    ).update(status=ReminderStatus.SUPPRESSED, error="The recipient texted STOP.")


def sms_opt_in(*, phone: str) -> None:
    """The number texted START: SMS may go to it again."""
    SmsOptOut.objects.filter(phone=phone).delete()
