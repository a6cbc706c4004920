"""Freed times offered by text to the waiting list: the time a cancelled, no-show or moved case
gave back, and each offer of it to one waiting patient.

An offer is also its own outbox row (DESIGN.md decision 2): a dispatcher claims it, records just
before calling the provider, and records the outcome, so an offer is texted once even if a worker
dies. Imported by scheduling.models, so Django registers these with the app; the foreign keys
name their targets as strings so this module needs nothing from models.py.
"""

from django.db import models
from django.db.models import Q


class FreedTimeStatus(models.TextChoices):
    OPEN = "open", "Being offered"
    FILLED = "filled", "Taken from an offer"
    CLOSED = "closed", "No longer offered"


class FreedTime(models.Model):
    """The procedure-room time a case gave back, offered in waves until someone takes it."""

    site = models.ForeignKey("scheduling.Site", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.CASCADE, related_name="freed_times",
        help_text="The case that gave the time back.",
    )
    day = models.DateField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=FreedTimeStatus.choices, default=FreedTimeStatus.OPEN
    )
    waves = models.PositiveSmallIntegerField(default=0)
    closed_reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="freed_time_status")]

    def __str__(self) -> str:
        return f"Freed time {self.starts_at:%Y-%m-%d %H:%M}Z ({self.status})"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    TAKEN = "taken", "Taken by another patient"


class OfferSendStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (worker stopped during the send)"
    WITHDRAWN = "withdrawn", "Not sent"


class Offer(models.Model):
    freed_time = models.ForeignKey(FreedTime, on_delete=models.CASCADE, related_name="offers")
    entry = models.ForeignKey(
        "scheduling.WaitingListEntry", on_delete=models.CASCADE, related_name="offers"
    )
    patient = models.ForeignKey("scheduling.Patient", on_delete=models.CASCADE, related_name="+")
    # The slot offered: the procedure start booked on acceptance, and the arrival time told.
    slot_start = models.DateTimeField()
    arrival_at = models.DateTimeField()
    wave = models.PositiveSmallIntegerField()
    # "YES 2": the number that tells this offer apart from the patient's other open ones.
    reply_number = models.PositiveSmallIntegerField(default=1)
    phone = models.CharField(max_length=20)
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    outcome = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The case booked when the patient took the time.",
    )
    # The outbox: claimed, provider called, sent (see notifications.dispatch for the ladder).
    send_status = models.CharField(
        max_length=10, choices=OfferSendStatus.choices, default=OfferSendStatus.PLANNED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_called_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    send_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["freed_time", "entry"], name="one_offer_per_entry"),
        ]
        indexes = [
            models.Index(fields=["phone", "status"], name="offer_phone_status"),
            models.Index(
                fields=["id"], name="offer_to_send",
                condition=Q(send_status=OfferSendStatus.PLANNED),
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} ({self.status})"
