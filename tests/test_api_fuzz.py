"""Every operation in /api/schema/, fuzzed in process with schemathesis: valid and invalid
requests from a member of staff who holds every role at a realistic unit. No answer is a 5xx;
every answer is one the schema documents (status, content type, body), invalid input is refused
with a 4xx, and a request without the token is refused.

Positive-data acceptance is the one check left out: a schema-valid site code may name no site,
and the API rightly answers such requests 400 with a documented code (`unknown_site`, ...).
"""

import os
import re

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.errors import ERROR_CODES
from tests.fuzz.poison import HUGE, NUL, UNIT_VALUES, Document, poisoned_requests

# The unit is built once for the module; each test (and each request) is rolled back.
from tests.fuzz.unit import (  # noqa: F401 (fixtures)
    fuzz_unit_once,
    fuzz_unit_shared,
    wsgi_in_test_transaction,
)
from vertebro_site.wsgi import application

# Bounded so the whole file runs in CI in about a minute (25 examples an operation, valid and
# invalid: every operation still gets both kinds, against real and unknown ids); derandomized so
# a failure seen once is seen again. VERTEBRO_FUZZ_EXAMPLES=500 digs deeper by hand.
MAX_EXAMPLES = int(os.environ.get("VERTEBRO_FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)


def _on_real_objects(case, unit) -> None:
    """About half the schema-valid ids, site codes and dates are turned into the unit's own, so
    requests reach the code behind the lookups; the rest still probe values that exist nowhere.
    (The choice follows the generated value, so a run is repeatable.)"""
    if case.meta is None:
        return
    path = case.meta.components.get(ParameterLocation.PATH)
    generated = case.path_parameters.get("id")
    if path is not None and path.mode.is_positive and isinstance(generated, int):
        ids = unit.ids_for(case.path)
        if generated % 2 == 0 and ids:
            case.path_parameters["id"] = ids[abs(generated) // 2 % len(ids)]
    for location, values in ((ParameterLocation.QUERY, case.query),
                             (ParameterLocation.BODY, case.body)):
        component = case.meta.components.get(location)
        if component is None or not component.mode.is_positive or not isinstance(values, dict):
            continue
        for name, real in UNIT_VALUES.items():
            if isinstance(values.get(name), str) and len(values[name]) % 2 == 0:
                values[name] = real


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(
    case, fuzz_unit_shared, wsgi_in_test_transaction  # noqa: F811
):
    fuzz_unit = fuzz_unit_shared
    _on_real_objects(case, fuzz_unit)
    # Each request starts from the same unit: what one booked or cancelled is rolled back.
    with transaction.atomic():
        case.call_and_validate(
            headers={"Authorization": f"Token {fuzz_unit.token}"},
            excluded_checks=[positive_data_acceptance],
        )
        transaction.set_rollback(True)


def _poisoned_cases(unit, poison):
    """(label, case) for every string every operation takes, each poisoned in turn."""
    document = Document(schema.raw_schema)
    for path, operations in schema.raw_schema["paths"].items():
        ids = unit.ids_for(path)
        for method, operation in operations.items():
            path_parameters = {
                p["name"]: ids[min(1, len(ids) - 1)] if p["name"] == "id"
                else document.plain(p.get("schema", {}), p["name"])
                for p in operation.get("parameters", []) if p["in"] == "path"
            }
            for request in poisoned_requests(document, operation, path_parameters, poison):
                has_body = request.body is not None
                case = schema[path][method.upper()].Case(
                    path_parameters=request.path_parameters,
                    query=request.query,
                    body=request.body if has_body else NOT_SET,
                    media_type="application/json" if has_body else None,
                )
                label = f"{method.upper()} {path}, poison in {request.where} {request.field}"
                yield label, request, case


@pytest.mark.parametrize("poison", [NUL, HUGE], ids=["NUL byte", "1 MB string"])
def test_a_nul_byte_or_a_huge_string_anywhere_is_refused_with_the_error_format(
    poison, fuzz_unit_shared, wsgi_in_test_transaction  # noqa: F811
):
    fuzz_unit = fuzz_unit_shared
    sent = 0
    for label, request, case in _poisoned_cases(fuzz_unit, poison):
        with transaction.atomic():
            response = case.call(headers={"Authorization": f"Token {fuzz_unit.token}"})
            transaction.set_rollback(True)
        assert 400 <= response.status_code < 500, (label, response.status_code)
        assert response.headers.get("content-type") == ["application/json"], (
            label, response.status_code, response.text[:200])
        body = response.json()
        assert set(body) == {"code", "detail", "errors"}, (label, body)
        assert body["code"] in ERROR_CODES, (label, body)
        if response.status_code == 400 and request.where != "path":
            # The poisoned field is named (patient.last_name; medications.0 for a list's item).
            named = [key for key in body["errors"] if re.sub(r"\.\d+", "", key) == request.field]
            assert named, (label, body)
        sent += 1
    assert sent > 40
