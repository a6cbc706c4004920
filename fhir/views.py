"""The interface's addresses: the CapabilityStatement, a read of one resource and a search of a
type. Each reads through fhir.types (and so the one visibility rule), records each patient's
record it shows as an access, and answers in application/fhir+json."""

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

from . import outcome
from .auth import token_url
from .authentication import BearerAuthentication
from .bundle import search_bundle
from .capability import capability_statement
from .permissions import FhirReader
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
