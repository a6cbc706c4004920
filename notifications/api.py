"""Staff API for messages: what each case was sent, resend, and the front desk's call lists."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.query import query_data
from api.schema import CONFLICT, ERRORS, NOT_FOUND
from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.selectors import MAX_ID, case_get, site_get, visible_sites
from scheduling.services.calls import unit_called

from . import services
from .models import InboundMessage, Reminder
from .selectors import (
    cases_unit_will_call,
    inbound_needs_call,
    inbound_visible,
    reminders_not_reached,
)


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id", "kind", "audience", "channel", "recipient", "due_at", "send_by", "status",
            "attempts", "sent_at", "delivered_at", "failed_at", "error", "late", "plan_version",
            "resend_of", "handled_at",
        ]


class NotReachedSerializer(ReminderSerializer):
    case = serializers.IntegerField(source="case_id")
    patient = serializers.SerializerMethodField()

    class Meta(ReminderSerializer.Meta):
        fields = ["case", "patient", *ReminderSerializer.Meta.fields]

    def get_patient(self, reminder) -> str:
        patient = reminder.case.patient
        return f"{patient.last_name}, {patient.first_name}"


class InboundSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = ["id", "from_phone", "body", "kind", "case", "received_at", "handled_at"]


def _reminder_or_404(pk: int, user) -> Reminder:
    mine = Reminder.objects.filter(case__site__in=visible_sites(user))
    reminder = mine.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if reminder is None:
        raise SchedulingError("not_found", "No such message.")
    return reminder


class CaseMessagesView(APIView):
    @extend_schema(responses={200: ReminderSerializer(many=True), **ERRORS, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        case = case_get(pk, request.user)
        if case is None:
            raise SchedulingError("not_found", "No such case.")
        with timezone.override(case.site.zone):
            return Response(ReminderSerializer(case.reminders.all(), many=True).data)


class ResendView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(request=None, responses={201: ReminderSerializer, **ERRORS, **NOT_FOUND,
                                            **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        reminder = _reminder_or_404(pk, request.user)
        copy = services.reminder_resend(reminder=reminder, by=request.user)
        return Response(ReminderSerializer(copy).data, status=201)


class NotReachedQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50, help_text="The site's code.")


class NotReachedView(APIView):
    @extend_schema(parameters=[NotReachedQuery],
                   responses={200: NotReachedSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        """Failed, late or uncertain messages of cases still to come: the front desk calls."""
        query = NotReachedQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        site = site_get(query.validated_data["site"], request.user)
        rows = reminders_not_reached(site=site, now=timezone.now())
        with timezone.override(site.zone):
            return Response(NotReachedSerializer(rows, many=True).data)


class NeedsCallView(APIView):
    @extend_schema(responses={200: InboundSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        """Texts from patients that the system could not act on, oldest first."""
        rows = inbound_needs_call(user=request.user)
        return Response(InboundSerializer(rows, many=True).data)


class NeedsCallHandledView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(request=None, responses={200: InboundSerializer, **ERRORS, **NOT_FOUND})
    def post(self, request: Request, pk: int) -> Response:
        mine = inbound_visible(request.user)
        message = mine.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
        if message is None:
            raise SchedulingError("not_found", "No such message.")
        services.inbound_handled(message)
        return Response(InboundSerializer(message).data)


class NotReachedHandledView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(request=None, responses={200: ReminderSerializer, **ERRORS, **NOT_FOUND})
    def post(self, request: Request, pk: int) -> Response:
        """The front desk dealt with a message that did not reach its recipient: it leaves the
        not-reached list."""
        reminder = _reminder_or_404(pk, request.user)
        services.reminder_handled(reminder=reminder, by=request.user)
        return Response(ReminderSerializer(reminder).data)


class UnitWillCallSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="pk")
    site = serializers.CharField(source="site.code")
    patient = serializers.SerializerMethodField()
    date = serializers.DateField(source="day")
    arrival_at = serializers.DateTimeField()

    def get_patient(self, case) -> str:
        return f"{case.patient.last_name}, {case.patient.first_name}"


class UnitWillCallView(APIView):
    @extend_schema(responses={200: UnitWillCallSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        """Patients nothing can reach, booked with "the unit will call", whose case is today or
        tomorrow and who have not been called yet."""
        rows = cases_unit_will_call(user=request.user, now=timezone.now())
        return Response(UnitWillCallSerializer(rows, many=True).data)


class UnitCalledView(APIView):
    write_roles = roles.BOOK_CASES

    @extend_schema(request=None, responses={200: UnitWillCallSerializer, **ERRORS, **NOT_FOUND,
                                            **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        """The unit called the patient: the case leaves the call list."""
        case = case_get(pk, request.user)
        if case is None:
            raise SchedulingError("not_found", "No such case.")
        case = unit_called(case=case, by=request.user)
        return Response(UnitWillCallSerializer(case).data)
