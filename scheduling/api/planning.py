"""Plan the day through the API (managers only): propose, then apply the proposal's token."""

from datetime import date

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
from ..plan.loader import instant
from ..plan.proposal import Proposal, plan_apply, plan_propose
from ..plan.whatif import WHAT_IFS

PLAN_ROLES = (roles.ADMIN,)


class ProposeInput(JsonInput):
    waiting_list = serializers.BooleanField(default=True)
    allow_move_told = serializers.BooleanField(default=False)
    # Well inside gunicorn's 30-second request timeout (deploy/gunicorn.conf.py).
    time_limit = serializers.FloatField(default=10.0, min_value=0.1, max_value=20.0)
    what_if = serializers.ChoiceField(sorted(WHAT_IFS), required=False)


class ApplyInput(JsonInput):
    token = serializers.CharField(max_length=20000)


class RowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="case:<id> for a booked case, entry:<id> for the waiting list."
    )
    kind = serializers.CharField()
    fixed = serializers.BooleanField()
    current_start = serializers.DateTimeField(allow_null=True)
    current_room = serializers.CharField()
    proposed_start = serializers.DateTimeField(allow_null=True)
    proposed_room = serializers.CharField()
    moved = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why the case could not be placed, if it was not.")


class ProposalSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="optimal, feasible (time limit reached), greedy or closed."
    )
    message = serializers.CharField()
    token = serializers.CharField(help_text="Send to .../plan/apply/ to book this proposal.")
    placed = serializers.IntegerField()
    moves = serializers.IntegerField()
    end_of_day = serializers.DateTimeField(allow_null=True)
    solve_seconds = serializers.FloatField()
    rows = RowSerializer(many=True)
    what_if = serializers.DictField(allow_null=True)


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


def _at(minutes):
    return instant(minutes) if minutes is not None else None


def proposal_data(proposal: Proposal) -> dict:
    plan = proposal.plan
    what_if = proposal.what_if
    return {
        "status": plan.status,
        "message": plan.message,
        "token": proposal.token,
        "placed": plan.placed,
        "moves": plan.moves,
        "end_of_day": _at(plan.end_of_day),
        "solve_seconds": round(plan.solve_seconds, 3),
        "rows": [
            {name: getattr(row, name) for name in RowSerializer().fields} for row in proposal.rows
        ],
        "what_if": what_if and {
            "name": what_if.name, "title": what_if.title, "more_cases": what_if.more_cases,
            "end_of_day": _at(what_if.end_of_day), "note": what_if.note,
        },
    }


class PlanProposeView(APIView):
    read_roles = PLAN_ROLES
    write_roles = PLAN_ROLES
    throttle_classes = [PlanRateLimit]

    @extend_schema(
        request=ProposeInput,
        responses={200: ProposalSerializer, **ERRORS, **THROTTLED},
        description="Propose the best plan of the day (nothing is written).",
    )
    def post(self, request: Request, code: str, day: str) -> Response:
        site = selectors.site_get(code, request.user)
        form = ProposeInput(data=request.data)
        form.is_valid(raise_exception=True)
        proposal = plan_propose(site=site, day=_day(day), **form.validated_data)
        data = proposal_data(proposal)
        with timezone.override(site.zone):
            return Response(ProposalSerializer(data).data)


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
