"""A time held for a booking that is not made yet: a hospital's system found it (FHIR
Appointment/$find), asked to hold it while its user completes the booking ($hold), and books it
or lets it go ($book, or the hold runs out).

The held rooms, bays and surgeon are stages like a case's (scheduling.Stage with `hold` set and
no case), so the same no-overlap constraints keep a clerk's booking out of a held time and a
hold out of a booked one. Imported by scheduling.models, so Django registers it with the app."""

from django.conf import settings
from django.db import models


class SlotHoldStatus(models.TextChoices):
    HELD = "held", "Held"
    BOOKED = "booked", "Booked"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Ran out"


class SlotHold(models.Model):
    site = models.ForeignKey("scheduling.Site", on_delete=models.CASCADE, related_name="+")
    procedure_type = models.ForeignKey("scheduling.ProcedureType", on_delete=models.PROTECT)
    levels = models.PositiveIntegerField()
    day = models.DateField(help_text="The procedure day in the site's time zone.")
    arrival_at = models.DateTimeField()
    procedure_start = models.DateTimeField()
    surgeon = models.ForeignKey(
        "scheduling.Surgeon", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    surgeon_requested = models.BooleanField(default=False)
    # The rooms and bays, one per stay in stay order (scheduling.slots.Pinned), so the booking
    # gets exactly what was held.
    resource_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=8, choices=SlotHoldStatus.choices, default=SlotHoldStatus.HELD
    )
    expires_at = models.DateTimeField()
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The case booked into the held time.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweeper's read: the holds still held, by when they run out.
            models.Index(
                fields=["expires_at"], name="slot_hold_held_expiry",
                condition=models.Q(status="held"),
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.procedure_start:%Y-%m-%d %H:%M}Z ({self.status})"
