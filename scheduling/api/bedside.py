"""The nurses' bedside records through the API: the pre-op checklist (with the INR and the
driver's presence), vitals, and the discharge assessment; and the bodies that give a reason to
start, finish or discharge against a rule (services/tracking.py)."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.json_input import JsonInput
from api.schema import CONFLICT, ERRORS, ErrorSerializer

from .. import bedside, roles
from ..bedside import Checklist
from ..bedside_models import VitalsPhase
from ..errors import SchedulingError
from ..services import bedside as services
from ..services.tracking import REASON_MAX
from .views import _case_or_404

NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such case (`not_found`).")}


def checklist_body(checklist: Checklist, case) -> dict:
    return {
        "items": dict(checklist.done),
        "labels": {item.code: item.label for item in checklist.items},
        "complete": checklist.complete,
        "missing": checklist.missing,
        "inr": float(case.inr) if case.inr is not None else None,
        "inr_limit": float(case.site.inr_limit),
        "driver_present": case.driver_present_at is not None,
    }


CHECKLIST_ANSWER = inline_serializer(
    "Checklist",
    {
        "items": serializers.DictField(
            child=serializers.BooleanField(), help_text="Each item the case is asked, and done."
        ),
        "labels": serializers.DictField(child=serializers.CharField()),
        "complete": serializers.BooleanField(),
        "missing": serializers.ListField(child=serializers.CharField()),
        "inr": serializers.FloatField(allow_null=True),
        "inr_limit": serializers.FloatField(),
        "driver_present": serializers.BooleanField(),
    },
)
CHECKLIST_INPUT = inline_serializer(
    "ChecklistInput",
    {
        "consent_signed": serializers.BooleanField(required=False),
        "imaging_verified": serializers.BooleanField(required=False),
        "fasting_confirmed": serializers.BooleanField(required=False),
        "medications_held_confirmed": serializers.BooleanField(required=False),
        "iv_placed": serializers.BooleanField(required=False),
        "driver_confirmed": serializers.BooleanField(required=False),
        "inr": serializers.FloatField(required=False, allow_null=True),
        "driver_present": serializers.BooleanField(required=False),
    },
)


def _checklist_input(data) -> dict:
    """The body's items as booleans (any code a site adds too), `inr` as a number or null and
    `driver_present` as a boolean; anything else is refused, the field named."""
    if not isinstance(data, dict):
        raise SchedulingError("invalid", "Send a JSON object of checklist items.")
    errors, ticks, found = {}, {}, {}
    for name, value in data.items():
        if name == "inr":
            found["inr"] = _inr(value, errors)
        elif not isinstance(value, bool):
            errors[str(name)[:60]] = ["Must be true or false."]
        elif name == "driver_present":
            found["driver_present"] = value
        else:
            ticks[name] = value
    if errors:
        raise SchedulingError("invalid", "Some checklist values are not valid.", errors=errors)
    return {"ticks": ticks, **found}


def _inr(value, errors: dict) -> Decimal | None:
    if value is None:
        return None
    inr = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        inr = bedside.inr_from(str(value))
    if inr is None:
        errors["inr"] = ["An INR is a number from 0.5 to 9.9, such as 1.2, or null."]
    return inr


class CaseChecklistView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(responses={200: CHECKLIST_ANSWER, **ERRORS, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        return Response(checklist_body(services.case_checklist_get(case=case), case))

    @extend_schema(
        request=CHECKLIST_INPUT,
        responses={200: CHECKLIST_ANSWER, **ERRORS, **NOT_FOUND, **CONFLICT},
        description="Tick or untick pre-op checklist items (booleans; any item the site adds "
        "too), record the INR (`inr`, a number; null clears it) and mark the adult driver "
        "present (`driver_present`). `preop_vitals` is ticked by recording pre-op vitals.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        checklist = services.checklist_update(
            case=case, by=request.user, **_checklist_input(request.data)
        )
        case.refresh_from_db(fields=["inr", "driver_present_at"])
        return Response(checklist_body(checklist, case))


class VitalsInput(JsonInput):
    phase = serializers.ChoiceField(choices=VitalsPhase.choices)
    systolic = serializers.IntegerField(help_text="mmHg")
    diastolic = serializers.IntegerField(help_text="mmHg")
    heart_rate = serializers.IntegerField(help_text="beats a minute")
    spo2 = serializers.IntegerField(help_text="%")
    resp_rate = serializers.IntegerField(help_text="breaths a minute")


class VitalsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phase = serializers.CharField()
    systolic = serializers.IntegerField()
    diastolic = serializers.IntegerField()
    heart_rate = serializers.IntegerField()
    spo2 = serializers.IntegerField()
    resp_rate = serializers.IntegerField()
    taken_at = serializers.DateTimeField()
    by = serializers.CharField(source="by.username", allow_null=True)
    alerts = serializers.ListField(
        child=serializers.CharField(),
        help_text="Readings outside the site's alert limits, e.g. spo2_low.",
    )


class CaseVitalsView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=VitalsInput,
        responses={201: VitalsSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
        description="Record vitals. A value no patient could have is refused "
        "(`vitals_out_of_range`, the field named); abnormal values are accepted and listed in "
        "`alerts`, by the site's limits. Recovery vitals are taken once recovery has started "
        "(else `not_in_recovery`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        form = VitalsInput(data=request.data)
        form.is_valid(raise_exception=True)
        values = dict(form.validated_data)
        phase = values.pop("phase")
        vitals = services.vitals_record(case=case, phase=phase, values=values, by=request.user)
        vitals.alerts = bedside.vitals_alerts(vitals, case.site)
        return Response(VitalsSerializer(vitals).data, status=201)


def _score() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=2)


class AssessmentInput(JsonInput):
    activity = _score()
    respiration = _score()
    circulation = _score()
    consciousness = _score()
    oxygen_saturation = _score()


class AssessmentSerializer(AssessmentInput):
    id = serializers.IntegerField()
    total = serializers.IntegerField()
    meets_minimum = serializers.BooleanField(help_text="At or above the site's minimum.")
    at = serializers.DateTimeField()
    by = serializers.CharField(source="by.username", allow_null=True)


class CaseAssessmentView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=AssessmentInput,
        responses={201: AssessmentSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
        description="Record a modified Aldrete score (five items of 0-2) once recovery has "
        "started.",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        form = AssessmentInput(data=request.data)
        form.is_valid(raise_exception=True)
        assessment = services.discharge_assess(
            case=case, scores=form.validated_data, by=request.user
        )
        assessment.meets_minimum = assessment.total >= case.site.discharge_score_minimum
        return Response(AssessmentSerializer(assessment).data, status=201)


class OverrideInput(JsonInput):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX,
        default="",
        help_text="A clinician's reason to go ahead although a rule says not yet.",
    )


class EarlyInput(JsonInput):
    early_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX,
        default="",
        help_text="Why the stage is finished before its minimum (the cement set's hour).",
    )


def reason_of(request: Request, form_class: type[JsonInput]) -> str:
    """The reason in an optional JSON body ("" when there is none)."""
    form = form_class(data=request.data if request.data else {})
    form.is_valid(raise_exception=True)
    return next(iter(form.validated_data.values()), "")
