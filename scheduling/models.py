"""The unit (sites, rooms and bays, surgeons, procedure types), its patients and their cases.

The time ranges that rooms, bays and surgeons are held for are protected on PostgreSQL by
exclusion constraints added in migration 0002 (they are not expressible on SQLite, where the
booking service checks inside a serialised write transaction instead).
"""

import dataclasses
import hashlib
import secrets
import zoneinfo
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    validate_comma_separated_integer_list,
)
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

# The nurses' bedside records live in their own module; importing it registers them with the app.
from .bedside_models import ChecklistItem
from .closure_models import Closure  # noqa: F401 (closures and leave, registered with the app)
from .config_models import ConfigStamp  # noqa: F401 (the configuration's stamp, registered here)
from .hold_models import SlotHold, SlotHoldStatus  # noqa: F401 (held times, registered here)
from .offer_models import FreedTime, Offer  # noqa: F401 (registered with the app)
from .pain_models import PainScore  # noqa: F401  (pain follow-up scores, registered here)
from .plan_models import PlanRun  # noqa: F401  (day planner runs, registered with the app)

# The form Twilio gives a receiving number in ("To"), so a text is matched to its site exactly.
validate_e164 = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$", "Give the number in E.164 form, such as +12125550100."
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone such as America/New_York.")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ResourceKind(models.TextChoices):
    PROCEDURE_ROOM = "procedure_room", "Procedure room"
    PRE_OP_BAY = "pre_op_bay", "Pre-op bay"
    RECOVERY_BAY = "recovery_bay", "Recovery bay"
    HOLDING_BAY = "holding_bay", "Holding bay"


class StageKind(models.TextChoices):
    PRE_OP = "pre_op", "Pre-op"
    PROCEDURE = "procedure", "Procedure"
    CEMENT_SET = "cement_set", "Cement set"
    RECOVERY = "recovery", "Recovery"


class SiteLocale(models.TextChoices):
    EN_US = "en-US", "English (United States)"
    EN_GB = "en-GB", "English (United Kingdom)"
    ES = "es", "Spanish"


class Site(models.Model):
    code = models.SlugField(unique=True, help_text="Short code used by the API, e.g. “main”.")
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    address = models.TextField(blank=True)
    directions = models.TextField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    sms_number = models.CharField(
        "SMS number",
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_e164],
        help_text="The number patients of this site text (E.164, e.g. +12125550100). A text from "
        "an unknown number to it goes to this site's staff; left empty when sites share a number.",
    )
    check_in_minutes = models.PositiveIntegerField(
        default=30, help_text="Minutes between arrival and the start of the first stage."
    )
    fasting_solids_hours = models.PositiveIntegerField(
        default=8, help_text="No solid food this many hours before the procedure starts."
    )
    fasting_clear_liquids_hours = models.PositiveIntegerField(
        default=2, help_text="Clear liquids allowed until this many hours before the procedure."
    )
    fasting_solids_from_midnight = models.BooleanField(
        default=False, help_text="Nothing solid after midnight before the procedure day."
    )
    conservative_treatment_min_weeks = models.PositiveIntegerField(
        default=6,
        help_text="Weeks of conservative treatment required first (not for traumatic fractures).",
    )
    # The nurses' rules for the day (issue: the day as the patient is told it, enforced gently).
    inr_limit = models.DecimalField(
        "INR limit",
        max_digits=3,
        decimal_places=1,
        default=1.5,
        help_text="Highest INR on the day at which a patient holding warfarin may go ahead.",
    )
    recovery_minimum_minutes = models.PositiveIntegerField(
        default=30, help_text="Shortest recovery before discharge, in minutes."
    )
    discharge_score_minimum = models.PositiveIntegerField(
        "discharge score minimum",
        default=9,
        validators=[MaxValueValidator(10)],
        help_text="Lowest modified Aldrete score (out of 10) at which a patient may go home.",
    )
    # Vitals outside these are possible but flagged on the board for a nurse to look at.
    systolic_alert_low = models.PositiveSmallIntegerField(default=90)
    systolic_alert_high = models.PositiveSmallIntegerField(default=180)
    diastolic_alert_high = models.PositiveSmallIntegerField(default=110)
    heart_rate_alert_low = models.PositiveSmallIntegerField(default=50)
    heart_rate_alert_high = models.PositiveSmallIntegerField(default=120)
    spo2_alert_low = models.PositiveSmallIntegerField("SpO2 alert low", default=92)
    resp_rate_alert_low = models.PositiveSmallIntegerField(default=10)
    resp_rate_alert_high = models.PositiveSmallIntegerField(default=24)
    # What patients may do for themselves from their link, and what they are asked by text.
    patient_change_cutoff_hours = models.PositiveIntegerField(
        default=48,
        help_text="A patient may cancel or move a visit from their link until this many hours "
        "before arrival; after it, the page gives the unit's phone number.",
    )
    offers_enabled = models.BooleanField(
        "offer freed times", default=True,
        help_text="Text a freed time to the best-matching patients on the waiting list.",
    )
    offer_min_lead_hours = models.PositiveIntegerField(
        default=24, help_text="A freed time is offered only if it starts at least this many "
        "hours ahead.",
    )
    offer_wave_size = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1)],
        help_text="How many waiting patients are offered a freed time at once.",
    )
    locale = models.CharField(
        max_length=8, choices=SiteLocale.choices, default=SiteLocale.EN_US,
        help_text="How staff pages write dates, times (12 h in en-US, 24 h elsewhere) and "
        "spellings, and how a typed date such as 03/17/1944 is read.",
    )
    offer_valid_minutes = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(1)],
        help_text="How long an offer stays open before the next wave is asked.",
    )
    review_hold_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1)],
        help_text="A booking sent to a clinician for review (a screening answer blocked it) "
        "holds its rooms this many hours; undecided by then, it is released.",
    )
    pain_followup_days = models.CharField(
        max_length=40, default="1,7,30", blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text="Days after the procedure on which the patient is asked for their pain "
        "(0-10), e.g. 1,7,30; blank for none. They are also asked at booking.",
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="sites",
        blank=True,
        help_text="Staff who work here; they see only the cases of their sites.",
    )
    # The waiting room's board is reached by this token alone (no login), so it is random and
    # long; empty (NULL, so that many sites can have none under the unique index) means the site
    # has no family board.
    family_board_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        created = self._state.adding
        super().save(*args, **kwargs)
        if created:  # however a site is made (admin, demo, tests), it starts with the checklist
            ChecklistItem.standard_seed(self)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def family_board_issue(self) -> str:
        """Give the site a new family-board link; the previous one stops working."""
        self.family_board_token = secrets.token_urlsafe(24)
        self.save(update_fields=["family_board_token"])
        return self.family_board_token

    def family_board_revoke(self) -> None:
        self.family_board_token = None
        self.save(update_fields=["family_board_token"])


class WeeklyHours(models.Model):
    weekday = models.IntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        abstract = True
        ordering = ["weekday", "opens"]

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError("The closing time must be after the opening time.")


class OpeningHours(WeeklyHours):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_hours")

    class Meta(WeeklyHours.Meta):
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(fields=["site", "weekday"], name="one_opening_per_site_day")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Resource(models.Model):
    """One room or bay; it holds one patient at a time."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(max_length=32, choices=ResourceKind.choices)
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="unique_resource_name_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Surgeon(models.Model):
    name = models.CharField(max_length=120)
    code = models.SlugField(unique=True)
    sites = models.ManyToManyField(Site, related_name="surgeons")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SurgeonHours(WeeklyHours):
    surgeon = models.ForeignKey(Surgeon, on_delete=models.CASCADE, related_name="working_hours")

    class Meta(WeeklyHours.Meta):
        verbose_name_plural = "surgeon working hours"
        # Several periods a weekday are allowed (a morning list and an afternoon list); a
        # case's surgeon stages must fit inside one of them.
        constraints = [
            models.UniqueConstraint(
                fields=["surgeon", "weekday", "opens"], name="one_period_per_surgeon_start"
            )
        ]

    def __str__(self) -> str:
        hours = f"{self.opens:%H:%M}-{self.closes:%H:%M}"
        return f"{self.surgeon}: {self.get_weekday_display()} {hours}"


class ProcedureType(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    max_levels = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    active = models.BooleanField(default=True)
    usual = models.BooleanField(
        "the usual procedure", default=False,
        help_text="The booking form starts on it. Without one, on the procedure booked most.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StageTemplate(models.Model):
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.CASCADE, related_name="stage_templates"
    )
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=32, choices=StageKind.choices)
    resource_kind = models.CharField(max_length=32, choices=ResourceKind.choices)
    base_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    minutes_per_extra_level = models.PositiveIntegerField(default=0)
    needs_surgeon = models.BooleanField(default=False)
    turnover_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Minutes the room or bay stays blocked after the patient leaves it (cleaning).",
    )
    minimum_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Finishing the stage sooner than this after it started needs a written reason "
        "(the cement set's hour). Empty: no minimum.",
    )

    class Meta:
        ordering = ["procedure_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure_type", "kind"], name="one_stage_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.procedure_type}: {self.get_kind_display()}"

    @classmethod
    def from_rules(cls, procedure_type: "ProcedureType", rules) -> list["StageTemplate"]:
        """The procedure type's templates, unsaved and in order, for stage rules such as
        timing.VERTEBROPLASTY_RULES."""
        return [
            cls(procedure_type=procedure_type, position=position, **dataclasses.asdict(rule))
            for position, rule in enumerate(rules)
        ]


class Drug(models.Model):
    """A medicine held before the procedure. Clinicians edit this table; it is data, not code."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    hold_days = models.PositiveIntegerField(
        help_text="Days before the procedure day on which the patient stops taking it."
    )
    hold_doses = models.PositiveIntegerField(
        null=True, blank=True, help_text="For drugs held by doses: the number of doses skipped."
    )
    inr_check = models.BooleanField(default=False, help_text="INR is checked on the day.")
    note = models.CharField(max_length=240, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Patient(models.Model):
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    mrn = models.CharField("MRN", max_length=40, unique=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +12125550100")
    email = models.EmailField(blank=True)
    preferred_channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    language = models.CharField(max_length=8, default="en")
    # Allergies the day's staff must see (the board shows contrast and latex). A bone-cement
    # allergy is a screening answer on each case, where it blocks the booking.
    allergy_contrast = models.BooleanField("Allergic to contrast", default=False)
    allergy_latex = models.BooleanField("Allergic to latex", default=False)
    allergy_other = models.CharField("Other allergies", max_length=240, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        # The front desk types an MRN in any case; registering and finding a patient look it up
        # case-insensitively (mrn__iexact), which the unique index cannot answer.
        indexes = [models.Index(Upper("mrn"), name="patient_mrn_upper")]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def unreachable(self) -> bool:
        """No address for the channel the patient's messages go by: nothing would reach them,
        so a booking needs the unit's word that it will call them instead."""
        return not (self.email if self.preferred_channel == Channel.EMAIL else self.phone)


class PatientSite(models.Model):
    """A patient known at another site, linked to this one by a clerk who proved the patient was in
    front of them (MRN, date of birth and last name all matched). From then on the site's staff
    see the patient, as if the patient had a case there."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="site_links")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="patient_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "site"], name="one_link_per_patient_site")
        ]

    def __str__(self) -> str:
        return f"Patient {self.patient_id} at {self.site_id}"


class CaseStatus(models.TextChoices):
    # A screening answer blocked the booking at the front desk: the case holds its rooms until a
    # clinician approves (-> booked) or declines it, or its hold runs out; the patient is told
    # nothing before approval.
    NEEDS_REVIEW = "needs_review", "Needs clinician review"
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    IN_PRE_OP = "in_pre_op", "In pre-op"
    IN_PROCEDURE = "in_procedure", "In procedure"
    CEMENT_SETTING = "cement_setting", "Cement setting"
    IN_RECOVERY = "in_recovery", "In recovery"
    DISCHARGED = "discharged", "Discharged"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Status groups: each is named here once and imported wherever the rule is needed.
# Booked or confirmed: the patient has not arrived, so the case may still be moved.
NOT_ARRIVED_STATUSES = (CaseStatus.BOOKED, CaseStatus.CONFIRMED)
# A case may be cancelled until the patient is taken into pre-op (one awaiting review too).
CANCELLABLE_STATUSES = (CaseStatus.NEEDS_REVIEW, *NOT_ARRIVED_STATUSES, CaseStatus.CHECKED_IN)
# Given back its rooms and bays: the others hold theirs.
RELEASED_STATUSES = (CaseStatus.CANCELLED, CaseStatus.NO_SHOW)
# Nothing more happens to the case: released, or the patient has gone home.
CLOSED_STATUSES = (*RELEASED_STATUSES, CaseStatus.DISCHARGED)
# In the unit now: checked in and not yet discharged.
IN_PROGRESS_STATUSES = (
    CaseStatus.CHECKED_IN,
    CaseStatus.IN_PRE_OP,
    CaseStatus.IN_PROCEDURE,
    CaseStatus.CEMENT_SETTING,
    CaseStatus.IN_RECOVERY,
)


class Case(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT)
    levels = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10)])
    surgeon = models.ForeignKey(Surgeon, on_delete=models.PROTECT, null=True, blank=True)
    surgeon_requested = models.BooleanField(
        default=False, help_text="The surgeon was asked for by name and is kept on reschedule."
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.BOOKED)
    day = models.DateField(help_text="The procedure day in the site's time zone.")
    arrival_at = models.DateTimeField()
    procedure_start = models.DateTimeField()
    fasting_solids_until = models.DateTimeField()
    fasting_clear_liquids_until = models.DateTimeField()

    driver_name = models.CharField(max_length=120, blank=True)
    driver_phone = models.CharField(max_length=20, blank=True)
    driver_present_at = models.DateTimeField(
        null=True, blank=True, help_text="When the adult driver was marked present to take the "
        "patient home."
    )
    inr = models.DecimalField(
        "INR", max_digits=3, decimal_places=1, null=True, blank=True,
        help_text="The INR measured on the day, when a held drug asks for it.",
    )

    # Screening answers, asked at booking.
    active_infection = models.BooleanField()
    fracture_painful = models.BooleanField()
    bleeding_disorder = models.BooleanField()
    tumor_in_canal = models.BooleanField()
    cement_allergy = models.BooleanField()
    traumatic = models.BooleanField()
    conservative_treatment_weeks = models.PositiveIntegerField()
    imaging_on_file = models.BooleanField()
    screening_override_reason = models.TextField(blank=True)
    screening_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    screening_overridden_at = models.DateTimeField(null=True, blank=True)
    review_hold_until = models.DateTimeField(
        null=True, blank=True,
        help_text="A case awaiting clinician review holds its rooms until then.",
    )
    # The patient has no phone (or email) for their channel: the clerk acknowledged at booking
    # that the unit will call them, and they are on the call list the day before.
    unit_will_call = models.BooleanField(default=False)
    unit_called_at = models.DateTimeField(null=True, blank=True)
    unit_called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    medications = models.ManyToManyField(Drug, through="CaseMedication", blank=True)
    takes_no_medicines = models.BooleanField(
        default=False,
        help_text="Asked, the patient takes none of the medicines in the hold table.",
    )
    other_medicines = models.CharField(
        max_length=500, blank=True, help_text="Other medicines the patient takes, as told."
    )

    plan_version = models.PositiveIntegerField(
        default=1, help_text="Goes up at each reschedule; messages planned for older times lapse."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    family_code = models.CharField(
        max_length=8,
        blank=True,
        help_text="Shown on the waiting room's family board instead of a name; given at check-in.",
    )

    cancel_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Part of every patient link's signature: a new nonce revokes the links already sent.
    link_nonce = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["procedure_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "day"],
                condition=~Q(status__in=RELEASED_STATUSES),
                name="one_active_case_per_patient_day",
            ),
            models.UniqueConstraint(
                fields=["site", "day", "family_code"],
                condition=~Q(family_code=""),
                name="one_family_code_per_site_day",
            ),
        ]
        indexes = [
            # The site's cases of some days, for the board, the slot search and the reports;
            # the reports read every column they need of a year's cases from the index alone,
            # without visiting a table page for each case (a site's cases lie scattered among
            # the other sites').
            models.Index(
                fields=["site", "day"],
                include=["id", "levels", "procedure_type", "surgeon", "status", "confirmed_at"],
                name="case_site_day_report",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.day})"

    # What a change of the case touches. `updated_at` alone would do with a moving clock, but two
    # writes can share a timestamp (a frozen test clock, a coarse server clock), so the fields that
    # the writers change are part of the version too.
    VERSION_FIELDS = (
        "updated_at", "status", "plan_version", "procedure_start", "driver_name", "driver_phone",
    )

    @property
    def version(self) -> str:
        """The case as a page or a client last saw it, as a short opaque string: a change sent
        with an older version is refused rather than applied to a case it no longer shows."""
        parts = [
            value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)
            for value in (getattr(self, name) for name in self.VERSION_FIELDS)
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]

    @property
    def is_active(self) -> bool:
        return self.status not in RELEASED_STATUSES


class CaseMedication(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="held_medications")
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT)
    hold_starts_on = models.DateField(help_text="The first day the patient does not take it.")

    class Meta:
        ordering = ["hold_starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["case", "drug"], name="one_hold_per_case_drug")
        ]

    def __str__(self) -> str:
        return f"{self.drug} held from {self.hold_starts_on}"


class Stage(models.Model):
    """One timed step of a case, holding its room or bay from planned_start to held_until.

    held_until is planned_end plus the turnover of the room or bay when the patient leaves it
    after this stage. `active` mirrors the case: it turns false when the case is cancelled or a
    no-show, and only active stages hold their resource.
    """

    # A case's stage, or one a hold keeps for a booking not made yet (scheduling.SlotHold):
    # never both, never neither.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="stages", null=True, blank=True
    )
    hold = models.ForeignKey(
        "scheduling.SlotHold", on_delete=models.CASCADE, related_name="stages", null=True,
        blank=True,
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=32, choices=StageKind.choices)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="stages")
    surgeon = models.ForeignKey(
        Surgeon, on_delete=models.PROTECT, null=True, blank=True, related_name="stages"
    )
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    held_until = models.DateTimeField()
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["case", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start"))
                & Q(held_until__gte=models.F("planned_end")),
                name="stage_times_in_order",
            ),
            models.UniqueConstraint(fields=["case", "kind"], name="one_stage_per_case_kind"),
            models.CheckConstraint(
                condition=Q(case__isnull=True, hold__isnull=False)
                | Q(case__isnull=False, hold__isnull=True),
                name="stage_of_a_case_or_a_hold",
            ),
        ]
        indexes = [
            models.Index(fields=["resource", "planned_start"]),
            # The reports read a period's stages case by case from the index alone (the cases
            # found by site and day), never the stages of every case ever booked.
            models.Index(
                fields=["case", "kind"],
                include=["resource", "active", "planned_start", "planned_end", "actual_start",
                         "actual_end"],
                name="stage_case_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.planned_start:%Y-%m-%d %H:%M}Z"



class CaseAction(models.TextChoices):
    CHECK_IN = "check_in", "Checked in"
    STAGE_START = "stage_start", "Stage started"
    STAGE_FINISH = "stage_finish", "Stage finished"
    DISCHARGE = "discharge", "Discharged"
    # Done by the patient from their link or by text (CaseEvent.source says which).
    CONFIRM = "confirm", "Confirmed"
    CANCEL = "cancel", "Cancelled"
    MOVE = "move", "Moved"
    OFFER_ACCEPT = "offer_accept", "Booked from an offer"
    # By staff before check-in: screening answers or medicines put right (reason says what).
    CORRECT = "correct", "Screening or medicines corrected"
    REVIEW_APPROVE = "review_approve", "Approved at clinician review"
    REVIEW_DECLINE = "review_decline", "Declined at clinician review"
    REVIEW_EXPIRE = "review_expire", "Review hold ran out"


class EventSource(models.TextChoices):
    PATIENT_LINK = "patient_link", "The patient, on their page"
    PATIENT_SMS = "patient_sms", "The patient, by text"


class CaseEvent(models.Model):
    """One step of a case on its day (check-in, a stage started or finished, discharge): who did
    it and when. The status before the step is kept so that a mistaken click can be undone;
    an undone step stays here with undone_at set, as part of the case's history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=CaseAction.choices)
    stage_kind = models.CharField(max_length=32, choices=StageKind.choices, blank=True)
    status_before = models.CharField(max_length=20, choices=CaseStatus.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A step taken although a rule said no: the refusal's code, what it named, and the reason.
    exception = models.CharField(max_length=40, blank=True)
    unmet = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    # Who took the step when it was not a member of staff (`by` is then empty).
    source = models.CharField(max_length=16, choices=EventSource.choices, blank=True)

    class Meta:
        ordering = ["case", "at", "id"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        kind = f" {self.stage_kind}" if self.stage_kind else ""
        return f"{self.get_action_display()}{kind} at {self.at:%Y-%m-%d %H:%M}Z"


class WaitingPriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    SOON = "soon", "Soon"
    ROUTINE = "routine", "Routine"


# The planner places every case of a higher priority before any of a lower one.
PRIORITY_RANK = {WaitingPriority.URGENT: 3, WaitingPriority.SOON: 2, WaitingPriority.ROUTINE: 1}


class WaitingStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    SCHEDULED = "scheduled", "Scheduled"
    REMOVED = "removed", "Removed"


class WaitingListEntry(models.Model):
    """A patient to be scheduled: the day planner and the backfill suggestions draw from here."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waiting_entries")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="waiting_entries")
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT)
    levels = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10)])
    earliest_date = models.DateField()
    latest_date = models.DateField()
    priority = models.CharField(
        max_length=10, choices=WaitingPriority.choices, default=WaitingPriority.ROUTINE
    )
    surgeon = models.ForeignKey(
        Surgeon, on_delete=models.PROTECT, null=True, blank=True,
        help_text="Asked for by name; the case is booked only with this surgeon.",
    )
    # The same answers the booking flow asks (scheduling.screening.ScreeningAnswers); the planner
    # books only patients whose screening is done and clear.
    screening_done = models.BooleanField(default=False)
    screening = models.JSONField(default=dict, blank=True)
    driver_name = models.CharField(max_length=120, blank=True)
    driver_phone = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=240, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitingStatus.choices, default=WaitingStatus.WAITING
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="waiting_entries",
        help_text="The case this entry became once scheduled.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["earliest_date", "created_at", "id"]
        verbose_name_plural = "waiting list entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_date__gte=models.F("earliest_date")),
                name="waiting_window_in_order",
            ),
        ]
        indexes = [models.Index(fields=["site", "status", "earliest_date"])]

    def __str__(self) -> str:
        return f"Waiting entry {self.pk} ({self.get_priority_display()})"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.priority]
