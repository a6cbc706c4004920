"""The waiting list through the API: patients to be scheduled, for the front desk and managers.

Entries are scoped to the user's sites like cases: another site's entry answers 404.
"""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.json_input import JsonInput
from api.query import query_data
from api.schema import CONFLICT, ERRORS, ErrorSerializer

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import WaitingListEntry, WaitingPriority, WaitingStatus
from ..plan import waiting
from .serializers import (
    MAX_ID,
    IsoDateField,
    PatientInput,
    ScreeningSerializer,
)
from .views import patient_for

WAITING_ROLES = (roles.FRONT_DESK, roles.ADMIN)
NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer, description="No such entry (or not at one of your sites)."
    )
}


class WaitingEntrySerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    procedure_type = serializers.CharField(source="procedure_type.code")
    surgeon = serializers.CharField(source="surgeon.code", allow_null=True)
    patient = serializers.SerializerMethodField()

    class Meta:
        model = WaitingListEntry
        fields = [
            "id", "site", "patient", "procedure_type", "levels", "earliest_date",
            "latest_date", "priority", "surgeon", "screening_done", "screening",
            "driver_name", "driver_phone", "note", "status", "case", "created_at",
        ]

    def get_patient(self, entry) -> dict:
        patient = entry.patient
        return {"id": patient.pk, "name": f"{patient.first_name} {patient.last_name}",
                "mrn": patient.mrn}


class WaitingEntryChange(JsonInput):
    procedure_type = serializers.CharField(max_length=50)
    levels = serializers.IntegerField(min_value=1, max_value=10)
    earliest_date = IsoDateField()
    latest_date = IsoDateField()
    priority = serializers.ChoiceField(WaitingPriority.choices, default=WaitingPriority.ROUTINE)
    surgeon = serializers.CharField(max_length=50, required=False, allow_null=True)
    screening = ScreeningSerializer(required=False, allow_null=True)
    driver_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    driver_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    note = serializers.CharField(max_length=240, required=False, allow_blank=True)


class WaitingEntryInput(WaitingEntryChange):
    site = serializers.CharField(max_length=50)
    patient = PatientInput(required=False)
    patient_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, attrs):
        if ("patient" in attrs) == ("patient_id" in attrs):
            raise serializers.ValidationError(
                {"patient": ["Give either a new patient or a patient_id, not both."]}
            )
        return attrs


class WaitingListQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50, required=False)
    status = serializers.ChoiceField(WaitingStatus.choices, default=WaitingStatus.WAITING)


def _entries(user):
    return WaitingListEntry.objects.filter(
        site__in=selectors.visible_sites(user)
    ).select_related("site", "patient", "procedure_type", "surgeon")


def _entry_or_404(pk: int, user) -> WaitingListEntry:
    entry = _entries(user).filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if entry is None:
        raise SchedulingError("not_found", "No such waiting-list entry.")
    return entry


def _references(data: dict, site) -> dict:
    """Codes in the request turned into the rows they name (unknown ones are 400s)."""
    found = {}
    if "procedure_type" in data:
        found["procedure_type"] = selectors.procedure_type_get(data["procedure_type"])
    if "surgeon" in data:
        found["surgeon"] = selectors.surgeon_get(data["surgeon"], site) if data["surgeon"] else None
    if "screening" in data:
        found["screening"] = dict(data["screening"] or {})
    return found


class WaitingListView(APIView):
    read_roles = WAITING_ROLES
    write_roles = WAITING_ROLES

    @extend_schema(
        parameters=[WaitingListQuery],
        responses={200: WaitingEntrySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = WaitingListQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        entries = _entries(request.user).filter(status=query.validated_data["status"])
        if "site" in query.validated_data:
            site = selectors.site_get(query.validated_data["site"], request.user)
            entries = entries.filter(site=site)
        return Response(WaitingEntrySerializer(entries, many=True).data)

    @extend_schema(
        request=WaitingEntryInput, responses={201: WaitingEntrySerializer, **ERRORS, **CONFLICT}
    )
    def post(self, request: Request) -> Response:
        form = WaitingEntryInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        site = selectors.site_get(data.pop("site"), request.user)
        data.update(_references(data, site))
        # A new patient and their entry are saved together or not at all.
        with transaction.atomic():
            patient = patient_for(data, site=site, user=request.user)
            data.pop("patient", None)
            data.pop("patient_id", None)
            entry = waiting.waiting_entry_add(
                site=site, patient=patient, created_by=request.user, **data
            )
        return Response(WaitingEntrySerializer(entry).data, status=201)


class WaitingEntryView(APIView):
    read_roles = WAITING_ROLES
    write_roles = WAITING_ROLES

    @extend_schema(responses={200: WaitingEntrySerializer, **ERRORS, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(WaitingEntrySerializer(_entry_or_404(pk, request.user)).data)

    @extend_schema(
        request=WaitingEntryChange(partial=True),
        responses={200: WaitingEntrySerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def patch(self, request: Request, pk: int) -> Response:
        entry = _entry_or_404(pk, request.user)
        form = WaitingEntryChange(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        changes = dict(form.validated_data)
        changes.update(_references(changes, entry.site))
        entry = waiting.waiting_entry_update(entry=entry, changes=changes)
        return Response(WaitingEntrySerializer(_entry_or_404(entry.pk, request.user)).data)

    @extend_schema(request=None, responses={204: None, **ERRORS, **NOT_FOUND, **CONFLICT})
    def delete(self, request: Request, pk: int) -> Response:
        waiting.waiting_entry_remove(entry=_entry_or_404(pk, request.user))
        return Response(status=204)
