"""The CapabilityStatement at /fhir/R4/metadata: exactly what the interface serves, read from
the types it serves (fhir.types), so the two cannot drift."""

from .operation_definitions import operation_definition_id
from .types import TYPES

SEARCH_PARAM_TYPES = {
    "_id": "token", "identifier": "token", "family": "string", "given": "string",
    "name": "string", "birthdate": "date", "partof": "reference", "date": "date",
    "_lastUpdated": "date", "patient": "reference", "practitioner": "reference",
    "status": "token", "location": "reference", "service-type": "token",
    "actor": "reference", "active": "token", "schedule": "reference", "start": "date",
    "appointment": "reference",
}
PAGING_PARAMS = [
    {"name": "_count", "type": "number",
     "documentation": "Entries per page, 20 unless given, at most 100."},
    {"name": "_offset", "type": "number",
     "documentation": "Entries skipped; the Bundle's `next` link carries it."},
]


def _resource(name: str, fhir_type, base: str) -> dict:
    resource = {
        "type": name,
        "interaction": [{"code": "read"}, {"code": "search-type"}]
        + ([{"code": "create"}] if fhir_type.create else []),
        "versioning": "versioned" if name == "Appointment" else "no-version",
        "readHistory": False,
        "searchParam": [
            {"name": param, "type": SEARCH_PARAM_TYPES[param]} for param in fhir_type.search
        ] + PAGING_PARAMS,
    }
    if name == "Appointment":
        resource["operation"] = [
            {"name": code,
             "definition": f"{base}OperationDefinition/{operation_definition_id(code)}"}
            for code in ("find", "hold", "book")
        ]
    return resource


def _security(token_url: str) -> dict:
    return {
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "token", "valueUri": token_url}],
        }],
        "cors": False,
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
        }]}],
        "description": "Staff: an API token from /api/v1/auth/token/, sent as "
        "`Authorization: Token <key>`. Systems: SMART Backend Services (client credentials "
        "with a private_key_jwt assertion, RS384 or ES384) at the token endpoint above, then "
        "`Authorization: Bearer <token>`; see .well-known/smart-configuration.",
    }


def capability_statement(*, base: str, date: str, version: str, token_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "Vertebro", "version": version},
        "implementation": {"description": "Vertebro's FHIR R4 interface", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Staff read with their API token (Authorization: Token <key>), "
            "under their sites and roles; systems with a SMART Backend Services token, under "
            "their sites and scopes.",
            "security": _security(token_url),
            "resource": [
                _resource(name, fhir_type, base) for name, fhir_type in TYPES.items()
            ] + [{
                "type": "OperationDefinition", "interaction": [{"code": "read"}],
            }],
        }],
    }
