"""The token endpoint's work (SMART Backend Services, RFC 7523): check a client's signed
assertion with joserfc against the client's registered keys, refuse a reused one, and issue an
opaque bearer token for the granted scopes. Refusals are OAuth 2.0 errors (RFC 6749, 5.2)."""

import hashlib
import json
import secrets
import time
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .models import FhirAccessToken, FhirAssertionUse, FhirClient
from .scopes import ScopeError, scopes_granted, scopes_parse

ALGORITHMS = ["RS384", "ES384"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The SMART profile: an assertion expires no more than five minutes after it is made.
ASSERTION_LIFETIME = 300
TOKEN_LIFETIME = timedelta(minutes=5)
MAX_ASSERTION = 8192


class OAuthError(Exception):
    def __init__(self, error: str, description: str, *, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _client_refused(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issuer(assertion: str) -> str:
    """The client the assertion says it is from, read before its signature can be checked
    (which key checks it depends on who sent it)."""
    try:
        issuer = json.loads(jws.extract_compact(assertion.encode()).payload).get("iss")
    except (JoseError, ValueError, AttributeError, UnicodeError) as error:
        raise _client_refused("The client assertion is not a signed JWT.") from error
    if not isinstance(issuer, str):
        raise _client_refused("The client assertion names no issuer (iss).")
    return issuer


def _client(client_id: str) -> FhirClient:
    client = FhirClient.objects.select_related("user").filter(client_id=client_id).first()
    if client is None or not client.active or not client.user.is_active:
        raise _client_refused("No active client has this client id.")
    return client


def _claims(assertion: str, *, client: FhirClient, audience: str) -> dict:
    try:
        token = jwt.decode(assertion, KeySet.import_key_set(client.jwks), algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": client.client_id},
            sub={"essential": True, "value": client.client_id},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError) as error:
        raise _client_refused(f"The client assertion is refused: {error.__class__.__name__}.") \
            from error
    exp = token.claims["exp"]
    if not isinstance(exp, int | float) or exp > time.time() + ASSERTION_LIFETIME + 5:
        raise _client_refused("The client assertion must expire within five minutes.")
    if not isinstance(token.claims["jti"], str) or len(token.claims["jti"]) > 255:
        raise _client_refused("The client assertion's jti must be a string of 255 or fewer.")
    return token.claims


def _jti_use(*, client: FhirClient, claims: dict) -> None:
    """An assertion is good once: its jti is kept until it expires, and seen again is refused."""
    now = timezone.now()
    FhirAssertionUse.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            FhirAssertionUse.objects.create(
                client=client, jti=claims["jti"],
                expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
            )
    except IntegrityError as error:
        raise _client_refused("This client assertion was used already (its jti).") from error


def _granted(*, client: FhirClient, scope: str) -> str:
    try:
        granted = scopes_granted(asked=scopes_parse(scope), allowed=scopes_parse(client.scopes))
    except ScopeError as error:
        raise OAuthError("invalid_scope", str(error)) from error
    if not granted:
        raise OAuthError("invalid_scope", "None of the scopes asked for is allowed this client.")
    return granted


def token_issue(*, form, audience: str) -> dict:
    """The answer to a token request (form: the POSTed fields; audience: this endpoint's URL)."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion, scope = form.get("client_assertion") or "", form.get("scope") or ""
    if not assertion or len(assertion) > MAX_ASSERTION:
        raise OAuthError("invalid_request", "Send the signed client_assertion.")
    if not scope.strip():
        raise OAuthError("invalid_scope", "Ask for at least one scope.")
    client = _client(_issuer(assertion))
    claims = _claims(assertion, client=client, audience=audience)
    granted = _granted(client=client, scope=scope)
    _jti_use(client=client, claims=claims)
    return _token_made(client=client, scopes=granted)


def _token_made(*, client: FhirClient, scopes: str) -> dict:
    token, now = secrets.token_urlsafe(32), timezone.now()
    FhirAccessToken.objects.filter(expires_at__lt=now).delete()
    FhirAccessToken.objects.create(
        client=client, token_hash=token_hash(token), scopes=scopes, expires_at=now + TOKEN_LIFETIME
    )
    client.last_used_at = now
    client.save(update_fields=["last_used_at"])
    return {
        "access_token": token, "token_type": "bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()), "scope": scopes,
    }
