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
from .bedside import EarlyInput, OverrideInput, reason_of
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
        request=OverrideInput,
        parameters=[KIND],
        responses=RESPONSES,
        description="Start a stage now. Stages go in order: pre-op after check-in, each next "
        "one after the one before has finished. The procedure starts once the pre-op checklist "
        "is complete (else `preop_incomplete`, the missing items in `errors`), or with a "
        "clinician's `override_reason`.",
    )
    def post(self, request: Request, pk: int, kind: str) -> Response:
        case = _case_or_404(pk, request.user)
        reason = reason_of(request, OverrideInput)
        tracking.stage_start(case=case, kind=_kind(kind), by=request.user, override_reason=reason)
        return _answer(request, pk)


class StageFinishView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=EarlyInput,
        parameters=[KIND],
        responses=RESPONSES,
        description="Finish a started stage now. A stage with a minimum (the cement set's hour) "
        "finished sooner needs `early_reason` (else `stage_too_early`).",
    )
    def post(self, request: Request, pk: int, kind: str) -> Response:
        case = _case_or_404(pk, request.user)
        reason = reason_of(request, EarlyInput)
        tracking.stage_finish(case=case, kind=_kind(kind), by=request.user, early_reason=reason)
        return _answer(request, pk)


class CaseDischargeView(APIView):
    write_roles = roles.TRACK_STAGES

    @extend_schema(
        request=OverrideInput,
        responses=RESPONSES,
        description="Discharge the patient to their driver once recovery has started (a running "
        "recovery is finished) and they meet the discharge criteria: the site's minimum "
        "recovery, the latest Aldrete score at or above the site's minimum, recovery vitals, a "
        "driver named and present. Else `discharge_criteria_not_met`, each unmet criterion in "
        "`errors`; a clinician may discharge anyway with `override_reason` (a nurse's is refused "
        "with `permission_denied`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        reason = reason_of(request, OverrideInput)
        tracking.case_discharge(case=case, by=request.user, override_reason=reason)
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
