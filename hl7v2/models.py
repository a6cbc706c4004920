"""The outbox of HL7 v2 SIU messages to the hospital's interface engine, and the ADT messages
taken in.

An SIU message is written as a row in the same transaction as the change of the case it tells
(booked S12, moved S13, changed S14, cancelled S15, no-show S26), one row per configured endpoint,
so nothing is told that did not happen and nothing that happened is left untold. A sender claims
due rows and sends them over MLLP, in each case's order (`sequence`), and records the peer's
acknowledgement. Like the reminders (notifications.dispatch): `peer_called_at` is written just
before the message goes on the wire; a row left `sending` with it set may have reached the peer,
so it becomes `unknown` and is never re-sent blindly (an admin resolves it)."""

from django.db import models
from django.db.models import Q


class SiuTrigger(models.TextChoices):
    BOOKED = "S12", "S12 new appointment"
    MOVED = "S13", "S13 rescheduled"
    CHANGED = "S14", "S14 modified"
    CANCELLED = "S15", "S15 cancelled"
    NO_SHOW = "S26", "S26 no-show"


class OutboundStatus(models.TextChoices):
    PLANNED = "planned", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Accepted (AA)"
    FAILED = "failed", "Refused by the peer (AE/AR)"
    UNKNOWN = "unknown", "Unknown (the connection dropped after sending)"
    WITHDRAWN = "withdrawn", "Withdrawn by an admin"


# Waiting for the sender; the oldest of these is what /healthz reports.
UNDELIVERED_STATUSES = (OutboundStatus.PLANNED, OutboundStatus.SENDING, OutboundStatus.UNKNOWN)


class OutboundMessage(models.Model):
    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.CASCADE, related_name="hl7_messages"
    )
    site = models.ForeignKey("scheduling.Site", on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(
        max_length=60, help_text="The configured endpoint's name (settings.HL7_ENDPOINTS)."
    )
    trigger = models.CharField(max_length=3, choices=SiuTrigger.choices)
    # The message's place among its case's messages to this endpoint: sent strictly in order.
    sequence = models.PositiveIntegerField()
    control_id = models.CharField(max_length=20, unique=True, help_text="MSH-10.")
    body = models.TextField(help_text="The message as sent (ER7, segments ended by CR).")
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PLANNED
    )
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(help_text="Not sent before (the backoff after a peer down).")
    claimed_at = models.DateTimeField(null=True, blank=True)
    peer_called_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    ack_code = models.CharField(max_length=2, blank=True, help_text="MSA-1: AA, AE or AR.")
    ack_text = models.CharField(max_length=500, blank=True, help_text="The peer's own words.")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "endpoint", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "endpoint", "sequence"], name="hl7_one_message_per_place"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="hl7_outbound_due",
                condition=Q(status__in=["planned", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"SIU^{self.trigger} {self.control_id} ({self.status})"


class InboundStatus(models.TextChoices):
    APPLIED = "applied", "Applied to the patient"
    IGNORED = "ignored", "Acknowledged, no such patient"
    REJECTED = "rejected", "Refused (AE)"


class InboundMessage(models.Model):
    """An ADT message taken in by the MLLP listener: what it was and what was done with it. The
    message's text is not kept (it is the patient's data); its type, control id and the result
    are."""

    message_type = models.CharField(max_length=20, help_text="MSH-9, e.g. ADT^A08.")
    control_id = models.CharField(max_length=40, blank=True, help_text="MSH-10.")
    status = models.CharField(max_length=8, choices=InboundStatus.choices)
    patient = models.ForeignKey(
        "scheduling.Patient", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id} ({self.status})"
