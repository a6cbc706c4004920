"""The API's login: a username and password exchanged for a token (`Authorization: Token <key>`).

Failed attempts count towards the login lockout like the login page's (api/lockout.py)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser

from limits.rates import TokenRateLimit

from .json_input import JsonInput, JSONParser
from .schema import ERRORS, ErrorSerializer


class TokenInput(JsonInput, AuthTokenSerializer):
    """A login's sizes are checked before the credentials are: an over-long username would
    otherwise reach the failed-login record (255 characters) and fail there."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, trim_whitespace=False
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <key>`)."""

    authentication_classes = []
    permission_classes = []
    # DRF's own list for this view, with the API's JSON parser (nesting refused too).
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    throttle_classes = [TokenRateLimit]
    serializer_class = TokenInput

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenSerializer,
            400: ERRORS[400],
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many requests from this address, or too many failed logins "
                "for this username from it (`throttled`); see the Retry-After header.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
