"""SMART Backend Services for systems: the token endpoint (client credentials with a signed JWT
assertion, answered in OAuth 2.0's JSON, errors included) and the discovery document at
/fhir/R4/.well-known/smart-configuration that points to it."""

import math

from django.urls import reverse
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from limits.rates import TokenRateLimit

from .tokens import ALGORITHMS, OAuthError, token_issue

SCOPES_SUPPORTED = [
    "system/Patient.rs", "system/Practitioner.rs", "system/Location.rs", "system/Appointment.rs",
]


def token_url(request) -> str:
    return request.build_absolute_uri(reverse("fhir-token"))


def oauth_error(error: str, description: str, status: int) -> Response:
    response = Response({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _exception_handler(exc, context):
    if isinstance(exc, OAuthError):
        return oauth_error(exc.error, exc.description, exc.status)
    if isinstance(exc, exceptions.Throttled):
        response = oauth_error("slow_down", "Too many token requests from this address.", 429)
        response["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        return response
    if isinstance(exc, exceptions.MethodNotAllowed):
        return oauth_error("invalid_request", "POST the token request.", 405)
    if isinstance(exc, exceptions.APIException):
        return oauth_error("invalid_request", "Send the token request as a form "
                           "(application/x-www-form-urlencoded).", 400)
    return None


class TokenView(APIView):
    """POST grant_type=client_credentials, scope, client_assertion_type and client_assertion."""

    schema = None
    authentication_classes = []
    permission_classes = []
    parser_classes = [FormParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [TokenRateLimit]

    def get_exception_handler(self):
        return _exception_handler

    def post(self, request):
        answer = token_issue(form=request.data, audience=token_url(request))
        response = Response(answer)
        response["Cache-Control"] = "no-store"
        return response


class SmartConfigurationView(APIView):
    schema = None
    authentication_classes = []
    permission_classes = []
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response({
            "token_endpoint": token_url(request),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
            "scopes_supported": SCOPES_SUPPORTED,
            "capabilities": ["client-confidential-asymmetric"],
        })
