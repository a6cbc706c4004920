"""Freed times offered to the waiting list, and what came of each offer: for the front desk and
managers of the site (another site's code is `unknown_site`, like everywhere)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.query import query_data
from api.schema import ERRORS

from .. import selectors
from ..offer_models import Offer
from ..offers.selectors import RECENT_DAYS, offers_recent
from .waiting_list import WAITING_ROLES


class OfferSerializer(serializers.ModelSerializer):
    patient = serializers.SerializerMethodField()
    slot_start = serializers.DateTimeField(help_text="When the procedure would start.")
    case = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The case booked when the offer was taken."
    )

    class Meta:
        model = Offer
        fields = [
            "id", "status", "patient", "entry", "slot_start", "arrival_at", "wave", "sent_at",
            "expires_at", "responded_at", "case", "outcome",
        ]

    def get_patient(self, offer) -> dict:
        # As the waiting list shows the patient.
        patient = offer.patient
        return {"id": patient.pk, "name": f"{patient.first_name} {patient.last_name}",
                "mrn": patient.mrn}


class OfferQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50)


class OfferListView(APIView):
    read_roles = WAITING_ROLES
    write_roles = WAITING_ROLES

    @extend_schema(
        parameters=[OfferQuery],
        responses={200: OfferSerializer(many=True), **ERRORS},
        description=f"The site's offers of freed times over the last {RECENT_DAYS} days, "
        "newest first. Status: offered, accepted, declined, expired or taken.",
    )
    def get(self, request: Request) -> Response:
        query = OfferQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        site = selectors.site_get(query.validated_data["site"], request.user)
        with timezone.override(site.zone):  # times in the site's zone, with their offset
            return Response(OfferSerializer(offers_recent(site=site), many=True).data)
