"""Registering a FHIR client (the admin and `manage.py fhir_client_add` call these): its account,
its sites, its allowed scopes and its public keys, each checked before anything is saved."""

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from scheduling.models import Site

from .models import USERNAME_PREFIX, FhirClient
from .scopes import ScopeError, scopes_parse

# Members of a JWK that only a private key has: a pasted private key is refused, not stored.
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


def scopes_clean(text: str) -> str:
    try:
        scopes = scopes_parse(text)
    except ScopeError as error:
        raise ValidationError(str(error)) from error
    if not scopes:
        raise ValidationError("Name at least one scope, e.g. system/Appointment.rs.")
    return " ".join(str(scope) for scope in scopes)


def jwks_clean(jwks) -> dict:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError('A JWKS is a JSON object {"keys": [...]} with at least one key.')
    for key in keys:
        if not isinstance(key, dict) or PRIVATE_MEMBERS & key.keys():
            raise ValidationError("Paste the public keys only: a key here holds a private part.")
        if not isinstance(key.get("kid"), str) or not key["kid"]:
            raise ValidationError("Each key needs its kid, the one the client's assertions name.")
    try:
        KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError) as error:
        raise ValidationError(f"The keys cannot be read: {error}") from error
    return jwks


def fhir_client_add(
    *, name: str, sites: Iterable[Site], scopes: str, jwks: dict, active: bool = True
) -> FhirClient:
    sites = list(sites)
    if not sites:
        raise ValidationError("Bind the client to at least one site.")
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=f"{USERNAME_PREFIX}{name}"[:150], password=None, is_active=active
        )
        client = FhirClient(
            name=name, client_id=secrets.token_urlsafe(24), user=user,
            scopes=scopes_clean(scopes), jwks=jwks_clean(jwks), active=active,
        )
        client.full_clean(exclude=["user"])
        client.save()
        user.sites.set(sites)
    return client


def fhir_client_sites(*, client: FhirClient) -> list[Site]:
    return list(client.user.sites.order_by("code"))


def fhir_client_update(
    *, client: FhirClient, sites: Iterable[Site], fields: list[str]
) -> FhirClient:
    """Saves the client's changed fields and its sites; its account follows its name (which
    the audit log shows) and `active`."""
    sites = list(sites)
    if not sites:
        raise ValidationError("Bind the client to at least one site.")
    with transaction.atomic():
        if fields:
            client.save(update_fields=fields)
        client.user.username = f"{USERNAME_PREFIX}{client.name}"[:150]
        client.user.is_active = client.active
        client.user.save(update_fields=["username", "is_active"])
        client.user.sites.set(sites)
    return client
