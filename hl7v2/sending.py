"""Send the outbox's SIU messages over MLLP, each at most once, in each case's order: the one
writer of an outbound message's status.

A message moves planned -> sending (claimed, committed) -> sent (the peer answered AA), failed
(AE or AR: the peer read it and refused it; only an admin's resend tries again), back to planned
with a backoff (the peer could not be reached: nothing was written to it), or unknown (the
message was written and no acknowledgement came back: the peer may have taken it, so it is never
sent again blindly; an admin resends or withdraws it).

Order. The peer applies a case's messages in the order it gets them: an S15 cancel taken before
the S12 booking it cancels leaves the hospital's schedule wrong. So only the first message of each
(case, endpoint) not yet settled may be claimed: a later one waits while an earlier one is
planned (also while it waits out a backoff), sending, failed or unknown. A failed or unknown
message therefore holds back its case's later messages until an admin resends it (it goes again,
then the others) or withdraws it (the others go). Sent and withdrawn messages hold back nothing.
The claim reads this in the same statement that takes the rows, under FOR UPDATE SKIP LOCKED:
a row being claimed by another dispatcher is still `planned` in this one's snapshot, so it holds
its successors back here too.

Exactly once. `peer_called_at` is committed just before the message is written to the peer; a
worker that dies after that leaves a row `sending` with it set, which the sweeper turns to
`unknown`; one that dies before leaves it without, which the sweeper puts back to `planned`.
The write of `peer_called_at` is conditional on the row still being this dispatcher's claim
(status, and the same `claimed_at`), so a message withdrawn meanwhile, or given back by the
sweeper and claimed again elsewhere, is not written by both.

One connection per endpoint serves a batch, message after message, each answered before the next
is written (MLLP's original mode). A connection the peer closed since its last answer is opened
again before the next message, so a message is written only to a connection that was open. After
a message left unknown, the rest of the endpoint's batch goes back to planned with a backoff: a
peer that stopped answering makes one unknown message, not one per case.

The peer being down is not a failure of the message: it waits, with a backoff doubling up to
BACKOFF_MAX, for as long as it takes (/healthz shows how long the oldest has waited).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import hl7
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from vertebro_site.celery import app

from .mllp_client import ACCEPTED, REFUSED, Ack, MllpLink, NoAnswer, PeerUnreachable, ack_read
from .models import UNDELIVERED_STATUSES, OutboundMessage, OutboundStatus

log = logging.getLogger(__name__)

DISPATCH_TASK = "hl7v2.tasks.hl7_dispatch_due"
BATCH = 50
BACKOFF = timedelta(seconds=30)  # doubled after each attempt the peer could not be reached
BACKOFF_MAX = timedelta(minutes=30)
# Longer than a connection and an acknowledgement take, so only a dead worker's row is this old.
STALE_SENDING = timedelta(minutes=5)

# A message waits while an earlier one of its case and endpoint is one of these.
BLOCKING_STATUSES = (
    OutboundStatus.PLANNED, OutboundStatus.SENDING, OutboundStatus.UNKNOWN, OutboundStatus.FAILED,
)

CLAIM_SQL = """
    UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1
    WHERE id IN (
        SELECT m.id FROM {table} m
        WHERE m.status = %s AND m.due_at <= %s
          AND NOT EXISTS (
            SELECT 1 FROM {table} e
            WHERE e.case_id = m.case_id AND e.endpoint = m.endpoint
              AND e.sequence < m.sequence AND e.status = ANY(%s)
          )
        ORDER BY m.due_at, m.id LIMIT %s FOR UPDATE OF m SKIP LOCKED
    )
    RETURNING id, endpoint, control_id, body, claimed_at, attempts, due_at
"""

SETTLED_SQL = """
    UPDATE {table} SET {columns}
    WHERE id = %s AND status IN (%s, %s)
      AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'
"""


@dataclass
class Claimed:
    id: int
    endpoint: str
    control_id: str
    body: str
    claimed_at: datetime
    attempts: int
    due_at: datetime


# --- claim, send, record ------------------------------------------------------------------


def hl7_claim(*, now: datetime, limit: int = BATCH) -> list[Claimed]:
    """Claim up to `limit` due messages, the first unsettled one of each case and endpoint
    (now `sending`, committed), in due order."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return _claim_portable(now, limit)
    table = OutboundMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL.format(table=table),
            [OutboundStatus.SENDING, now, OutboundStatus.PLANNED, now,
             list(BLOCKING_STATUSES), limit],
        )
        rows = [Claimed(*row) for row in cursor.fetchall()]
    return sorted(rows, key=lambda row: (row.due_at, row.id))


def _claim_portable(now: datetime, limit: int) -> list[Claimed]:
    """SQLite serialises writers: the first unsettled message of each case and endpoint."""
    blocked = OutboundMessage.objects.filter(status__in=BLOCKING_STATUSES).values(
        "case_id", "endpoint"
    ).annotate(first=Min("sequence"))
    first = {(row["case_id"], row["endpoint"]): row["first"] for row in blocked}
    due = OutboundMessage.objects.filter(
        status=OutboundStatus.PLANNED, due_at__lte=now
    ).order_by("due_at", "id")
    rows = [m for m in due if first.get((m.case_id, m.endpoint)) == m.sequence][:limit]
    claimed = []
    for message in rows:
        message.status = OutboundStatus.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
        claimed.append(Claimed(message.pk, message.endpoint, message.control_id, message.body,
                               now, message.attempts, message.due_at))
    return claimed


def hl7_dispatch(*, now: datetime | None = None, limit: int = BATCH) -> dict[int, str]:
    """Claim one batch of due messages and send each; returns each claimed message's new
    status by id."""
    claimed = hl7_claim(now=now or timezone.now(), limit=limit)
    outcomes: dict[int, str] = {}
    by_endpoint: dict[str, list[Claimed]] = {}
    for message in claimed:
        by_endpoint.setdefault(message.endpoint, []).append(message)
    for endpoint, messages in by_endpoint.items():
        outcomes.update(_endpoint_send(endpoint, messages))
    for message_id, outcome in outcomes.items():
        # Ids and statuses only: a message's text names the patient.
        log.info("hl7 message %s %s", message_id, outcome,
                 extra={"hl7_message_id": message_id, "outcome": outcome})
    return outcomes


def _endpoint_send(endpoint: str, messages: list[Claimed]) -> dict[int, str]:
    outcomes = {}
    link = MllpLink(endpoint)
    try:
        for n, message in enumerate(messages):
            try:
                link.ready()
            except PeerUnreachable as exc:
                # The peer is down for the rest of the batch too: none of it was written.
                for waiting in messages[n:]:
                    outcomes[waiting.id] = _back_to_planned(waiting, str(exc))
                break
            outcomes[message.id] = _message_send(link, message)
            if outcomes[message.id] == OutboundStatus.UNKNOWN:
                # A peer that took a message and did not answer is handed no more of this
                # batch: one unknown message, not one per case.
                for waiting in messages[n + 1:]:
                    outcomes[waiting.id] = _back_to_planned(
                        waiting, "Held back: the peer did not answer an earlier message.")
                break
    finally:
        link.close()
    return outcomes


def _message_send(link: MllpLink, message: Claimed) -> str:
    handed = OutboundMessage.objects.filter(
        pk=message.id, status=OutboundStatus.SENDING, peer_called_at__isnull=True,
        claimed_at=message.claimed_at,
    ).update(peer_called_at=timezone.now())
    if not handed:
        status = OutboundMessage.objects.filter(pk=message.id).values_list("status", flat=True)
        return status.first() or "missing"
    try:
        answer = link.exchange(message.body)
    except NoAnswer as exc:
        return _settled(message, OutboundStatus.UNKNOWN, error=str(exc))
    try:
        ack = ack_read(answer)
    except (KeyError, IndexError, ValueError, hl7.ParseException):
        return _settled(message, OutboundStatus.UNKNOWN,
                        error="The peer's answer was not an acknowledgement.")
    if ack.control_id != message.control_id:
        return _settled(message, OutboundStatus.UNKNOWN,
                        error=f"The peer acknowledged another message ({ack.control_id[:40]}).")
    if ack.code in ACCEPTED:
        return _settled(message, OutboundStatus.SENT, ack=ack)
    if ack.code in REFUSED:
        return _settled(message, OutboundStatus.FAILED, ack=ack,
                        error=f"Refused by the peer ({ack.code}).")
    return _settled(message, OutboundStatus.UNKNOWN, ack=ack,
                    error=f"The peer answered an unknown code ({ack.code[:10]}).")


def _settled(message: Claimed, status: str, *, ack: Ack | None = None, error: str = "") -> str:
    """Record the outcome of a message written to the peer. The peer's answer has the last word
    over a sweeper that gave up on it meanwhile (`unknown`)."""
    values = {"status": status, "error": error[:500]}
    if ack is not None:
        values.update(acked_at=timezone.now(), ack_code=ack.code[:2], ack_text=ack.text[:500])
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Not worth a wait for the disk (unlike peer_called_at): lost in a crash of the
        # database, the row stays `sending` with peer_called_at, which the sweeper marks
        # `unknown`, as after a sender's crash at that moment. set_config(..., true) lasts for
        # this statement's own transaction, so no setting stays on a pooled connection.
        with connection.cursor() as cursor:
            cursor.execute(
                SETTLED_SQL.format(
                    table=OutboundMessage._meta.db_table,
                    columns=", ".join(f"{name} = %s" for name in values),
                ),
                [*values.values(), message.id, OutboundStatus.SENDING, OutboundStatus.UNKNOWN],
            )
        return status
    OutboundMessage.objects.filter(
        pk=message.id, status__in=[OutboundStatus.SENDING, OutboundStatus.UNKNOWN]
    ).update(**values)
    return status


def _back_to_planned(message: Claimed, error: str) -> str:
    delay = min(BACKOFF * 2 ** max(message.attempts - 1, 0), BACKOFF_MAX)
    updated = OutboundMessage.objects.filter(
        pk=message.id, status=OutboundStatus.SENDING, peer_called_at__isnull=True,
        claimed_at=message.claimed_at,
    ).update(status=OutboundStatus.PLANNED, due_at=timezone.now() + delay, error=error[:500])
    if not updated:
        status = OutboundMessage.objects.filter(pk=message.id).values_list("status", flat=True)
        return status.first() or "missing"
    return OutboundStatus.PLANNED


def hl7_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover the rows of a worker that died: written to the peer maybe (unknown), or not yet
    (planned again)."""
    now = now or timezone.now()
    sending = OutboundMessage.objects.filter(status=OutboundStatus.SENDING)
    unknown = sending.filter(peer_called_at__lt=now - STALE_SENDING).update(
        status=OutboundStatus.UNKNOWN,
        error="The sender stopped while the message was with the peer; it may have been taken.",
    )
    requeued = sending.filter(
        peer_called_at__isnull=True, claimed_at__lt=now - STALE_SENDING
    ).update(status=OutboundStatus.PLANNED)
    return {"unknown": unknown, "requeued": requeued}


def hl7_dispatch_soon() -> None:
    """For the transaction that writes outbox rows: once it commits, a dispatcher is asked to
    run at once rather than at the next beat. Losing this request loses nothing (the beat's
    dispatcher claims the rows anyway)."""
    transaction.on_commit(_dispatch_enqueue)


def _dispatch_enqueue() -> None:
    try:
        app.send_task(DISPATCH_TASK)
    except Exception as exc:  # the booking is done; the beat's dispatcher sends it instead
        log.warning("hl7: could not ask for a dispatch now: %s", type(exc).__name__)


# --- what an admin may do -------------------------------------------------------------------


def hl7_messages_resend(*, messages: Iterable[OutboundMessage], now: datetime | None = None
                        ) -> list[OutboundMessage]:
    """Failed and unknown messages go again, first in their case's order (the attempts so far
    are kept). Returns those put back."""
    return _moved(messages, to=OutboundStatus.PLANNED,
                  allowed=(OutboundStatus.FAILED, OutboundStatus.UNKNOWN), now=now)


def hl7_messages_withdraw(*, messages: Iterable[OutboundMessage], now: datetime | None = None
                          ) -> list[OutboundMessage]:
    """Messages not sent and not with the peer now will not be sent; the case's later messages
    no longer wait for them. Returns those withdrawn."""
    return _moved(messages, to=OutboundStatus.WITHDRAWN,
                  allowed=(OutboundStatus.PLANNED, OutboundStatus.FAILED, OutboundStatus.UNKNOWN),
                  now=now)


def _moved(messages, *, to: str, allowed: tuple, now: datetime | None) -> list[OutboundMessage]:
    now = now or timezone.now()
    ids = [message.pk for message in messages]
    with transaction.atomic():
        # A message a dispatcher holds (sending) is never moved under it.
        rows = list(
            OutboundMessage.objects.select_for_update()
            .filter(pk__in=ids, status__in=allowed).order_by("pk")
        )
        for row in rows:
            row.status = to
            fields = ["status"]
            if to == OutboundStatus.PLANNED:
                row.due_at = now
                row.claimed_at = row.peer_called_at = None
                fields += ["due_at", "claimed_at", "peer_called_at"]
            row.save(update_fields=fields)
    return rows


def hl7_oldest_undelivered_seconds(*, now: datetime | None = None) -> int:
    """How long the oldest message not yet delivered (planned, sending or unknown) has waited
    since it was written; 0 if none."""
    now = now or timezone.now()
    oldest = (
        OutboundMessage.objects.filter(status__in=UNDELIVERED_STATUSES)
        .order_by("created_at").values_list("created_at", flat=True).first()
    )
    return max(int((now - oldest).total_seconds()), 0) if oldest else 0
