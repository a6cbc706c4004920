"""Systems that read the interface (SMART Backend Services): a registered client with its public
keys and the scopes it may be granted, the access tokens it was issued, and the assertion ids it
has used (each assertion is good once).

A client acts through its own user account, which holds no password and no staff role: the
client's sites are that account's sites (Site.staff), so the one visibility rule
(scheduling.selectors.visible_sites, patients_visible) binds a client exactly as it binds staff,
and each record access names the account ("fhir-client:<name>")."""

from django.conf import settings
from django.db import models
from django.utils import timezone

USERNAME_PREFIX = "fhir-client:"


class FhirClient(models.Model):
    name = models.CharField(max_length=100, unique=True)
    client_id = models.CharField("client id", max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fhir_client",
        editable=False,
        help_text="The account the client reads as; its sites are the client's sites.",
    )
    scopes = models.TextField(
        help_text="The system scopes it may be granted, separated by spaces, e.g. "
        "`system/Patient.rs system/Appointment.rs`.",
    )
    jwks = models.JSONField(
        "public keys (JWKS)",
        help_text='Its public keys as a JSON Web Key Set: {"keys": [{"kty": ..., "kid": ...}]}.',
    )
    active = models.BooleanField(default=True, help_text="An inactive client's tokens are refused.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "FHIR client"

    def __str__(self) -> str:
        return self.name


class FhirAccessToken(models.Model):
    """An issued bearer token: only its SHA-256 is kept."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "FHIR access token"

    def __str__(self) -> str:
        return f"{self.client} until {self.expires_at:%Y-%m-%d %H:%M:%S}Z"


class FhirAssertionUse(models.Model):
    """An assertion's jti, kept until the assertion expires: the same jti again is a replay."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="fhir_assertion_jti_once"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.jti}"
