"""The waiting list as ServiceRequests: each entry is an order for a procedure, `active` while the
patient waits, `completed` once a case was booked from it, `revoked` when taken off the list.

A ServiceRequest sent to the interface becomes a waiting-list entry through the same service as
the REST API's and the front desk's (scheduling.plan.waiting.waiting_entry_add); what it cannot
be read as is refused with `fhir_invalid_resource` and the path of the element in
issue.expression, and a refusal of the service carries its own code with the element's path."""

from datetime import date

from api.errors import ApiError
from scheduling import selectors as scheduling_selectors
from scheduling.errors import SchedulingError
from scheduling.horizon import day_parse
from scheduling.models import (
    Surgeon,
    WaitingListEntry,
    WaitingPriority,
    WaitingStatus,
)
from scheduling.plan import waiting

from . import conf, params
from .resources import SITE_PREFIX, instant, site_location_id

SERVICE_REQUEST_STATUS = {
    WaitingStatus.WAITING: "active",
    WaitingStatus.SCHEDULED: "completed",
    WaitingStatus.REMOVED: "revoked",
}
SERVICE_REQUEST_CODES = (
    "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
)
# The waiting list's three priorities in FHIR's order (routine < urgent < asap < stat): "soon"
# is sooner than routine, the unit's "urgent" the soonest it books.
PRIORITY = {
    WaitingPriority.ROUTINE: "routine",
    WaitingPriority.SOON: "urgent",
    WaitingPriority.URGENT: "asap",
}
PRIORITY_TAKEN = {**{code: priority for priority, code in PRIORITY.items()},
                  "stat": WaitingPriority.URGENT}
INTENTS = ("order", "original-order")
LEVELS_UNIT = "vertebral levels"
NOTE_LENGTH = 240
# Where a refusal of the waiting-list service points in the resource.
SERVICE_FIELDS = {
    "procedure_type": "ServiceRequest.code",
    "levels": "ServiceRequest.quantityQuantity.value",
    "earliest_date": "ServiceRequest.occurrencePeriod.start",
    "latest_date": "ServiceRequest.occurrencePeriod.end",
    "surgeon": "ServiceRequest.performer",
    "note": "ServiceRequest.note",
}


def service_request_resource(entry: WaitingListEntry) -> dict:
    resource = {
        "resourceType": "ServiceRequest",
        "id": str(entry.pk),
        "status": SERVICE_REQUEST_STATUS[entry.status],
        "intent": "order",
        "priority": PRIORITY[entry.priority],
        "code": {"coding": [{
            "system": conf.procedure_system(),
            "code": entry.procedure_type.code,
            "display": entry.procedure_type.name,
        }]},
        "quantityQuantity": {"value": entry.levels, "unit": LEVELS_UNIT},
        "subject": {"reference": f"Patient/{entry.patient_id}"},
        "occurrencePeriod": {
            "start": entry.earliest_date.isoformat(), "end": entry.latest_date.isoformat(),
        },
        "authoredOn": instant(entry.created_at),
        "locationReference": [{"reference": f"Location/{site_location_id(entry.site_id)}"}],
    }
    if entry.surgeon_id is not None:
        resource["performer"] = [{"reference": f"Practitioner/{entry.surgeon_id}"}]
    if entry.note:
        resource["note"] = [{"text": entry.note}]
    return resource


# A ServiceRequest sent to be put on the waiting list

def invalid(path: str, detail: str) -> ApiError:
    return ApiError("fhir_invalid_resource", detail, field=f"ServiceRequest.{path}")


def _object(body: dict, name: str, *, required: bool = True) -> dict | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise invalid(name, f"{name} is required, as a JSON object.")
    return value


def _reference_number(reference: object, path: str, resource_type: str) -> int:
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str) or not text.startswith(f"{resource_type}/"):
        raise invalid(path, f"Refer to a {resource_type} as {{\"reference\": "
                      f"\"{resource_type}/<id>\"}}.")
    pk = params.number_id(text[len(resource_type) + 1:])
    if pk is None:
        raise invalid(path, f"“{text[:60]}” is not a {resource_type} this interface names.")
    return pk


def _first(body: dict, name: str) -> object | None:
    """The first of a repeating element, which must be a list when given."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise invalid(name, f"{name} is a list with at least one element.")
    return value[0]


def _day(period: dict, end: str) -> date:
    text = period.get(end)
    found = params.DATE_VALUE.match(text) if isinstance(text, str) else None
    day = day_parse(text[:10]) if found and found["day"] else None
    if day is None:
        raise invalid(f"occurrencePeriod.{end}", "Give the day as a FHIR date, e.g. 2026-03-03.")
    return day


def _procedure_code(body: dict) -> str:
    code = _object(body, "code")
    codings = code.get("coding")
    if not isinstance(codings, list):
        raise invalid("code.coding", "code.coding is a list of codings.")
    system = conf.procedure_system()
    for coding in codings:
        if (isinstance(coding, dict) and coding.get("system") == system
                and isinstance(coding.get("code"), str) and coding["code"]):
            return coding["code"]
    raise invalid("code", f"Name the procedure type by a coding under {system}.")


def _levels(body: dict) -> int:
    quantity = _object(body, "quantityQuantity", required=False)
    if quantity is None:
        return 1
    value = quantity.get("value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("quantityQuantity.value", "The vertebral levels are a whole number.")
    return value


def _note(body: dict) -> str:
    notes = body.get("note")
    if notes is None:
        return ""
    if not isinstance(notes, list) or not all(
        isinstance(note, dict) and isinstance(note.get("text"), str) for note in notes
    ):
        raise invalid("note", "note is a list of annotations, each with its text.")
    text = "\n".join(note["text"] for note in notes)
    if len(text) > NOTE_LENGTH:
        raise invalid("note", f"The note is at most {NOTE_LENGTH} characters.")
    return text


def _site(body: dict, user):
    sites = scheduling_selectors.visible_sites(user)
    location = _first(body, "locationReference")
    if location is None:
        only = list(sites.order_by("pk")[:2])
        if len(only) != 1:
            raise invalid("locationReference", "Name the site: Location/site-<id>.")
        return only[0]
    text = location.get("reference") if isinstance(location, dict) else None
    prefix = f"Location/{SITE_PREFIX}"
    pk = params.number_id(text[len(prefix):]) if isinstance(text, str) and text.startswith(
        prefix) else None
    site = sites.filter(pk=pk).first() if pk is not None else None
    if site is None:
        raise invalid("locationReference", "Name one of your sites: Location/site-<id>.")
    return site


def _surgeon(body: dict, site) -> Surgeon | None:
    performer = _first(body, "performer")
    if performer is None:
        return None
    pk = _reference_number(performer, "performer", "Practitioner")
    surgeon = Surgeon.objects.filter(pk=pk, active=True, sites=site).first()
    if surgeon is None:
        raise SchedulingError(
            "unknown_surgeon", f"No surgeon with this id works at {site.name}.",
            field="ServiceRequest.performer",
        )
    return surgeon


def _checked(body: object) -> dict:
    if not isinstance(body, dict):
        raise invalid("resourceType", "Send one ServiceRequest resource, a JSON object.")
    if body.get("resourceType") != "ServiceRequest":
        raise invalid("resourceType", "This address takes a ServiceRequest.")
    if body.get("status") != "active":
        raise invalid("status", "A request for the waiting list is active.")
    if body.get("intent") not in INTENTS:
        raise invalid("intent", f"The intent is one of: {', '.join(INTENTS)}.")
    if "priority" in body and not (
        isinstance(body["priority"], str) and body["priority"] in PRIORITY_TAKEN
    ):
        raise invalid("priority", f"The priority is one of: {', '.join(PRIORITY_TAKEN)}.")
    return body


def service_request_create(*, body: object, user) -> WaitingListEntry:
    """A waiting-list entry for the ServiceRequest `body`, made by the waiting-list service."""
    body = _checked(body)
    patient_pk = _reference_number(_object(body, "subject"), "subject", "Patient")
    code = _procedure_code(body)
    period = _object(body, "occurrencePeriod")
    earliest, latest = _day(period, "start"), _day(period, "end")
    levels, note = _levels(body), _note(body)
    site = _site(body, user)
    patient = scheduling_selectors.patient_get(patient_pk, user)
    if patient is None:
        # As the REST API answers: another site's patient is one that does not exist.
        raise SchedulingError(
            "unknown_patient", f"No patient has id {patient_pk}.", field="ServiceRequest.subject"
        )
    try:
        procedure_type = scheduling_selectors.procedure_type_get(code, site=site)
        return waiting.waiting_entry_add(
            site=site, patient=patient, procedure_type=procedure_type, levels=levels,
            earliest_date=earliest, latest_date=latest, created_by=user,
            priority=PRIORITY_TAKEN[body.get("priority", "routine")],
            surgeon=_surgeon(body, site), note=note,
        )
    except SchedulingError as error:
        fields = [SERVICE_FIELDS.get(field, field) for field in error.errors]
        raise SchedulingError(
            error.code, error.detail, field=fields[0] if fields else None
        ) from None
