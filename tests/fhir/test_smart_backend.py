"""SMART Backend Services: a system client registered with `manage.py fhir_client_add` from a
JWKS file gets a bearer token for a really signed assertion (RS384 or ES384) at the token
endpoint, and reads only its sites' records within its scopes, each record access naming it.
Every refusal of the token endpoint is an OAuth 2.0 error, every refusal of a read an
OperationOutcome with the project's stable code."""

import json
import time
import uuid
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from audit.models import AccessLog
from fhir.models import FhirClient
from scheduling import roles
from tests.factories import UserFactory
from tests.fhir.conftest import FhirClient as RecordingClient
from tests.fhir.conftest import outcome_code
from tests.fhir.day import day_build

pytestmark = pytest.mark.django_db

TOKEN_URL = "http://testserver/fhir/R4/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPES = "system/Patient.rs system/Appointment.rs"


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def rsa_key(kid: str) -> RSAKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(_pem(key), {"kid": kid})


def ec_key(kid: str) -> ECKey:
    return ECKey.import_key(_pem(ec.generate_private_key(ec.SECP384R1())), {"kid": kid})


class System:
    """An integration's side: its key pair and its registered client."""

    def __init__(self, *, client: FhirClient, keys: dict):
        self.client, self.keys = client, keys

    def assertion(self, *, alg="RS384", key=None, **claims) -> str:
        key = key or self.keys[alg]
        now = int(time.time())
        payload = {"iss": self.client.client_id, "sub": self.client.client_id,
                   "aud": TOKEN_URL, "exp": now + 240, "jti": uuid.uuid4().hex, **claims}
        header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, payload, key, algorithms=[alg])


def token_request(client, **fields):
    form = {"grant_type": "client_credentials", "scope": SCOPES,
            "client_assertion_type": ASSERTION_TYPE, **fields}
    return client.post("/fhir/R4/auth/token", urlencode(form),
                       content_type="application/x-www-form-urlencoded")


def registered(tmp_path, *, name: str, sites: list[str], scopes: str = SCOPES) -> System:
    keys = {"RS384": rsa_key("ehr-rsa-1"), "ES384": ec_key("ehr-ec-1")}
    jwks = {"keys": [key.as_dict(private=False) for key in keys.values()]}
    jwks_file = tmp_path / f"{name}.json"
    jwks_file.write_text(json.dumps(jwks))
    out = StringIO()
    call_command("fhir_client_add", "--name", name, *[a for s in sites for a in ("--site", s)],
                 "--scopes", scopes, "--jwks-file", str(jwks_file), stdout=out)
    return System(client=FhirClient.objects.get(client_id=out.getvalue().strip()), keys=keys)


@pytest.fixture
def day():
    return day_build()


@pytest.fixture
def ehr(day, tmp_path):
    return registered(tmp_path, name="Main EHR", sites=["main"])


def bearer(client, corpus, ehr, **fields) -> RecordingClient:
    token = token_request(client, client_assertion=ehr.assertion(), **fields).json()
    reader = RecordingClient()
    reader.corpus = corpus
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    return reader


# Registering

def test_the_command_registers_a_client_bound_to_its_sites_and_prints_its_id(day, tmp_path):
    system = registered(tmp_path, name="Both sites", sites=["main", str(day.north.pk)],
                        scopes="system/Appointment.read system/Patient.rs")
    client = system.client
    assert len(client.client_id) >= 32
    assert client.active
    assert client.scopes == "system/Appointment.rs system/Patient.rs"
    assert set(client.user.sites.all()) == {day.unit, day.north}
    assert client.user.username == "fhir-client:Both sites"
    assert not client.user.has_usable_password()
    assert {key["kid"] for key in client.jwks["keys"]} == {"ehr-rsa-1", "ehr-ec-1"}


def test_the_command_refuses_a_private_key_an_unknown_site_and_a_bad_scope(day, tmp_path):
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [rsa_key("k").as_dict(private=True)]}))
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"keys": [rsa_key("k").as_dict(private=False)]}))
    for site, scopes, keys, said in (
        ("main", SCOPES, private, "private part"),
        ("nowhere", SCOPES, public, "No site"),
        ("main", "patient/*.read", public, "Not a system scope"),
    ):
        with pytest.raises(Exception, match=said):
            call_command("fhir_client_add", "--name", "X", "--site", site, "--scopes", scopes,
                         "--jwks-file", str(keys), stdout=StringIO())
    assert not FhirClient.objects.exists()


# The token endpoint

@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_signed_assertion_gets_a_bearer_token_for_the_scopes_asked(client, ehr, alg):
    response = token_request(client, client_assertion=ehr.assertion(alg=alg),
                             scope="system/Appointment.rs")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "bearer", 300, "system/Appointment.rs")
    assert len(body["access_token"]) >= 40
    assert response["Cache-Control"] == "no-store"
    token = ehr.client.tokens.get()
    assert token.token_hash != body["access_token"]
    assert body["access_token"] not in token.scopes
    ehr.client.refresh_from_db()
    assert ehr.client.last_used_at is not None


def _refusal(response, error: str, status: int = 401) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert "access_token" not in response.json()


@pytest.mark.parametrize("case", ["wrong key", "unknown kid", "wrong aud", "expired", "too long",
                                  "unknown client", "sub is not iss", "HS256", "no jti"])
def test_an_assertion_that_does_not_prove_the_client_is_invalid_client(client, ehr, clock, case):
    now = int(time.time())
    assertion = {
        "wrong key": lambda: ehr.assertion(key=rsa_key("ehr-rsa-1")),
        "unknown kid": lambda: ehr.assertion(key=rsa_key("not-registered")),
        "wrong aud": lambda: ehr.assertion(aud="https://elsewhere.example/token"),
        "expired": lambda: ehr.assertion(exp=now - 1),
        "too long": lambda: ehr.assertion(exp=now + 3600),
        "unknown client": lambda: ehr.assertion(iss="nobody", sub="nobody"),
        "sub is not iss": lambda: ehr.assertion(sub="someone-else"),
        "HS256": lambda: jwt.encode(
            {"alg": "HS256", "kid": "ehr-rsa-1"},
            {"iss": ehr.client.client_id, "sub": ehr.client.client_id, "aud": TOKEN_URL,
             "exp": now + 60, "jti": "h"},
            OctKey.import_key("s" * 32), algorithms=["HS256"]),
        "no jti": lambda: ehr.assertion(jti=None),
    }[case]()
    _refusal(token_request(client, client_assertion=assertion), "invalid_client")
    assert not ehr.client.tokens.exists()


def test_an_assertion_used_again_is_refused(client, ehr):
    assertion = ehr.assertion()
    assert token_request(client, client_assertion=assertion).status_code == 200
    _refusal(token_request(client, client_assertion=assertion), "invalid_client")
    assert ehr.client.tokens.count() == 1


def test_an_inactive_clients_assertion_is_refused(client, ehr):
    FhirClient.objects.filter(pk=ehr.client.pk).update(active=False)
    _refusal(token_request(client, client_assertion=ehr.assertion()), "invalid_client")


def test_scopes_not_allowed_are_refused_or_narrowed_to_those_allowed(client, ehr):
    _refusal(token_request(client, client_assertion=ehr.assertion(),
                           scope="system/Practitioner.rs"), "invalid_scope", 400)
    _refusal(token_request(client, client_assertion=ehr.assertion(), scope="user/*.read"),
             "invalid_scope", 400)
    wide = token_request(client, client_assertion=ehr.assertion(),
                         scope="system/*.cruds system/Location.rs")
    assert wide.json()["scope"] == "system/Appointment.rs system/Patient.rs"


def test_a_request_of_the_wrong_shape_is_an_oauth_error(client, ehr):
    _refusal(token_request(client, client_assertion=ehr.assertion(), grant_type="password"),
             "unsupported_grant_type", 400)
    _refusal(token_request(client, client_assertion=ehr.assertion(),
                           client_assertion_type="basic"), "invalid_request", 400)
    _refusal(token_request(client), "invalid_request", 400)
    _refusal(token_request(client, client_assertion="not.a.jwt"), "invalid_client")
    as_json = client.post("/fhir/R4/auth/token", {"grant_type": "client_credentials"},
                          content_type="application/json")
    _refusal(as_json, "invalid_request", 400)


# Reading with the token

def test_the_bearer_reads_its_sites_records_and_never_another_sites(client, corpus, ehr, day):
    reader = bearer(client, corpus, ehr)
    assert reader.fhir(f"Appointment/{day.confirmed.pk}").status_code == 200
    assert reader.fhir(f"Patient/{day.confirmed.patient_id}").status_code == 200
    for path in (f"Appointment/{day.north_case.pk}", f"Patient/{day.north_patient.pk}"):
        response = reader.fhir(path)
        assert (response.status_code, outcome_code(response)) == (404, "not_found")
    found = reader.fhir("Appointment", _count=100).json()
    ids = {entry["resource"]["id"] for entry in found["entry"]}
    assert str(day.confirmed.pk) in ids
    assert str(day.north_case.pk) not in ids
    patients = reader.fhir("Patient", family="Zebulon").json()
    assert patients["total"] == 0


def test_a_token_without_the_appointment_scope_is_403(client, corpus, ehr, day):
    reader = bearer(client, corpus, ehr, scope="system/Patient.rs")
    for path in (f"Appointment/{day.confirmed.pk}", "Appointment"):
        response = reader.fhir(path)
        assert (response.status_code, outcome_code(response)) == (403, "insufficient_scope")
    assert reader.fhir(f"Patient/{day.confirmed.patient_id}").status_code == 200
    search_only = bearer(client, corpus, ehr, scope="system/Appointment.s")
    assert search_only.fhir("Appointment").status_code == 200
    assert outcome_code(search_only.fhir(f"Appointment/{day.confirmed.pk}")) == (
        "insufficient_scope")


def test_the_scheduling_operations_need_their_scopes_and_the_clients_sites(
    client, corpus, tmp_path, day
):
    """$find is a search (`.s`); $hold and $book a create (`.c`); moving or cancelling a case an
    update (`.u`). A client of another site is offered nothing of this one's."""
    ehr = registered(tmp_path, name="Booking EHR", sites=["main"],
                     scopes="system/Patient.rs system/Appointment.cruds")
    finder = bearer(client, corpus, ehr, scope="system/Appointment.s")
    query = {"start": "2026-03-04", "service-type": "vertebroplasty", "_count": "1"}
    proposal = finder.fhir("Appointment/$find", **query).json()["entry"][0]["resource"]
    hold_body = {"resourceType": "Parameters", "parameter": [{
        "name": "appointment-reference",
        "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]}
    refused = finder.fhir_post("Appointment/$hold", hold_body)
    assert (refused.status_code, outcome_code(refused)) == (403, "insufficient_scope")
    booker = bearer(client, corpus, ehr, scope="system/Appointment.crs")
    assert booker.fhir_post("Appointment/$hold", hold_body).status_code == 200
    read = booker.fhir(f"Appointment/{day.confirmed.pk}").json()
    cancel = {"resourceType": "Parameters", "parameter": [{
        "name": "appointment-resource", "resource": {
            **read, "status": "cancelled", "cancelationReason": {"text": "Unwell"}}}]}
    refused = booker.fhir_post("Appointment/$book", cancel)
    assert (refused.status_code, outcome_code(refused)) == (403, "insufficient_scope")
    updater = bearer(client, corpus, ehr, scope="system/Appointment.rus")
    assert updater.fhir_post("Appointment/$book", cancel).json()["status"] == "cancelled"

    north = registered(tmp_path, name="North EHR", sites=["north"],
                       scopes="system/Appointment.cruds")
    other = bearer(client, corpus, north, scope="system/Appointment.cruds")
    response = other.fhir_post("Appointment/$hold", hold_body)
    assert (response.status_code, outcome_code(response)) == (404, "not_found")
    offered = other.fhir("Appointment/$find", **query).json()
    assert all(f"proposal-{day.unit.pk}-" not in e["resource"]["id"]
               for e in offered.get("entry", []))


def test_an_expired_unknown_or_revoked_token_is_401(client, corpus, ehr, day, clock):
    reader = bearer(client, corpus, ehr)
    path = f"Appointment/{day.confirmed.pk}"
    assert reader.fhir(path).status_code == 200
    clock.shift(timedelta(minutes=5, seconds=1))
    response = reader.fhir(path)
    assert (response.status_code, outcome_code(response)) == (401, "not_authenticated")
    assert response["WWW-Authenticate"]
    unknown = RecordingClient()
    unknown.corpus = corpus
    unknown.credentials(HTTP_AUTHORIZATION="Bearer " + "A" * 43)
    assert unknown.fhir(path).status_code == 401
    fresh = bearer(client, corpus, ehr)
    FhirClient.objects.filter(pk=ehr.client.pk).update(active=False)
    assert fresh.fhir(path).status_code == 401


def test_each_record_the_client_reads_is_an_access_naming_it(client, corpus, ehr, day):
    reader = bearer(client, corpus, ehr)
    AccessLog.objects.all().delete()
    reader.fhir(f"Appointment/{day.confirmed.pk}")
    reader.fhir("Patient", family="Okafor")
    reader.fhir(f"Appointment/{day.north_case.pk}")
    rows = list(AccessLog.objects.order_by("id").values_list(
        "username", "user_id", "url_name", "case_id", "patient_id"))
    assert rows == [
        ("fhir-client:Main EHR", ehr.client.user_id, "fhir-appointment", day.confirmed.pk,
         day.confirmed.patient_id),
        ("fhir-client:Main EHR", ehr.client.user_id, "fhir-patient", None,
         day.confirmed.patient_id),
    ]


# Discovery

def test_smart_configuration_and_the_capability_statement_name_the_token_endpoint(
    client, corpus, ehr
):
    config = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert config["token_endpoint"] == TOKEN_URL
    assert config["grant_types_supported"] == ["client_credentials"]
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert "system/Appointment.rs" in config["scopes_supported"]
    assert config["capabilities"] == ["client-confidential-asymmetric"]
    statement = RecordingClient()
    statement.corpus = corpus
    security = statement.fhir("metadata").json()["rest"][0]["security"]
    (oauth,) = security["extension"]
    assert oauth["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert oauth["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"


def test_an_admin_registers_a_client_in_the_admin_and_it_gets_a_token(day, client):
    key = ec_key("admin-ec-1")
    admin_user = UserFactory(roles=[roles.ADMIN], is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    form = {"name": "Interface engine", "sites": [day.north.pk], "scopes": "system/*.read",
            "active": "on"}
    private = json.dumps({"keys": [key.as_dict(private=True)]})
    refused = client.post("/admin/fhir/fhirclient/add/", {**form, "jwks": private})
    assert refused.status_code == 200  # the form again, with its error
    assert not FhirClient.objects.exists()
    public = json.dumps({"keys": [key.as_dict(private=False)]})
    added = client.post("/admin/fhir/fhirclient/add/", {**form, "jwks": public}, follow=True)
    assert added.status_code == 200
    registered = FhirClient.objects.get()
    assert registered.scopes == "system/*.rs"
    assert list(registered.user.sites.all()) == [day.north]
    client.logout()
    system = System(client=registered, keys={"ES384": key})
    token = token_request(client, client_assertion=system.assertion(alg="ES384"))
    assert token.json()["scope"] == "system/Appointment.rs system/Patient.rs"
    client.force_login(admin_user)
    client.post(f"/admin/fhir/fhirclient/{registered.pk}/change/", {
        **form, "name": "Interface engine 2", "jwks": public, "sites": [day.unit.pk],
        "active": "",
    })
    registered.refresh_from_db()
    assert not registered.active
    assert list(registered.user.sites.all()) == [day.unit]
    assert registered.user.username == "fhir-client:Interface engine 2"
    assert not registered.user.is_active


def test_the_token_endpoint_is_rate_limited_per_address(client, ehr, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token": "2/min"}
    for _ in range(2):
        assert token_request(client, client_assertion=ehr.assertion()).status_code == 200
    throttled = token_request(client, client_assertion=ehr.assertion())
    _refusal(throttled, "slow_down", 429)
    assert int(throttled["Retry-After"]) >= 1
