"""The interface's addresses: the CapabilityStatement, a read of one resource and a search of a
type, and the create of a type that may be created (a ServiceRequest). Each reads through
fhir.types (and so the one visibility rule), records each patient's record it shows as an
access, and answers in application/fhir+json."""

from django.utils import timezone
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import TokenAuthentication
from api.errors import ApiError
from api.json_input import JSONParser
from audit.access import access_record
from scheduling import roles, services

from . import operations as ops
from . import outcome, params, resources, selectors
from .auth import token_url
from .authentication import BearerAuthentication
from .bundle import search_bundle
from .capability import capability_statement
from .operation_definitions import operation_definitions
from .permissions import FhirReader, scope_check
from .types import TYPES, FhirType

SOFTWARE_VERSION = "1"


class FhirRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "json"
    charset = "utf-8"


class FhirJsonParser(JSONParser):
    """A resource sent in FHIR JSON (or plain JSON: FhirOnly reads every body as JSON)."""

    media_type = "application/fhir+json"


class FhirOnly(BaseContentNegotiation):
    """Every answer is FHIR JSON, whatever the client's Accept says (`_format` included)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FhirView(APIView):
    schema = None  # described by its CapabilityStatement, not the REST API's OpenAPI schema
    renderer_classes = [FhirRenderer]
    parser_classes = [FhirJsonParser]
    content_negotiation_class = FhirOnly
    metadata_class = None  # OPTIONS answers 405 like any other method the interface lacks
    # Staff with their API token (the first, so a request with none is asked for it as before),
    # or a system client with the bearer token of the token endpoint (fhir/auth.py).
    authentication_classes = [TokenAuthentication, BearerAuthentication, SessionAuthentication]
    permission_classes = [FhirReader]

    def get_exception_handler(self):
        return outcome.exception_handler

    def base(self) -> str:
        return self.request.build_absolute_uri("/fhir/R4/")


def _record(request, fhir_type: FhirType, rows) -> None:
    if fhir_type.access is None:
        return
    for row in rows:
        what, patient_id, case_id, site_id = fhir_type.access(row)
        access_record(
            user=request.user, what=what, patient_id=patient_id, case_id=case_id,
            site_id=site_id, request=request,
        )


class MetadataView(FhirView):
    """What the interface serves; no patient's data, so no login needed (FHIR clients read it
    first)."""

    permission_classes = []

    def get(self, request):
        statement = capability_statement(
            base=self.base(), date=timezone.now().date().isoformat(), version=SOFTWARE_VERSION,
            token_url=token_url(request),
        )
        return Response(statement)


class OperationDefinitionView(FhirView):
    """The scheduling operations' definitions; like the CapabilityStatement, open to all."""

    permission_classes = []

    def get(self, request, id: str):
        definition = operation_definitions(base=self.base()).get(id)
        if definition is None:
            raise ApiError("not_found", "No OperationDefinition has this id.")
        return Response(definition)


class ReadView(FhirView):
    fhir_type: FhirType = None

    def fhir_type_asked(self) -> FhirType:
        return self.fhir_type

    def scope_needed(self) -> tuple[str, str]:
        return self.fhir_type.name, "read"

    def get(self, request, id: str):
        row = self.fhir_type.by_id(self.fhir_type.rows(request.user), id)
        if row is None:
            raise ApiError("not_found", f"No {self.fhir_type.name} has this id.")
        resource = self.fhir_type.render(row)
        _record(request, self.fhir_type, [row])
        response = Response(resource)
        if version := resource.get("meta", {}).get("versionId"):
            response["ETag"] = f'W/"{version}"'
        return response


class SearchView(FhirView):
    """A type's address: its search, and for a type that may be created, its create."""

    def fhir_type_asked(self) -> FhirType | None:
        return TYPES.get(self.kwargs.get("resource_type"))

    def scope_needed(self) -> tuple[str | None, str]:
        name = self.kwargs.get("resource_type")
        interaction = "search" if self.request.method == "GET" else "create"
        return (name if name in TYPES else None), interaction

    def _served(self, resource_type: str) -> FhirType:
        fhir_type = TYPES.get(resource_type)
        if fhir_type is None:
            raise ApiError(
                "fhir_unknown_resource_type",
                f"Served here: {', '.join(TYPES)} (see /fhir/R4/metadata).",
            )
        return fhir_type

    def post(self, request, resource_type: str):
        fhir_type = self._served(resource_type)
        if fhir_type.create is None:
            raise MethodNotAllowed("POST")
        row = fhir_type.create(body=request.data, user=request.user)
        resource = fhir_type.render(row)
        _record(request, fhir_type, [row])
        response = Response(resource, status=201)
        response["Location"] = f"{self.base()}{fhir_type.name}/{resource['id']}"
        return response

    def get(self, request, resource_type: str):
        fhir_type = self._served(resource_type)
        bundle, rows = search_bundle(request, fhir_type, base=self.base())
        _record(request, fhir_type, rows)
        return Response(bundle)


# The IHE ITI Scheduling operations (fhir/operations.py)

class FindView(FhirView):
    """Appointment/$find: the free times for a case, as proposed Appointments, by GET or by POST
    with a Parameters body."""

    write_roles = roles.READ_CASES  # a POST here only reads

    def scope_needed(self) -> tuple[str, str]:
        return "Appointment", "search"

    def get(self, request):
        return self._find(request, dict(request.query_params.items()))

    def post(self, request):
        return self._find(request, ops.parameters_as_query(ops.parameters_read(request.data)))

    def _find(self, request, query: dict[str, str]):
        found = ops.find_inputs(query, request.user)
        patient = found.pop("patient")
        proposals = ops.proposals_find(**found)
        entries = [
            {"fullUrl": f"{self.base()}Appointment/{proposal.id}",
             "resource": resources.proposed_appointment_resource(
                 id=proposal.id, procedure_type=proposal.procedure_type, levels=proposal.levels,
                 surgeon_id=proposal.surgeon.pk if proposal.surgeon else None,
                 patient_id=patient.pk if patient else None, slot=slot),
             "search": {"mode": "match"}}
            for proposal, slot in proposals
        ]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries)}
        if entries:
            bundle["entry"] = entries
        return Response(bundle)


class HoldView(FhirView):
    """Appointment/$hold: keep one of $find's times for a few minutes (`hold-expires`)."""

    write_roles = roles.BOOK_CASES

    def scope_needed(self) -> tuple[str, str]:
        return "Appointment", "create"

    def post(self, request):
        named = ops.parameters_read(request.data)
        appointment = ops.appointment_of(named)
        named_time = ops.time_named(named, appointment)
        if named_time is None:
            raise ops.bad_resource("Parameters.parameter[appointment-reference]",
                                   "name the time to hold (an id from Appointment/$find).")
        proposal = ops.proposal_read(named_time, request.user,
                                     "Parameters.parameter[appointment-reference]")
        hold = ops.hold_make(proposal, by=request.user)
        return Response(resources.held_appointment_resource(hold))


class BookView(FhirView):
    """Appointment/$book: book a case into a held or proposed time; or, for an Appointment that
    is a case already, move it to one (`booked`) or cancel it (`cancelled`), with If-Match."""

    write_roles = roles.BOOK_CASES

    def scope_needed(self) -> tuple[str, None]:
        return "Appointment", None  # create to book, update to move or cancel: checked below

    def post(self, request):
        named = ops.parameters_read(request.data)
        appointment = ops.appointment_of(named)
        if appointment is None:
            raise ops.bad_resource("Parameters.parameter[appointment-resource]",
                                   "send the Appointment to book, move or cancel.")
        case_id = params.number_id(str(appointment.get("id", "")))
        if case_id is not None:
            return self._change(request, named, appointment, case_id)
        scope_check(request, "Appointment", "create")
        named_time = ops.time_named(named, appointment)
        if named_time is None:
            raise ops.bad_resource("Appointment.id", "name the held or proposed time to book.")
        hold, proposal = self._time(request, named_time)
        case = ops.case_book_into(hold=hold, proposal=proposal, appointment=appointment,
                                  user=request.user)
        response = self._answer(request, case.pk, status=201)
        response["Location"] = f"{self.base()}Appointment/{case.pk}"
        return response

    def _time(self, request, text: str):
        path = "Parameters.parameter[appointment-reference]"
        if text.startswith("hold-"):
            return ops.hold_get(text, request.user, path), None
        return None, ops.proposal_read(text, request.user, path)

    def _change(self, request, named, appointment: dict, case_id: int):
        scope_check(request, "Appointment", "update")
        case = selectors.fhir_cases(user=request.user).filter(pk=case_id).first()
        if case is None:
            raise ApiError("not_found", "No Appointment has this id.")
        expected = if_match(request)
        try:
            if appointment.get("status") == "cancelled":
                services.case_cancel(case=case, reason=ops.cancel_reason(appointment),
                                     by=request.user, expected_version=expected)
            else:
                named_time = ops.time_named(named, None)
                if named_time is None:
                    raise ops.bad_resource(
                        "Parameters.parameter[appointment-reference]",
                        "name the new time (from $find or $hold), or send status cancelled.")
                hold, proposal = self._time(request, named_time)
                ops.case_move_into(case=case, hold=hold, proposal=proposal, user=request.user,
                                   expected_version=expected)
        except ApiError as error:
            if error.code == "case_changed":
                raise ApiError("fhir_stale_version", error.detail) from None
            raise
        return self._answer(request, case.pk, status=200)

    def _answer(self, request, case_id: int, *, status: int) -> Response:
        case = selectors.fhir_cases(user=request.user).get(pk=case_id)
        resource = resources.appointment_resource(case)
        response = Response(resource, status=status)
        response["ETag"] = f'W/"{resource["meta"]["versionId"]}"'
        return response


def if_match(request) -> str | None:
    """The version If-Match names (`W/"<version>"` as ETag gives it, or bare)."""
    text = request.headers.get("If-Match", "").strip()
    if not text:
        return None
    return text.removeprefix("W/").strip('"')
