"""Shapes of the API. Input serializers check types and sizes; the services decide the rest.

Times are written in the site's time zone (the views activate it), always with their offset.
"""

import re
from datetime import datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.json_input import JsonInput

from ..flags import case_flags
from ..horizon import day_parse
from ..models import Case, CaseMedication, Channel, ProcedureType, Site, Stage, StageTemplate

MAX_ID = 2**63 - 1
# What an ISO 8601 date and time is written with. Django's parser alone also takes any whitespace
# before the offset, a final line feed and any script's digits.
DATETIME_CHARACTERS = re.compile(r"[0-9T:.,+\-Z ]+")


class IsoDateField(serializers.DateField):
    """A date written YYYY-MM-DD and nothing else (horizon.day_parse). DRF alone also reads
    2026-3-3, any script's digits and a date followed by a line feed."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            day = day_parse(value)
            if day is None:
                self.fail("invalid", format="YYYY-MM-DD")
            return day
        return super().to_internal_value(value)


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its UTC offset: a bare 09:00 is ambiguous across time zones."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            if not DATETIME_CHARACTERS.fullmatch(value):
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss][+HH:MM|-HH:MM|Z]")
            try:
                parsed = parse_datetime(value.strip()) if len(value) < 64 else None
            except ValueError:  # well formed but impossible (10:61, 30 February): DRF says so
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError(
                    "Give the start with its UTC offset, e.g. 2026-03-02T09:00-05:00.",
                    code="start_needs_offset",
                )
        return super().to_internal_value(value)


# Output


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
        "example": "07:00:00",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day on the site's wall clock, without an offset (HH:MM:SS): OpenAPI's `time`
    format is RFC 3339's, which requires one, so it would misdescribe these values."""


class OpeningHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 is Monday.")
    opens = WallClockTimeField(help_text="Opening time at the site, e.g. 07:00:00.")
    closes = WallClockTimeField(help_text="Closing time at the site, e.g. 18:00:00.")


class SiteSerializer(serializers.ModelSerializer):
    opening_hours = OpeningHoursSerializer(many=True)

    class Meta:
        model = Site
        fields = ["code", "name", "time_zone", "address", "directions", "phone", "opening_hours"]


class StageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageTemplate
        fields = [
            "kind",
            "resource_kind",
            "base_minutes",
            "minutes_per_extra_level",
            "needs_surgeon",
            "turnover_minutes",
        ]


class ProcedureTypeSerializer(serializers.ModelSerializer):
    stage_templates = StageTemplateSerializer(many=True)

    class Meta:
        model = ProcedureType
        fields = ["code", "name", "max_levels", "stage_templates"]


class SlotStageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    resource = serializers.CharField()
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Procedure start.")
    arrival_at = serializers.DateTimeField()
    surgeon = serializers.CharField(allow_null=True)
    stages = SlotStageSerializer(many=True)


class AvailabilitySerializer(serializers.Serializer):
    site = serializers.CharField()
    date = serializers.DateField()
    slots = SlotSerializer(many=True)


def slot_data(slot, zone) -> dict:
    """One slot as AvailabilitySerializer describes it, built directly: a day can offer a
    hundred slots, and this is several times faster than serializing each field."""

    def local(instant):
        return instant.astimezone(zone).isoformat()

    return {
        "start": local(slot.times.procedure_start),
        "arrival_at": local(slot.times.arrival_at),
        "surgeon": slot.surgeon.code if slot.surgeon else None,
        "stages": [
            {
                "kind": stage.kind,
                "resource": resource.name,
                "planned_start": local(stage.start),
                "planned_end": local(stage.end),
            }
            for stage, resource in zip(slot.times.stages, slot.resources, strict=False)
        ],
    }


class StageSerializer(serializers.ModelSerializer):
    resource = serializers.CharField(source="resource.name")
    resource_kind = serializers.CharField(source="resource.kind")

    class Meta:
        model = Stage
        fields = [
            "kind",
            "resource",
            "resource_kind",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
        ]


class PatientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    mrn = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    preferred_channel = serializers.CharField()
    language = serializers.CharField()
    allergies = serializers.SerializerMethodField(
        help_text="contrast, latex: true when the patient is allergic; other: free text."
    )

    def get_allergies(self, patient) -> dict:
        return {
            "contrast": patient.allergy_contrast,
            "latex": patient.allergy_latex,
            "other": patient.allergy_other,
        }


class HeldMedicationSerializer(serializers.ModelSerializer):
    drug = serializers.CharField(source="drug.code")
    name = serializers.CharField(source="drug.name")
    inr_check = serializers.BooleanField(source="drug.inr_check")

    class Meta:
        model = CaseMedication
        fields = ["drug", "name", "hold_starts_on", "inr_check"]


class ScreeningSerializer(JsonInput):
    active_infection = serializers.BooleanField()
    fracture_painful = serializers.BooleanField()
    bleeding_disorder = serializers.BooleanField()
    tumor_in_canal = serializers.BooleanField()
    cement_allergy = serializers.BooleanField()
    traumatic = serializers.BooleanField()
    conservative_treatment_weeks = serializers.IntegerField(min_value=0, max_value=5200)
    imaging_on_file = serializers.BooleanField()


class CaseEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    stage = serializers.CharField(source="stage_kind", allow_blank=True)
    at = serializers.DateTimeField()
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    exception = serializers.CharField(
        allow_blank=True,
        help_text="The rule the step was taken against: preop_incomplete, stage_too_early or "
        "discharge_criteria_not_met; empty for an ordinary step.",
    )
    unmet = serializers.ListField(child=serializers.CharField(), help_text="What it named.")
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why: an exception's reason, or the patient's own reason for cancelling.",
    )
    undone_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField(
        allow_blank=True,
        help_text="Who took a step that no member of staff took (`by` is then null): "
        "patient_link (the patient, on their page) or patient_sms (the patient, by text); "
        "empty for a step of staff.",
    )


class CaseSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    procedure_type = serializers.CharField(source="procedure_type.code")
    surgeon = serializers.CharField(source="surgeon.code", allow_null=True)
    patient = PatientSerializer()
    stages = StageSerializer(many=True)
    fasting = serializers.SerializerMethodField()
    driver = serializers.SerializerMethodField()
    screening = ScreeningSerializer(source="*")
    screening_override = serializers.SerializerMethodField()
    medications = HeldMedicationSerializer(source="held_medications", many=True)
    date = serializers.DateField(source="day")
    history = CaseEventSerializer(
        source="events",
        many=True,
        help_text="The case's steps in order, with who and when: the day's steps (an exception, "
        "a step taken against a rule, carries its reason), and the patient's own confirm, "
        "cancel (with their reason) and move (action confirm, cancel, move; `source` says how).",
    )
    flags = serializers.SerializerMethodField(
        help_text="In this order: needs_review (awaiting a clinician's review: not coming "
        "until approved), on_closed_day (a closure covers the day, a room or bay of "
        "the case, or its surgeon: move it), not_confirmed, driver_missing, inr_check, "
        "screening_overridden, not_reached (a message failed), not_reachable (no phone or "
        "email), contrast_allergy, latex_allergy."
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "status",
            "site",
            "procedure_type",
            "levels",
            "surgeon",
            "date",
            "arrival_at",
            "procedure_start",
            "stages",
            "fasting",
            "patient",
            "driver",
            "screening",
            "screening_override",
            "medications",
            "takes_no_medicines",
            "other_medicines",
            "flags",
            "cancel_reason",
            "review_hold_until",
            "unit_will_call",
            "history",
            "created_at",
        ]

    def get_flags(self, case) -> list[str]:
        return case_flags(
            status=case.status,
            driver_name=case.driver_name,
            driver_phone=case.driver_phone,
            inr_check=any(held.drug.inr_check for held in case.held_medications.all()),
            screening_override_reason=case.screening_override_reason,
            not_reached=getattr(case, "not_reached", False),
            patient_phone=case.patient.phone,
            patient_email=case.patient.email,
            allergy_contrast=case.patient.allergy_contrast,
            allergy_latex=case.patient.allergy_latex,
            on_closed_day=getattr(case, "on_closed_day", False),
        )

    def get_fasting(self, case) -> dict[str, datetime]:
        field = serializers.DateTimeField()
        return {
            "solids_until": field.to_representation(case.fasting_solids_until),
            "clear_liquids_until": field.to_representation(case.fasting_clear_liquids_until),
        }

    def get_driver(self, case) -> dict[str, str]:
        return {"name": case.driver_name, "phone": case.driver_phone}

    def get_screening_override(self, case) -> dict | None:
        if not case.screening_override_reason:
            return None
        by = case.screening_overridden_by
        return {
            "reason": case.screening_override_reason,
            "by": by.get_username() if by else None,
            "at": serializers.DateTimeField().to_representation(case.screening_overridden_at),
        }


# Input


class PatientInput(JsonInput):
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    date_of_birth = IsoDateField()
    mrn = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    language = serializers.CharField(max_length=8, default="en")


class DriverInput(JsonInput):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class CaseCreateInput(JsonInput):
    site = serializers.CharField(max_length=50)
    procedure_type = serializers.CharField(max_length=50)
    levels = serializers.IntegerField(min_value=-MAX_ID, max_value=MAX_ID)
    date = IsoDateField(required=False)
    start = AwareDateTimeField(required=False, help_text="Procedure start, with UTC offset.")
    patient = PatientInput(required=False)
    patient_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    driver = DriverInput(required=False)
    screening = ScreeningSerializer()
    medications = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )
    takes_no_medicines = serializers.BooleanField(
        required=False, default=False,
        help_text="The patient takes none of the medicines in the hold table (then give no "
        "`medications`).",
    )
    other_medicines = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True,
        help_text="Other medicines the patient takes, as told.",
    )
    surgeon = serializers.CharField(max_length=50, required=False, allow_null=True)
    override_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, trim_whitespace=False
    )
    request_review = serializers.BooleanField(
        required=False, default=False,
        help_text="When a screening answer blocks the booking: save it as `needs_review` for a "
        "clinician (it holds its rooms for the site's review hours; the patient is told nothing "
        "until approved) instead of answering `contraindicated`.",
    )
    unit_will_call = serializers.BooleanField(
        required=False, default=False,
        help_text="The patient has no phone (SMS) or email (email) for their messages and the "
        "unit will call them; without it such a booking answers `unit_will_call_required`.",
    )

    def validate(self, attrs):
        if ("patient" in attrs) == ("patient_id" in attrs):
            raise serializers.ValidationError(
                {"patient": ["Give either a new patient or a patient_id, not both."]}
            )
        if "date" not in attrs and "start" not in attrs:
            raise serializers.ValidationError({"date": ["Give a date or a start."]})
        return attrs


class RescheduleInput(JsonInput):
    start = AwareDateTimeField(required=False, help_text="New procedure start, with UTC offset.")
    date = IsoDateField(required=False, help_text="New date; earliest free slot.")


class CancelInput(JsonInput):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class ReviewInput(JsonInput):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class AvailabilityQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50)
    procedure_type = serializers.CharField(max_length=50)
    date = IsoDateField()
    levels = serializers.IntegerField(min_value=-MAX_ID, max_value=MAX_ID, default=1)
    surgeon = serializers.CharField(max_length=50, required=False)


class CaseListQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50)
    date = IsoDateField(required=False)

