"""`Authorization: Bearer <token>` for the interface: a token the token endpoint issued, not
expired, of an active client. The request is then the client's account's (request.user) with
the token's scopes (request.auth)."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import FhirAccessToken
from .tokens import token_hash

MAX_TOKEN = 128


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.encode():
            return None
        if len(words) != 2 or len(words[1]) > MAX_TOKEN:
            raise exceptions.AuthenticationFailed("Send one bearer token.")
        try:
            token = words[1].decode("ascii")
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, token: str):
        access = (
            FhirAccessToken.objects.select_related("client__user")
            .filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
            .first()
        )
        if access is None or not access.client.active or not access.client.user.is_active:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        return access.client.user, access

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="fhir"'
