"""Claim due reminders, send them, record what happened: the one writer of a reminder's status.

A reminder moves planned -> sending (claimed, committed) -> sent, or back to planned with a
backoff after a transient failure, or to failed. Two dispatchers never claim the same row
(SELECT ... FOR UPDATE SKIP LOCKED). Just before the provider is called the row records
`provider_called_at`; a worker that dies after that leaves a row the sweeper marks `unknown`
(it may or may not have gone out, so it is not sent again blindly), and a worker that dies
before it leaves a row the sweeper puts back to `planned`. The provider's delivery reports, a
STOP texted back and a change to the case that withdraws unsent messages all come through here.

Reminders go in batches. One statement claims a batch; one short transaction then takes the
batch's case locks (transaction-level advisory locks, in case order), re-reads its cases,
opt-outs, rules, patients and sites, and records the refusals. Each reminder then costs two
statements, each committed at once: `provider_called_at` before the provider is called, `sent`
after (row by row, so a crash mid-batch leaves only its own call `unknown`, and a delivery
report that comes back early finds its row sent).

No lock is held across the provider call: behind PgBouncer in transaction pooling mode a session
lock would stay with a server connection other clients share, and a transaction held open over
the call would hide the committed `provider_called_at` that tells the sweeper a call was made.
The reminder row itself is the send's lease instead (a lease table would repeat what `sending`
and `provider_called_at` already say, and cost a write more per send). A reschedule or cancel
(through scheduling.locks) waits while a row of the case is with the provider, then takes the
case's transaction lock and locks the case's claimed rows not yet handed over
(`reminders_held_back`), so none of them is handed over until the change commits (by then the
change has withdrawn them: the sender's conditional `provider_called_at` update finds them
cancelled and sends nothing), and waits again for a row handed over in between. A row handed
over more than STALE_SENDING ago belongs to a dead worker, by the sweeper's own rule, so a dead
sender holds nothing for longer. The `sent` record does not wait for the disk (`_sent_record`);
`provider_called_at` does.
"""

import logging
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet, prefetch_related_objects
from django.utils import timezone

from scheduling.models import RELEASED_STATUSES, Channel

from . import rendering
from .backends import DeliveryError, OutgoingMessage, backend_for
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
IN_FLIGHT_POLL = 0.05  # seconds between a waiting change's looks at the rows being sent
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

CLAIM_SQL = """
    UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM {table} WHERE status = %s AND due_at <= %s
        ORDER BY due_at, id LIMIT %s FOR UPDATE SKIP LOCKED
    )
    RETURNING id, due_at
"""
# The locks of the batch's cases, taken in case order so that two batches never wait on each
# other in a circle.
BATCH_LOCK_SQL = """
    SELECT pg_advisory_xact_lock(case_id) FROM (
        SELECT DISTINCT case_id FROM {table} WHERE id = ANY(%s) ORDER BY case_id
    ) AS cases
"""

SENT_SQL = """
    UPDATE {table} SET status = %s, sent_at = %s, provider_message_id = %s, error = ''
    WHERE id = %s AND status IN (%s, %s)
      AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'
"""


def reminders_claim(*, now: datetime, limit: int = BATCH) -> list[int]:
    """Claim up to `limit` due reminders (now `sending`, committed); their ids, in due order."""
    if connection.vendor != "postgresql":
        return _claim_portable(now, limit)
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL.format(table=Reminder._meta.db_table),
            [ReminderStatus.SENDING, now, ReminderStatus.PLANNED, now, limit],
        )
        claimed = cursor.fetchall()
    return [reminder_id for reminder_id, _ in sorted(claimed, key=lambda row: (row[1], row[0]))]


def _claim_portable(now: datetime, limit: int) -> list[int]:
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
    outcomes = reminders_send(ids)
    for reminder_id in ids:
        # Ids and statuses only: never the recipient or the text.
        outcome = str(outcomes[reminder_id])
        log.info("reminder %s %s", reminder_id, outcome,
                 extra={"reminder_id": reminder_id, "outcome": outcome})
    return len(ids)


def reminder_send(reminder_id: int) -> str:
    """Send one claimed reminder; returns its new status."""
    return reminders_send([reminder_id])[reminder_id]


def reminders_send(ids: list[int]) -> dict[int, str]:
    """Send claimed reminders, in the order given; returns each one's new status ("missing"
    for an id with no row)."""
    outcomes: dict[int, str] = dict.fromkeys(ids, "missing")
    ready = _batch_checked(ids, outcomes)
    for reminder, message in ready:
        outcomes[reminder.pk] = _handed_and_recorded(reminder, message)
    return outcomes


def _batch_checked(
    ids: list[int], outcomes: dict[int, str]
) -> list[tuple[Reminder, OutgoingMessage]]:
    """Under the batch's case locks: the reminders that may go, each with its message. The
    others' outcomes (refused, dealt with by someone else, a template that failed) are recorded
    and put in `outcomes`."""
    if not ids:
        return []
    ready = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(BATCH_LOCK_SQL.format(table=Reminder._meta.db_table), [ids])
        reminders = _batch_read(ids)
        opted_out = set(
            SmsOptOut.objects.filter(
                phone__in=[r.recipient for r in reminders if r.channel == Channel.SMS]
            ).values_list("phone", flat=True)
        )
        now = timezone.now()
        for reminder in reminders:
            if reminder.status != ReminderStatus.SENDING or reminder.provider_called_at:
                outcomes[reminder.pk] = reminder.status  # another dispatcher has it, or done
                continue
            refusal = _refusal(reminder, now, opted_out=opted_out)
            if refusal is not None:
                status, reason = refusal
                _finish(reminder, status, error=reason, late=status == ReminderStatus.FAILED)
                outcomes[reminder.pk] = status
                continue
            try:
                ready.append((reminder, rendering.render(reminder)))
            except Exception as exc:  # a broken template must not stop the batch
                log.warning("reminder %s: render failed: %s", reminder.pk, type(exc).__name__)
                outcomes[reminder.pk] = _retry_or_fail(reminder, f"render failed: {exc}", now)
    order = {reminder_id: n for n, reminder_id in enumerate(ids)}
    return sorted(ready, key=lambda pair: order[pair[0].pk])


def _batch_read(ids: list[int]) -> list[Reminder]:
    """The reminders with all that rendering and the re-check read: a fixed number of queries
    for the batch, whatever its size. Reminders of one case share one Case instance, so each
    case's medicines and stages are built once."""
    reminders = list(
        Reminder.objects.filter(pk__in=ids).select_related(
            "case__patient", "case__site", "rule", "drug"
        )
    )
    cases = {}
    for reminder in reminders:
        reminder.case = cases.setdefault(reminder.case_id, reminder.case)
    prefetch_related_objects(list(cases.values()), "held_medications__drug", "stages")
    return reminders


def _handed_and_recorded(reminder: Reminder, message: OutgoingMessage) -> str:
    """Hand one checked reminder to the provider and record the answer."""
    now = timezone.now()
    # Committed before the call, and only while the row is still this sender's claim: a
    # reschedule or cancel that committed since the batch's check has withdrawn it, and a claim
    # the sweeper gave back (a batch slower than STALE_SENDING) may be another dispatcher's now.
    handed = Reminder.objects.filter(
        pk=reminder.pk, status=ReminderStatus.SENDING, provider_called_at__isnull=True,
        claimed_at=reminder.claimed_at,
    ).update(provider_called_at=now)
    if not handed:
        status = Reminder.objects.filter(pk=reminder.pk).values_list("status", flat=True)
        return status.first() or "missing"
    reminder.provider_called_at = now
    # The sweeper judges a call in flight by provider_called_at, not by when the batch was
    # claimed: a long batch is not mistaken for a dead worker.
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
    _sent_record(reminder.pk, provider_id)
    return ReminderStatus.SENT


def _sent_record(reminder_id: int, provider_id: str) -> None:
    """Record a send the provider accepted. A provider that answered after the sweeper gave up
    on it still has the last word."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Not worth a wait for the disk (unlike provider_called_at): lost in a crash of the
        # database, the row stays `sending` with provider_called_at, which the sweeper marks
        # `unknown`, as after a worker's crash at that moment. set_config(..., true) lasts for
        # this statement's own transaction, so no setting stays on a pooled connection.
        with connection.cursor() as cursor:
            cursor.execute(
                SENT_SQL.format(table=Reminder._meta.db_table),
                [ReminderStatus.SENT, timezone.now(), provider_id, reminder_id,
                 ReminderStatus.SENDING, ReminderStatus.UNKNOWN],
            )
        return
    Reminder.objects.filter(
        pk=reminder_id, status__in=[ReminderStatus.SENDING, ReminderStatus.UNKNOWN]
    ).update(
        status=ReminderStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id,
        error="",
    )


def reminders_held_back(*, case_id: int) -> None:
    """Inside the transaction of a change to the case, holding the case's lock: none of the
    case's claimed messages not yet handed to the provider is handed over before the change
    commits (the sender's hand-over then finds what the change withdrew)."""
    list(
        Reminder.objects.filter(
            case_id=case_id, status=ReminderStatus.SENDING, provider_called_at__isnull=True
        )
        .select_for_update()
        .values_list("id", flat=True)
    )


def reminders_in_flight_wait(*, case_id: int, timeout: float) -> bool:
    """Wait until the messages of the case with the provider now (handed over less than
    STALE_SENDING ago: older, their worker is dead, as the sweeper judges) have been answered;
    not for any handed over later. False if one still was after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    waiting_for = list(_in_flight(case_id).values_list("id", flat=True))
    while waiting_for and _in_flight(case_id).filter(id__in=waiting_for).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(IN_FLIGHT_POLL)
    return True


def _in_flight(case_id: int) -> QuerySet[Reminder]:
    return Reminder.objects.filter(
        case_id=case_id,
        status=ReminderStatus.SENDING,
        provider_called_at__gt=timezone.now() - STALE_SENDING,
    )


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


def _refusal(
    reminder: Reminder, now: datetime, *, opted_out: set[str]
) -> tuple[str, str] | None:
    case = reminder.case
    if case.status in RELEASED_STATUSES and reminder.kind not in AFTER_CANCEL_KINDS:
        return ReminderStatus.CANCELLED, "The case was cancelled."
    if reminder.plan_version != case.plan_version and reminder.kind not in AFTER_MOVE_KINDS:
        return ReminderStatus.CANCELLED, "The case was rescheduled."
    if reminder.channel == Channel.SMS and reminder.recipient in opted_out:
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
    # A row already with the provider may have gone out: it is not called withdrawn (the
    # provider's answer, or the sweeper's `unknown`, settles it).
    return (
        reminders.filter(status__in=OPEN_STATUSES)
        .exclude(status=ReminderStatus.SENDING, provider_called_at__isnull=False)
        .update(status=ReminderStatus.CANCELLED, error=reason)
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
