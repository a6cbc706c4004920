"""The independent validator catches what Medplum's bare validateResource lets through: a code
outside a required binding's value set, also inside a Bundle entry; and it still catches a
missing required element. Without these, a passing corpus would prove little."""

import json

import pytest

from tests.fhir.conftest import validator_run

APPOINTMENT = {
    "resourceType": "Appointment", "id": "1", "status": "booked",
    "start": "2026-03-03T14:00:00Z", "end": "2026-03-03T18:00:00Z",
    "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}],
}


def searchset(*resources) -> dict:
    return {
        "resourceType": "Bundle", "type": "searchset", "total": len(resources),
        "entry": [{"fullUrl": f"https://unit.example/fhir/R4/Appointment/{r['id']}", "resource": r}
                  for r in resources],
    }


def verdict_of(tmp_path, name: str, resource: dict) -> dict:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(resource))
    return validator_run(path)


def test_a_valid_bundle_passes_and_counts_its_entries(tmp_path):
    verdict = verdict_of(tmp_path, "good", searchset(APPOINTMENT, APPOINTMENT | {"id": "2"}))
    assert verdict == {"validated": 3, "files": 1, "errors": []}


@pytest.mark.parametrize(("where", "path"), [
    ("alone", "status"), ("in a Bundle", "entry[0].resource.status"),
])
def test_a_status_outside_its_value_set_fails(tmp_path, where, path):
    bad = APPOINTMENT | {"status": "nonsense"}
    resource = bad if where == "alone" else searchset(bad)
    errors = verdict_of(tmp_path, "bad", resource)["errors"]
    assert any(e["expression"].endswith(path) and "nonsense" in e["text"] for e in errors), errors


def test_codes_of_participants_bundles_and_outcomes_are_checked(tmp_path):
    participant = APPOINTMENT | {"participant": [{"actor": {"reference": "Patient/1"},
                                                  "status": "maybe"}]}
    bundle = searchset(APPOINTMENT) | {"type": "list"}
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "fatal-ish", "code": "wrong"}]}
    for name, resource, codes in [
        ("participant", participant, {"maybe"}), ("bundle", bundle, {"list"}),
        ("outcome", outcome, {"fatal-ish", "wrong"}),
    ]:
        errors = verdict_of(tmp_path, name, resource)["errors"]
        assert {code for code in codes if any(code in e["text"] for e in errors)} == codes


def test_a_missing_required_element_fails_alone_and_in_a_bundle(tmp_path):
    without = {k: v for k, v in APPOINTMENT.items() if k != "participant"}
    for resource in (without, searchset(without)):
        errors = verdict_of(tmp_path, "missing", resource)["errors"]
        assert any("participant" in e["expression"] and "Missing required" in e["text"]
                   for e in errors), errors
