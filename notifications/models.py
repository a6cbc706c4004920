"""Reminder rules (what to send, to whom, when) and reminders (one row per message: the outbox and
its log). Reminders are rows with a due time, never delayed broker messages: see DESIGN.md,
decision 2."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery

from scheduling.models import Case, Channel, Drug, Patient, Site

from .rendering import check_rule_templates


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    MEDICATION_HOLD = "medication_hold", "Medication hold"
    WHAT_TO_BRING = "what_to_bring", "What to bring and wear"
    FASTING = "fasting", "Fasting cut-offs"
    ARRIVAL = "arrival", "Arrival time (day before)"
    ARRIVAL_MORNING = "arrival_morning", "Arrival time (morning of)"
    DRIVER_PICKUP = "driver_pickup", "Driver pickup"
    DRIVER_READY = "driver_ready", "Driver: pickup time once recovery starts"
    AFTERCARE = "aftercare", "Aftercare"
    INFECTION_CHECK = "infection_check", "Infection check"
    RESCHEDULE_NOTICE = "reschedule_notice", "New time after a reschedule"
    CANCELLATION_NOTICE = "cancellation_notice", "Cancellation notice"
    RUNNING_LATE = "running_late", "New arrival time when the room runs late"
    DRIVER_CANCELLATION = "driver_cancellation", "Driver: the visit is cancelled"
    DRIVER_RESCHEDULE = "driver_reschedule", "Driver: the visit has moved"
    PAIN_ASK = "pain_ask", "Pain score asked (0-10)"


class Audience(models.TextChoices):
    PATIENT = "patient", "Patient"
    DRIVER = "driver", "Driver"


class Anchor(models.TextChoices):
    BOOKING = "booking", "Booking (or the change that planned it)"
    ARRIVAL = "arrival", "Arrival"
    PROCEDURE_START = "procedure_start", "Procedure start"
    DISCHARGE = "discharge", "Planned discharge"
    HOLD_START = "hold_start", "First day without a held drug (one message per drug)"
    PAIN_FOLLOWUP = "pain_followup", (
        "Each of the site's pain follow-up days after the procedure day (one message per day)"
    )


class ChannelChoice(models.TextChoices):
    PREFERRED = "preferred", "The patient's preferred channel"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Condition(models.TextChoices):
    ALWAYS = "always", "Always"
    HAS_HELD_DRUG = "has_held_drug", "Only when a held drug is linked"
    HAS_DRIVER = "has_driver", "Only when a driver is named"
    NEEDS_INR = "needs_inr", "Only when a held drug needs an INR check"


class ReminderRule(models.Model):
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.PATIENT)
    anchor = models.CharField(max_length=20, choices=Anchor.choices)
    offset_minutes = models.IntegerField(
        default=0, help_text="Minutes after the anchor (negative: before). Ignored with a time."
    )
    day_offset = models.IntegerField(
        default=0, help_text="With a time of day: days after the anchor's day (-1: the day before)."
    )
    at_time = models.TimeField(
        null=True, blank=True, help_text="Wall-clock time in the site's zone, e.g. 16:00."
    )
    channel = models.CharField(
        max_length=16, choices=ChannelChoice.choices, default=ChannelChoice.PREFERRED
    )
    condition = models.CharField(max_length=16, choices=Condition.choices, default=Condition.ALWAYS)
    urgent = models.BooleanField(default=False, help_text="Sent even in quiet hours.")
    skip_in_quiet_hours = models.BooleanField(
        default=False, help_text="Not sent at all when due in quiet hours (instead of deferred)."
    )
    send_within_minutes = models.PositiveIntegerField(
        default=720,
        help_text="If it cannot go out this long after its due time, the front desk is told.",
    )
    sms_text = models.TextField(
        blank=True,
        help_text="Own SMS wording for this rule, e.g. “Hi {{ first_name }}, ...”; blank for "
        "the standard text in the patient's language. Never name the procedure.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "audience"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.get_audience_display().lower()}"

    def clean(self) -> None:
        check_rule_templates(self)
        if self.anchor == Anchor.HOLD_START and self.condition != Condition.HAS_HELD_DRUG:
            raise ValidationError(
                {"condition": "A rule anchored on a drug's hold start needs a held drug."}
            )


class SmsOptOut(models.Model):
    """A number that texted STOP: nothing more is sent to it by SMS until it texts START."""

    phone = models.CharField(max_length=20, unique=True)
    opted_out_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Opted out: {self.phone[:-4]}****"


class ReminderStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SUPPRESSED = "suppressed", "Suppressed (opted out or case ended)"
    UNKNOWN = "unknown", "Unknown (worker stopped during the send)"


OPEN_STATUSES = (ReminderStatus.PLANNED, ReminderStatus.SENDING)
# "Not reached": the provider could not deliver the message, or a worker stopped while calling it
# and nobody knows whether it went out. Either way the front desk calls the patient.
NOT_REACHED_STATUSES = (ReminderStatus.FAILED, ReminderStatus.UNKNOWN)

# A running-late notice's note says the delay it told ("delay:45"): each new delay is its own
# message, and the text gives the arrival time moved by it.
RUNNING_LATE_NOTE_PREFIX = "delay"


def running_late_note(delay_minutes: int) -> str:
    return f"{RUNNING_LATE_NOTE_PREFIX}:{delay_minutes}"


def running_late_note_delay(note: str | None) -> int:
    """The delay a running-late note told, in minutes; 0 for any other note."""
    prefix, _, minutes = (note or "").partition(":")
    return int(minutes) if prefix == RUNNING_LATE_NOTE_PREFIX and minutes.isdigit() else 0


class ReminderQuerySet(models.QuerySet):
    def not_reached(self) -> "ReminderQuerySet":
        return self.filter(status__in=NOT_REACHED_STATUSES)


class Reminder(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    rule = models.ForeignKey(ReminderRule, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, null=True, blank=True)
    # The drug's code, or "" for messages about no one drug: part of the unique key below.
    drug_code = models.CharField(max_length=50, blank=True, default="")
    # What the message is about beyond its kind, e.g. "delay:45" for a running-late notice: part
    # of the unique key, so each new delay is its own message and the same one is never sent twice.
    note = models.CharField(max_length=32, blank=True, default="")
    plan_version = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    send_by = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PLANNED
    )
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_called_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The staff member who asked for this message to be sent again.",
    )
    resend_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    late = models.BooleanField(
        default=False, help_text="Could not go out before its send-by time: the front desk calls."
    )
    # A message that did not reach its recipient leaves the front desk's "not reached" list once
    # someone has dealt with it (called the patient, or resent it and seen it go out).
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "case", "rule", "recipient", "channel", "plan_version", "drug_code", "note"
                ],
                condition=Q(resend_of__isnull=True),
                name="one_reminder_per_plan",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="reminder_due", condition=Q(status=ReminderStatus.PLANNED)
            ),
            models.Index(fields=["provider_message_id"], name="reminder_provider_id"),
            # The sweeper looks twice a minute for rows a dead worker left `sending`: a handful
            # among a table that keeps every message ever sent.
            models.Index(
                fields=["claimed_at"], name="reminder_sending",
                condition=Q(status=ReminderStatus.SENDING),
            ),
            # The messages and outcomes reports read the messages of a period's cases (found by
            # site and day) from the index alone, never every message ever sent.
            models.Index(
                fields=["case"], include=["kind", "status", "due_at", "sent_at", "note"],
                name="reminder_case_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.channel}, {self.status})"

    @property
    def running_late_delay(self) -> int:
        """The delay a running-late notice told, in minutes (0 for any other message)."""
        if self.kind != MessageKind.RUNNING_LATE:
            return 0
        return running_late_note_delay(self.note)


def case_not_reached(*, case_ref: str = "pk") -> Exists:
    """True for a case with a message that did not reach its recipient: for annotating cases
    (`case_ref` names the case's id in the outer query)."""
    return Exists(Reminder.objects.not_reached().filter(case=OuterRef(case_ref)))


# A running-late notice withdrawn for a newer delay, or never sent because the patient opted
# out, told them nothing.
NOT_TOLD_STATUSES = (ReminderStatus.CANCELLED, ReminderStatus.SUPPRESSED)


def case_running_late_told(column: str) -> Subquery:
    """`column` ("note" or "created_at") of the newest running-late notice given to the patient
    of a case in its current plan, or None: for annotating cases, so a board of any size reads
    who was told a later arrival in the same query as its cases."""
    told = (
        Reminder.objects.filter(
            case=OuterRef("pk"),
            kind=MessageKind.RUNNING_LATE,
            plan_version=OuterRef("plan_version"),
        )
        .exclude(status__in=NOT_TOLD_STATUSES)
        .order_by("-created_at", "-id")
    )
    return Subquery(told.values(column)[:1])


class InboundKind(models.TextChoices):
    STOP = "stop", "Opt-out (STOP)"
    START = "start", "Opt back in (START)"
    HELP = "help", "Help"
    CONFIRM = "confirm", "Confirmation"
    OFFER = "offer", "Reply to an offer"
    PAIN = "pain", "Pain score"
    OTHER = "other", "Needs a call"


class InboundMessage(models.Model):
    """An SMS a patient or driver sent us. Anything we cannot act on waits on the front desk's
    "needs a call" list until someone marks it handled."""

    from_phone = models.CharField(max_length=20)
    body = models.TextField(blank=True)
    kind = models.CharField(max_length=8, choices=InboundKind.choices)
    to_phone = models.CharField(max_length=20, blank=True)
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="inbound_messages")
    # Who may read a text that belongs to no case: the staff of the patient's sites when the
    # number is a patient's, else of the site whose number received it; with neither (an unknown
    # number to a shared one), only superusers and staff of every site.
    patient = models.ForeignKey(Patient, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="inbound_messages")
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="inbound_messages")
    provider_message_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from …{self.from_phone[-4:]}"
