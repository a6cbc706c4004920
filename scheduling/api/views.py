from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.query import query_data
from api.schema import CONFLICT, ERRORS, NOT_FOUND

from .. import horizon, roles, selectors, services
from ..errors import SchedulingError
from ..models import ProcedureType
from ..screening import ScreeningAnswers
from ..services.booking import check_day, check_levels
from . import serializers as s


def _case_response(case, status=200) -> Response:
    with timezone.override(case.site.zone):
        return Response(s.CaseSerializer(case).data, status=status)


def _case_or_404(pk: int, user):
    case = selectors.case_get(pk, user)
    if case is None:
        raise SchedulingError("not_found", "No such case.")
    return case


class SiteListView(APIView):
    @extend_schema(responses={200: s.SiteSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        sites = selectors.visible_sites(request.user).prefetch_related("opening_hours")
        return Response(s.SiteSerializer(sites, many=True).data)


class ProcedureTypeListView(APIView):
    @extend_schema(responses={200: s.ProcedureTypeSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        types = ProcedureType.objects.filter(active=True).prefetch_related("stage_templates")
        return Response(s.ProcedureTypeSerializer(types, many=True).data)


class AvailabilityView(APIView):
    @extend_schema(
        parameters=[s.AvailabilityQuery],
        responses={200: s.AvailabilitySerializer, **ERRORS},
        description="Free procedure starts on the 5-minute grid; every stage has its room or bay. "
        "A day the site is closed (or every room of a kind, or the surgeon asked for is on "
        "leave: see /api/v1/sites/{code}/closures/) answers no slots.",
    )
    def get(self, request: Request) -> Response:
        query = s.AvailabilityQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        site = selectors.site_get(params["site"], request.user)
        procedure_type = selectors.procedure_type_get(params["procedure_type"], site=site)
        surgeon = selectors.surgeon_get(params["surgeon"], site) if "surgeon" in params else None
        check_levels(procedure_type, params["levels"])
        check_day(site, params["date"])
        book_slots = selectors.slots_free(
            site=site,
            procedure_type=procedure_type,
            levels=params["levels"],
            day=params["date"],
            surgeon=surgeon,
            arrival_not_before=timezone.now(),
        )
        return Response(
            {
                "site": site.code,
                "date": params["date"].isoformat(),
                "slots": [s.slot_data(slot, site.zone) for slot in book_slots],
            }
        )


class CaseListView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(
        parameters=[s.CaseListQuery], responses={200: s.CaseSerializer(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        query = s.CaseListQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        site = selectors.site_get(query.validated_data["site"], request.user)
        today = timezone.now().astimezone(site.zone).date()
        day = query.validated_data.get("date") or today
        horizon.day_shown_check(day=day, today=today)
        with timezone.override(site.zone):
            return Response(s.CaseSerializer(selectors.cases_of_day(site, day), many=True).data)

    @extend_schema(
        request=s.CaseCreateInput,
        responses={201: s.CaseSerializer, **ERRORS, **CONFLICT},
        description="Book a case at `start`, or at the earliest free start on `date`.",
    )
    def post(self, request: Request) -> Response:
        form = s.CaseCreateInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        site = selectors.site_get(data["site"], request.user)
        procedure_type = selectors.procedure_type_get(data["procedure_type"], site=site)
        surgeon = selectors.surgeon_get(data["surgeon"], site) if data.get("surgeon") else None
        medications = selectors.drugs_get(data["medications"])
        start = data.get("start")
        day = data.get("date") or start.astimezone(site.zone).date()
        driver = data.get("driver", {})

        def booked():
            # A new patient and their case are saved together or not at all.
            patient = patient_for(data, site=site, user=request.user)
            return services.case_book(
                site=site,
                procedure_type=procedure_type,
                levels=data["levels"],
                day=day,
                start=start,
                patient=patient,
                screening=ScreeningAnswers(**data["screening"]),
                surgeon=surgeon,
                medications=medications,
                takes_no_medicines=data["takes_no_medicines"],
                other_medicines=data["other_medicines"],
                driver_name=driver.get("name", ""),
                driver_phone=driver.get("phone", ""),
                override_reason=data.get("override_reason"),
                request_review=data["request_review"],
                unit_will_call=data["unit_will_call"],
                booked_by=request.user,
            )

        case = services.booking_attempts(day=day, write=booked)
        return _case_response(case, status=201)


def patient_for(data, *, site, user):
    """The patient a booking or waiting-list body names: one of the user's patients by
    `patient_id` (another site's is "unknown", as if there were none), or a new one."""
    if "patient_id" in data:
        patient = selectors.patient_get(data["patient_id"], user)
        if patient is None:
            raise SchedulingError(
                "unknown_patient", f"No patient has id {data['patient_id']}.", field="patient_id"
            )
        return patient
    return services.patient_register(site=site, by=user, **data["patient"])


class CaseDetailView(APIView):
    @extend_schema(responses={200: s.CaseSerializer, **ERRORS, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return _case_response(_case_or_404(pk, request.user))


class CaseRescheduleView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(
        request=s.RescheduleInput,
        responses={200: s.CaseSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
        description="Move the case to `start`, or to the earliest free start on `date`. "
        "If the new time cannot be had, the case keeps its old one.",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        form = s.RescheduleInput(data=request.data)
        form.is_valid(raise_exception=True)
        case = services.case_reschedule(
            case=case,
            start=form.validated_data.get("start"),
            day=form.validated_data.get("date"),
            by=request.user,
        )
        return _case_response(case)


class CaseCancelView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(
        request=s.CancelInput,
        responses={200: s.CaseSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        form = s.CancelInput(data=request.data)
        form.is_valid(raise_exception=True)
        services.case_cancel(case=case, reason=form.validated_data["reason"], by=request.user)
        return _case_response(selectors.case_get(case.pk, request.user))


class CaseNoShowView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(
        request=None, responses={200: s.CaseSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        services.case_mark_no_show(case=case, by=request.user)
        return _case_response(selectors.case_get(case.pk, request.user))



class CaseReviewView(APIView):
    """A clinician's decision on a booking awaiting review: approve (the case is booked and the
    patient's messages planned) or decline (its time is freed; the patient is sent nothing)."""

    write_roles = roles.OVERRIDE_SCREENING
    decision = "approve"

    @extend_schema(
        request=s.ReviewInput,
        responses={200: s.CaseSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case_or_404(pk, request.user)
        form = s.ReviewInput(data=request.data)
        form.is_valid(raise_exception=True)
        decide = (
            services.case_review_approve if self.decision == "approve"
            else services.case_review_decline
        )
        decide(case=case, by=request.user, reason=form.validated_data["reason"])
        return _case_response(selectors.case_get(case.pk, request.user))
