"""What the nurses record at the bedside on the day of a case: the pre-op checklist (its items set
per site and procedure type, ticked per case), vitals in pre-op and recovery, and the discharge
assessment (a modified Aldrete score).

Imported by scheduling.models, so Django registers these with the app; the foreign keys name
their targets as strings so this module needs nothing from models.py.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .bedside import STANDARD_CHECKLIST


class ChecklistItem(models.Model):
    """One item of a site's pre-op checklist: for every procedure type, or for one.

    Two items are filled in by the system, not ticked: `preop_vitals` (pre-op vitals recorded)
    and `inr` (an INR at or under the site's limit; asked only when a held drug needs an INR
    check). An item for one procedure type replaces the site-wide item of the same code."""

    site = models.ForeignKey(
        "scheduling.Site", on_delete=models.CASCADE, related_name="checklist_items"
    )
    procedure_type = models.ForeignKey(
        "scheduling.ProcedureType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text="Empty: for every procedure type at the site.",
    )
    code = models.SlugField(
        max_length=40, help_text="Its name in the API, e.g. consent_signed (letters, digits, _)."
    )
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(
        default=True, help_text="Off: not asked (a procedure type's item can switch one off)."
    )

    class Meta:
        ordering = ["site", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "code"],
                condition=Q(procedure_type__isnull=True),
                name="one_site_checklist_item_per_code",
            ),
            models.UniqueConstraint(
                fields=["site", "procedure_type", "code"],
                condition=Q(procedure_type__isnull=False),
                name="one_type_checklist_item_per_code",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @classmethod
    def standard_seed(cls, site) -> None:
        """Give the site the standard checklist, leaving any item it already has as it is."""
        have = set(
            cls.objects.filter(site=site, procedure_type=None).values_list("code", flat=True)
        )
        cls.objects.bulk_create(
            cls(site=site, code=code, label=label, position=position)
            for position, (code, label) in enumerate(STANDARD_CHECKLIST)
            if code not in have
        )


class ChecklistTick(models.Model):
    """A ticked (or unticked again) item of a case's checklist, with who and when."""

    case = models.ForeignKey("scheduling.Case", on_delete=models.CASCADE, related_name="ticks")
    code = models.SlugField(max_length=40)
    done = models.BooleanField()
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "code"], name="one_tick_per_case_item")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {'done' if self.done else 'not done'}"


class VitalsPhase(models.TextChoices):
    PRE_OP = "pre_op", "Pre-op"
    RECOVERY = "recovery", "Recovery"


class VitalSigns(models.Model):
    case = models.ForeignKey("scheduling.Case", on_delete=models.CASCADE, related_name="vitals")
    phase = models.CharField(max_length=10, choices=VitalsPhase.choices)
    systolic = models.PositiveSmallIntegerField("systolic BP (mmHg)")
    diastolic = models.PositiveSmallIntegerField("diastolic BP (mmHg)")
    heart_rate = models.PositiveSmallIntegerField("heart rate (/min)")
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)")
    resp_rate = models.PositiveSmallIntegerField("respiratory rate (/min)")
    taken_at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "taken_at", "id"]
        verbose_name_plural = "vital signs"

    def __str__(self) -> str:
        return f"{self.get_phase_display()} vitals at {self.taken_at:%Y-%m-%d %H:%M}Z"


def _score_field(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, validators=[MaxValueValidator(2)])


class DischargeAssessment(models.Model):
    """A modified Aldrete score: five items of 0 to 2, 10 at best."""

    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.CASCADE, related_name="assessments"
    )
    activity = _score_field("activity")
    respiration = _score_field("respiration")
    circulation = _score_field("circulation")
    consciousness = _score_field("consciousness")
    oxygen_saturation = _score_field("oxygen saturation")
    total = models.PositiveSmallIntegerField(validators=[MinValueValidator(0)])
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"Aldrete {self.total}/10 at {self.at:%Y-%m-%d %H:%M}Z"
