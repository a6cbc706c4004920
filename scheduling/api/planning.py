"""Plan the day through the API (managers only): ask for a plan (202 and a plan run to poll),
read it when done, then apply the proposal's token."""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.json_input import JsonInput
from api.schema import CONFLICT, ERRORS, THROTTLED
from limits.rates import PlanRateLimit

from .. import roles, selectors
from ..errors import SchedulingError
from ..horizon import day_parse
from ..models import RELEASED_STATUSES, WaitingPriority
from ..plan.backfill import backfill_suggestions
from ..plan.proposal import plan_apply
from ..plan.result import ProposalSerializer
from ..plan.runs import plan_run_get, plan_run_request, plan_run_status
from ..plan.whatif import WHAT_IFS
from ..plan_models import PlanRun, PlanRunStatus

PLAN_ROLES = (roles.ADMIN,)


class ProposeInput(JsonInput):
    waiting_list = serializers.BooleanField(default=True)
    allow_move_told = serializers.BooleanField(default=False)
    # The planner runs on a worker; a manager waits for it, so it thinks 20 s at most.
    time_limit = serializers.FloatField(default=10.0, min_value=0.1, max_value=20.0)
    what_if = serializers.ChoiceField(sorted(WHAT_IFS), required=False)


class ApplyInput(JsonInput):
    token = serializers.CharField(max_length=20000)


class AppliedSerializer(serializers.Serializer):
    applied = serializers.ListField(
        child=serializers.IntegerField(), help_text="The ids of the cases booked or moved."
    )


class SuggestionSerializer(serializers.Serializer):
    entry = serializers.IntegerField(help_text="The waiting-list entry.")
    patient = serializers.CharField()
    priority = serializers.ChoiceField(WaitingPriority.choices)
    procedure_type = serializers.CharField()
    levels = serializers.IntegerField()
    procedure_start = serializers.DateTimeField()
    arrival_at = serializers.DateTimeField()
    room = serializers.CharField()


class BackfillSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    released = serializers.BooleanField(help_text="Cancelled or a no-show: its time is free.")
    suggestions = SuggestionSerializer(many=True, help_text="Most urgent first.")


def _day(value: str) -> date:
    day = day_parse(value)
    if day is None:
        raise SchedulingError("invalid", "Give the date as YYYY-MM-DD.", field="date")
    return day


class PlanRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(PlanRunStatus.choices)
    progress = serializers.CharField(help_text="What the planner is doing, in words.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="Poll this until the status is done or failed.")
    proposal = ProposalSerializer(allow_null=True, help_text="When done: the proposal.")
    error = serializers.DictField(
        allow_null=True, help_text="When failed: the error's code and detail."
    )


def plan_run_data(run: PlanRun, request: Request) -> dict:
    status, code, detail = plan_run_status(run)
    url = reverse("api-plan-run", args=[run.site.code, run.day.isoformat(), run.pk])
    return {
        "id": run.pk,
        "status": status,
        "progress": run.progress,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "url": request.build_absolute_uri(url),
        "proposal": run.result["proposal"] if status == PlanRunStatus.DONE else None,
        "error": {"code": code, "detail": detail} if status == PlanRunStatus.FAILED else None,
    }


class PlanProposeView(APIView):
    read_roles = PLAN_ROLES
    write_roles = PLAN_ROLES
    throttle_classes = [PlanRateLimit]

    @extend_schema(
        request=ProposeInput,
        responses={202: PlanRunSerializer, **ERRORS, **THROTTLED},
        description="Ask for the best plan of the day (nothing is written to the day): a "
        "worker plans it; poll the answer's `url` until its status is done or failed.",
    )
    def post(self, request: Request, code: str, day: str) -> Response:
        site = selectors.site_get(code, request.user)
        form = ProposeInput(data=request.data)
        form.is_valid(raise_exception=True)
        run = plan_run_request(site=site, day=_day(day), by=request.user,
                               options=form.validated_data)
        data = plan_run_data(run, request)
        with timezone.override(site.zone):
            return Response(PlanRunSerializer(data).data, status=202,
                            headers={"Location": data["url"]})


class PlanRunView(APIView):
    read_roles = PLAN_ROLES

    @extend_schema(
        responses={200: PlanRunSerializer, **ERRORS},
        description="A plan asked for: its status and progress, and when done the proposal.",
    )
    def get(self, request: Request, code: str, day: str, pk: int) -> Response:
        run = plan_run_get(pk=pk, user=request.user, site_code=code, day=_day(day))
        if run is None:
            raise SchedulingError("not_found", "No such plan.")
        with timezone.override(run.site.zone):
            return Response(PlanRunSerializer(plan_run_data(run, request)).data)


class PlanApplyView(APIView):
    read_roles = PLAN_ROLES
    write_roles = PLAN_ROLES
    throttle_classes = [PlanRateLimit]

    @extend_schema(
        request=ApplyInput,
        responses={
            200: AppliedSerializer,
            **ERRORS, **CONFLICT, **THROTTLED,
        },
        description="Book a proposal in one transaction; `plan_stale` if the day changed since.",
    )
    def post(self, request: Request, code: str, day: str) -> Response:
        site = selectors.site_get(code, request.user)
        form = ApplyInput(data=request.data)
        form.is_valid(raise_exception=True)
        changed = plan_apply(site=site, day=_day(day), token=form.validated_data["token"],
                             by=request.user)
        return Response({"applied": [case.pk for case in changed]})


class CaseBackfillView(APIView):
    read_roles = (roles.FRONT_DESK, roles.ADMIN)

    @extend_schema(
        responses={200: BackfillSerializer, **ERRORS},
        description="For a cancelled or no-show case: waiting-list patients whose window "
        "includes the day and who fit the freed room time. Empty for an active case.",
    )
    def get(self, request: Request, pk: int) -> Response:
        case = selectors.case_get(pk, request.user)
        if case is None:
            raise SchedulingError("not_found", "No such case.")
        zone = case.site.zone
        return Response({
            "case": case.pk,
            "released": case.status in RELEASED_STATUSES,
            "suggestions": [
                {
                    "entry": s.entry.pk,
                    "patient": f"{s.entry.patient.first_name} {s.entry.patient.last_name}",
                    "priority": s.entry.priority,
                    "procedure_type": s.entry.procedure_type.code,
                    "levels": s.entry.levels,
                    "procedure_start": s.slot.times.procedure_start.astimezone(zone).isoformat(),
                    "arrival_at": s.slot.times.arrival_at.astimezone(zone).isoformat(),
                    "room": next(r.name for r in s.slot.resources if r.kind == "procedure_room"),
                }
                for s in backfill_suggestions(case)
            ],
        })
