"""The day of a case through the API: check-in, stages started and finished, discharge, undo.

Each answers with the case as GET /api/v1/cases/{id}/ shows it, read again after the step.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import CONFLICT, ERRORS, ErrorSerializer

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import StageKind
from ..services import tracking
from . import serializers as s
from .views import _case_or_404, _case_response

NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer, description="No such case (`not_found`) or stage (`unknown_stage`)."
    )
}
RESPONSES = {200: s.CaseSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}
KIND = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=StageKind.values, description="The stage."
)


def _answer(request: Request, pk: int) -> Response:
    return _case_response(selectors.case_get(pk, request.user))


def _kind(kind: str) -> str:
    if kind not in StageKind.values:
        raise SchedulingError(
            "unknown_stage",
            f"No stage is called “{kind[:40]}”; use one of {', '.join(StageKind.values)}.",
            field="kind",
        )
    return kind


class CaseCheckInView(APIView):
    write_roles = roles.CHECK_IN

    @extend_schema(
        request=None,
        responses=RESPONSES,
        description="The patient has arrived: a booked or confirmed case, on its day, is "
        "checked in.",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        tracking.case_check_in(case=case, by=request.user)
        return _answer(request, pk)


class StageStartView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=None,
        parameters=[KIND],
        responses=RESPONSES,
        description="Start a stage now. Stages go in order: pre-op after check-in, each next "
        "one after the one before has finished.",
    )
    def post(self, request: Request, pk: int, kind: str) -> Response:
        case = _case_or_404(pk, request.user)
        tracking.stage_start(case=case, kind=_kind(kind), by=request.user)
        return _answer(request, pk)


class StageFinishView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=None,
        parameters=[KIND],
        responses=RESPONSES,
        description="Finish a started stage now.",
    )
    def post(self, request: Request, pk: int, kind: str) -> Response:
        case = _case_or_404(pk, request.user)
        tracking.stage_finish(case=case, kind=_kind(kind), by=request.user)
        return _answer(request, pk)


class CaseDischargeView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=None,
        responses=RESPONSES,
        description="Discharge the patient to their driver once the last stage has finished.",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        tracking.case_discharge(case=case, by=request.user)
        return _answer(request, pk)


class CaseUndoView(APIView):
    write_roles = roles.CHECK_IN

    @extend_schema(
        request=None,
        responses=RESPONSES,
        description="Undo the case's last step (check-in, a stage started or finished, "
        "discharge) if it was taken less than two minutes ago. The front desk may undo only a "
        "check-in.",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        tracking.case_undo(case=case, by=request.user)
        return _answer(request, pk)
