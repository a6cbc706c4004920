"""A site's closures through the API: the whole site (a public holiday, a day, a range), one
room or bay (maintenance), or a surgeon's leave. Admins and the front desk add and lift them;
every member of staff reads them. Rooms and bays are named as the availability answer names
them (their name), surgeons by their code."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.json_input import JsonInput
from api.schema import ERRORS, ErrorSerializer

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import Closure, Resource, Site
from ..services.closures import closure_check, closure_create, closure_delete
from .serializers import IsoDateField

CLOSURE_ROLES = (roles.ADMIN, roles.FRONT_DESK)
NOT_FOUND = {
    404: OpenApiResponse(ErrorSerializer, description="No such closure at this site.")
}


class ClosureInput(JsonInput):
    start_date = IsoDateField(help_text="The first day closed, YYYY-MM-DD.")
    end_date = IsoDateField(help_text="The last day closed (included), YYYY-MM-DD.")
    reason = serializers.CharField(max_length=200, help_text="e.g. “Christmas Day”.")
    resource = serializers.CharField(
        max_length=80, required=False, allow_null=True,
        help_text="Close only this room or bay (its name, as availability names it).",
    )
    surgeon = serializers.CharField(
        max_length=50, required=False, allow_null=True,
        help_text="Only this surgeon is on leave (their code, as availability names them).",
    )


class ClosureSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    resource = serializers.CharField(source="resource.name", allow_null=True)
    surgeon = serializers.CharField(source="surgeon.code", allow_null=True)
    created_by = serializers.CharField(source="created_by.username", allow_null=True)

    class Meta:
        model = Closure
        fields = [
            "id", "site", "start_date", "end_date", "reason", "resource", "surgeon",
            "created_by", "created_at",
        ]


class ClosureCreatedSerializer(ClosureSerializer):
    affected_cases = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The cases already booked on the closed days (left where they are, flagged "
        "on_closed_day for the front desk to move).",
    )

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "affected_cases"]


def _resource_get(name: str, site: Site) -> Resource:
    resource = Resource.objects.filter(site=site, name=name).first()
    if resource is None:
        raise SchedulingError(
            "unknown_resource", f"{site.name} has no room or bay named “{name}”.",
            field="resource",
        )
    return resource


class ClosureListView(APIView):
    write_roles = CLOSURE_ROLES

    @extend_schema(responses={200: ClosureSerializer(many=True), **ERRORS})
    def get(self, request: Request, code: str) -> Response:
        site = selectors.site_get(code, request.user)
        return Response(ClosureSerializer(selectors.closures_of_site(site=site), many=True).data)

    @extend_schema(
        request=ClosureInput,
        responses={201: ClosureCreatedSerializer, **ERRORS},
        description="Close the site, one room or bay (`resource`) or one surgeon's diary "
        "(`surgeon`) from `start_date` to `end_date`. Cases already booked then are not moved: "
        "they are listed in `affected_cases` and flagged `on_closed_day`.",
    )
    def post(self, request: Request, code: str) -> Response:
        site = selectors.site_get(code, request.user)
        form = ClosureInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        closure_check(
            start_date=data["start_date"], end_date=data["end_date"],
            names_resource=bool(data.get("resource")), names_surgeon=bool(data.get("surgeon")),
        )
        resource = _resource_get(data["resource"], site) if data.get("resource") else None
        surgeon = selectors.surgeon_get(data["surgeon"], site) if data.get("surgeon") else None
        closure, affected = closure_create(
            site=site, start_date=data["start_date"], end_date=data["end_date"],
            reason=data["reason"], resource=resource, surgeon=surgeon, created_by=request.user,
        )
        closure.affected_cases = [case.pk for case in affected]
        return Response(ClosureCreatedSerializer(closure).data, status=201)


class ClosureDetailView(APIView):
    write_roles = CLOSURE_ROLES

    @extend_schema(request=None, responses={204: None, **ERRORS, **NOT_FOUND})
    def delete(self, request: Request, code: str, pk: int) -> Response:
        # An address naming an object answers "not found" for a site the user does not work
        # at as for one that does not exist, like every other object's address.
        closure = selectors.closure_get(pk=pk, user=request.user, site_code=code)
        if closure is None:
            raise SchedulingError("not_found", "No such closure at this site.")
        closure_delete(closure=closure)
        return Response(status=204)
