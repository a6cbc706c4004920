"""The OperationDefinitions of the scheduling operations (fhir/operations.py), served at
/fhir/R4/OperationDefinition/<id> and named by the CapabilityStatement. `$find` takes the IHE
profile's parameters this unit can use, plus `levels`, the number of vertebrae treated, which
sets how long the procedure is."""

from . import conf

IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"


def _parameter(name: str, use: str, kind: str, documentation: str, *, required=False,
               search_type: str | None = None) -> dict:
    parameter = {"name": name, "use": use, "min": 1 if required else 0, "max": "1",
                 "type": kind, "documentation": documentation}
    if search_type:
        parameter["searchType"] = search_type
    return parameter


def _definitions() -> dict[str, dict]:
    appointment_reference = _parameter(
        "appointment-reference", "in", "Reference",
        "Appointment/<id> of a time $find offered (proposal-...) or, for $book, one $hold "
        "holds (hold-...).")
    return {
        "find": {
            "description": "The free times for a case of one procedure type (IHE ITI-115), "
            "earliest first, as proposed Appointments: each with its rooms, bays and surgeon "
            "and the stages' times. Nothing is held until $hold.",
            "parameters": [
                _parameter("start", "in", "dateTime", "The first day to look at.",
                           required=True),
                _parameter("end", "in", "dateTime",
                           "The last day to look at (at most 14 days after start); start's "
                           "day unless given."),
                _parameter("service-type", "in", "string",
                           f"The procedure type's code, under {conf.procedure_system()}.",
                           required=True, search_type="token"),
                _parameter("levels", "in", "integer",
                           "The number of vertebral levels treated, 1 unless given."),
                _parameter("practitioner", "in", "Reference",
                           "Practitioner/<id>: only this surgeon's times; the case keeps them."),
                _parameter("location", "in", "Reference",
                           "Location/site-<id>: one site's times (all the caller's sites "
                           "unless given)."),
                _parameter("patient", "in", "Reference",
                           "Patient/<id>: named in the proposed Appointments."),
                _parameter("_count", "in", "integer", "Times offered, 20 unless given, at "
                           "most 100."),
                _parameter("return", "out", "Bundle", "A searchset of proposed Appointments.",
                           required=True),
            ],
            "affects_state": False,
        },
        "hold": {
            "description": "Hold one of $find's times (IHE ITI-116): its rooms, bays and "
            "surgeon are kept from every other booking until the hold-expires extension's "
            "instant, unless it is booked first. A time taken since it was offered is refused "
            "with slot_taken.",
            "parameters": [
                appointment_reference | {"min": 1},
                _parameter("return", "out", "Appointment",
                           "The held time: status pending, id hold-<n>.", required=True),
            ],
            "affects_state": True,
        },
        "book": {
            "description": "Book a case (IHE ITI-117) into a held time (hold_expired once it "
            "ran out) or straight into a proposed one (slot_taken if taken since); the "
            "Appointment names the patient and carries the screening answers in the "
            f"{conf.screening_extension_url()} extension, screened as at the front desk. "
            "An Appointment with the id of a booked case moves it to the referenced time "
            "(status booked) or cancels it (status cancelled, with cancelationReason); send "
            "If-Match with the version read, a stale one is refused with 412.",
            "parameters": [
                appointment_reference,
                _parameter("appointment-resource", "in", "Appointment",
                           "The Appointment to book, move or cancel.", required=True),
                _parameter("return", "out", "Appointment", "The case's Appointment.",
                           required=True),
            ],
            "affects_state": True,
        },
    }


def operation_definition_id(code: str) -> str:
    return f"appointment-{code}"


def operation_definitions(*, base: str) -> dict[str, dict]:
    """Each definition by its id."""
    found = {}
    for code, about in _definitions().items():
        definition_id = operation_definition_id(code)
        found[definition_id] = {
            "resourceType": "OperationDefinition",
            "id": definition_id,
            "url": f"{base}OperationDefinition/{definition_id}",
            "name": f"Appointment{code.capitalize()}",
            "title": f"Appointment ${code}",
            "status": "active",
            "kind": "operation",
            "affectsState": about["affects_state"],
            "code": code,
            "base": f"{IHE}/appointment-{code}",
            "resource": ["Appointment"],
            "system": False,
            "type": True,
            "instance": False,
            "description": about["description"],
            "parameter": about["parameters"],
        }
    return found
