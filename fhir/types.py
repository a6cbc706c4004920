"""The resource types the interface serves: for each, the rows a user may see (fhir.selectors),
how an id names a row, its search parameters and how a row becomes a resource.

A type's rows are one or more querysets (a Location is a site or one of its rooms and bays); a
search parameter narrows each of them (a Slot is worked out from the whole search at once,
`searched`, not stored). Every value of a repeated parameter must match (AND); the
comma-separated alternatives of one value may (OR)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict

from scheduling.api.waiting_list import WAITING_ROLES
from scheduling.models import Stage

from . import conf, encounters, orders, params, resources, schedules, selectors
from .resources import APPOINTMENT_STATUS, RESOURCE_PREFIX, SITE_PREFIX

Rows = tuple[QuerySet, ...]
Narrow = Callable[[Rows, str, str], Rows]
NOTHING = Q(pk__in=[])
# Appointment.status's codes (http://hl7.org/fhir/appointmentstatus), each with the case
# statuses it is given for (none for those a case never has).
APPOINTMENT_CODES = (
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
    "entered-in-error", "checked-in", "waitlist",
)


def _any(q_of: Callable[[str], Q], text: str) -> Q:
    return reduce(or_, (q_of(value) for value in params.values(text)), NOTHING)


def _each(q_of: Callable[[str, str], Q]) -> Narrow:
    """A parameter that narrows every queryset of the type by the same Q."""
    return lambda rows, name, text: tuple(
        qs.filter(_any(lambda value: q_of(name, value), text)) for qs in rows
    )


def _ids(name: str, value: str) -> Q:
    pk = params.number_id(value)
    return Q(pk=pk) if pk is not None else NOTHING


def _in_system(system: str | None, expected: str) -> bool:
    return system is None or system == expected


@dataclass(frozen=True)
class FhirType:
    name: str
    rows: Callable[..., Rows]
    by_id: Callable[[Rows, str], object | None]
    render: Callable[[object], dict]
    search: dict[str, Narrow]
    # The record access written for each row read: (what, patient_id, case_id, site_id), or None
    # for a type that holds no patient's data.
    access: Callable[[object], tuple] | None = None
    # A type whose rows are worked out from the whole search at once (a Slot), not narrowed
    # parameter by parameter: the user and the query in, the rows out.
    searched: Callable[[object, QueryDict], Rows] | None = None
    # The staff roles that may read it, when fewer than every role (the REST API's for the rows).
    read_roles: tuple[str, ...] | None = None
    # A type that may be created: the body and the user in, the row made out; and who may.
    create: Callable[..., object] | None = None
    create_roles: tuple[str, ...] = ()


def _one_by_number(rows: Rows, text: str):
    pk = params.number_id(text)
    return rows[0].filter(pk=pk).first() if pk is not None else None


# Patient

def _patient_identifier(name: str, value: str) -> Q:
    system, code = params.token(value)
    return Q(mrn=code) if _in_system(system, conf.mrn_system()) and code else NOTHING


def _birthdate(rows: Rows, name: str, text: str) -> Rows:
    spans = [params.date_range(name, value).as_dates() for value in params.values(text)]
    return tuple(qs.filter(reduce(or_, (s.q("date_of_birth") for s in spans), NOTHING))
                 for qs in rows)


PATIENT = FhirType(
    name="Patient",
    rows=lambda user: (selectors.fhir_patients(user=user),),
    by_id=_one_by_number,
    render=resources.patient_resource,
    search={
        "_id": _each(_ids),
        "identifier": _each(_patient_identifier),
        "family": _each(lambda name, value: Q(last_name__istartswith=value)),
        "given": _each(lambda name, value: Q(first_name__istartswith=value)),
        "name": _each(lambda name, value: Q(last_name__istartswith=value)
                      | Q(first_name__istartswith=value)),
        "birthdate": _birthdate,
    },
    access=lambda patient: ("fhir-patient", patient.pk, None, None),
)


# Practitioner

def _surgeon_identifier(name: str, value: str) -> Q:
    system, code = params.token(value)
    return Q(code=code) if _in_system(system, conf.surgeon_system()) and code else NOTHING


PRACTITIONER = FhirType(
    name="Practitioner",
    rows=lambda user: (selectors.fhir_surgeons(user=user),),
    by_id=_one_by_number,
    render=resources.practitioner_resource,
    search={
        "_id": _each(_ids),
        "identifier": _each(_surgeon_identifier),
        "name": _each(lambda name, value: Q(name__icontains=value)),
    },
)


# Location: a site, or a room or bay of one

def _location_number(value: str, prefix: str) -> int | None:
    return params.number_id(value[len(prefix):]) if value.startswith(prefix) else None


def _location_by_id(rows: Rows, text: str):
    sites, rooms = rows
    for prefix, qs in ((SITE_PREFIX, sites), (RESOURCE_PREFIX, rooms)):
        if (pk := _location_number(text, prefix)) is not None:
            return qs.filter(pk=pk).first()
    return None


def _location_ids(rows: Rows, name: str, text: str) -> Rows:
    sites, rooms = rows
    wanted = params.values(text)
    site_ids = [_location_number(value, SITE_PREFIX) for value in wanted]
    room_ids = [_location_number(value, RESOURCE_PREFIX) for value in wanted]
    return (sites.filter(pk__in=[pk for pk in site_ids if pk]),
            rooms.filter(pk__in=[pk for pk in room_ids if pk]))


def _part_of(rows: Rows, name: str, text: str) -> Rows:
    sites, rooms = rows
    site_ids = [
        _location_number(params.reference_id(name, value, "Location"), SITE_PREFIX)
        for value in params.values(text)
    ]
    return sites.none(), rooms.filter(site_id__in=[pk for pk in site_ids if pk])


def _render_location(row) -> dict:
    if hasattr(row, "kind"):
        return resources.resource_location_resource(row)
    return resources.site_location_resource(row)


LOCATION = FhirType(
    name="Location",
    rows=lambda user: (selectors.fhir_sites(user=user), selectors.fhir_resources(user=user)),
    by_id=_location_by_id,
    render=_render_location,
    search={
        "_id": _location_ids,
        "name": _each(lambda name, value: Q(name__icontains=value)),
        "partof": _part_of,
    },
)


# Appointment: one per case

def _date_on(field: str) -> Narrow:
    def narrow(rows: Rows, name: str, text: str) -> Rows:
        spans = [params.date_range(name, value) for value in params.values(text)]
        return tuple(qs.filter(reduce(or_, (s.q(field) for s in spans), NOTHING)) for qs in rows)

    return narrow


def _status(name: str, value: str) -> Q:
    if value not in APPOINTMENT_CODES:
        raise params.invalid(name, f"“{value[:40]}” is not an Appointment status.")
    return Q(status__in=[status for status, code in APPOINTMENT_STATUS.items() if code == value])


def _patient(name: str, value: str) -> Q:
    pk = params.number_id(params.reference_id(name, value, "Patient"))
    return Q(patient_id=pk) if pk is not None else NOTHING


def _practitioner(name: str, value: str) -> Q:
    pk = params.number_id(params.reference_id(name, value, "Practitioner"))
    return Q(surgeon_id=pk) if pk is not None else NOTHING


def _location(name: str, value: str) -> Q:
    location = params.reference_id(name, value, "Location")
    if (pk := _location_number(location, SITE_PREFIX)) is not None:
        return Q(site_id=pk)
    if (pk := _location_number(location, RESOURCE_PREFIX)) is not None:
        return Q(Exists(Stage.objects.filter(case=OuterRef("pk"), resource_id=pk)))
    return NOTHING


def _service_type(name: str, value: str) -> Q:
    system, code = params.token(value)
    ok = _in_system(system, conf.procedure_system()) and code
    return Q(procedure_type__code=code) if ok else NOTHING


APPOINTMENT = FhirType(
    name="Appointment",
    rows=lambda user: (selectors.fhir_cases(user=user),),
    by_id=_one_by_number,
    render=resources.appointment_resource,
    search={
        "_id": _each(_ids),
        "date": _date_on("starts_at"),
        "_lastUpdated": _date_on("updated_at"),
        "patient": _each(_patient),
        "practitioner": _each(_practitioner),
        "status": _each(_status),
        "location": _each(_location),
        "service-type": _each(_service_type),
    },
    access=lambda case: ("fhir-appointment", case.patient_id, case.pk, case.site_id),
)



# Schedule: one per room or bay, and per surgeon

def _schedule_by_id(rows: Rows, text: str):
    rooms, surgeons = rows
    for prefix, qs in ((RESOURCE_PREFIX, rooms), (schedules.SURGEON_PREFIX, surgeons)):
        if (pk := schedules.schedule_number(text, prefix)) is not None:
            return qs.filter(pk=pk).first()
    return None


def _schedule_ids(rows: Rows, name: str, text: str) -> Rows:
    rooms, surgeons = rows
    wanted = params.values(text)
    room_ids = [schedules.schedule_number(value, RESOURCE_PREFIX) for value in wanted]
    surgeon_ids = [schedules.schedule_number(value, schedules.SURGEON_PREFIX) for value in wanted]
    return (rooms.filter(pk__in=[pk for pk in room_ids if pk]),
            surgeons.filter(pk__in=[pk for pk in surgeon_ids if pk]))


def _actor(rows: Rows, name: str, text: str) -> Rows:
    rooms, surgeons = rows
    room_ids, surgeon_ids = [], []
    for value in params.values(text):
        if value.startswith("Practitioner/"):
            surgeon_ids.append(params.number_id(params.reference_id(name, value, "Practitioner")))
        else:
            location = params.reference_id(name, value, "Location")
            room_ids.append(_location_number(location, RESOURCE_PREFIX))
    return (rooms.filter(pk__in=[pk for pk in room_ids if pk]),
            surgeons.filter(pk__in=[pk for pk in surgeon_ids if pk]))


def _active(name: str, value: str) -> Q:
    if value not in ("true", "false"):
        raise params.invalid(name, "is true or false.")
    return Q(active=value == "true")


SCHEDULE = FhirType(
    name="Schedule",
    rows=lambda user: (selectors.fhir_resources(user=user), selectors.fhir_surgeons(user=user)),
    by_id=_schedule_by_id,
    render=schedules.schedule_resource,
    search={"_id": _schedule_ids, "actor": _actor, "active": _each(_active)},
)


# Slot: the times a schedule is held (busy) or open and not held (free)

def _slots_searched(user, query: QueryDict) -> Rows:
    window = schedules.slot_window(query.getlist("start"))
    statuses = None
    for text in query.getlist("status"):
        wanted = set(params.values(text))
        if unknown := wanted - set(schedules.SLOT_STATUSES):
            raise params.invalid("status", f"“{sorted(unknown)[0][:40]}” is not a Slot status.")
        statuses = wanted if statuses is None else statuses & wanted
    rooms, surgeons = SCHEDULE.rows(user)
    found = schedules.SlotRows()
    for row in schedules.schedules_named(rooms, surgeons, query.getlist("schedule")):
        site = schedules.schedule_site(row)
        found += [
            slot for slot in schedules.schedule_slots(row=row, site=site, window=window)
            if statuses is None or slot.status in statuses
        ]
    return (found,)


def _slot_by_id(rows: Rows, text: str):
    parsed = schedules.slot_id_parse(text)
    row = _schedule_by_id(rows, parsed[0]) if parsed else None
    if row is None:
        return None
    start = parsed[1]
    window = (start, start + timedelta(minutes=1))
    slots = schedules.schedule_slots(row=row, site=schedules.schedule_site(row), window=window)
    return next((slot for slot in slots if slot.id == text), None)


SLOT = FhirType(
    name="Slot",
    rows=SCHEDULE.rows,
    by_id=_slot_by_id,
    render=schedules.slot_resource,
    # Read together, by _slots_searched: a Slot is worked out from the whole query at once.
    search={"schedule": None, "start": None, "status": None},
    searched=_slots_searched,
)


# Encounter: a case's visit, from check-in on

def _encounter_status(name: str, value: str) -> Q:
    if value not in encounters.ENCOUNTER_CODES:
        raise params.invalid(name, f"“{value[:40]}” is not an Encounter status.")
    return Q(status__in=[s for s, code in encounters.ENCOUNTER_STATUS.items() if code == value])


def _appointment(name: str, value: str) -> Q:
    pk = params.number_id(params.reference_id(name, value, "Appointment"))
    return Q(pk=pk) if pk is not None else NOTHING


ENCOUNTER = FhirType(
    name="Encounter",
    rows=lambda user: (selectors.fhir_encounters(user=user),),
    by_id=_one_by_number,
    render=encounters.encounter_resource,
    search={
        "_id": _each(_ids),
        "patient": _each(_patient),
        "date": _date_on("arrived_at"),
        "status": _each(_encounter_status),
        "appointment": _each(_appointment),
    },
    access=lambda case: ("fhir-encounter", case.patient_id, case.pk, case.site_id),
)


# ServiceRequest: the waiting list

def _order_status(name: str, value: str) -> Q:
    if value not in orders.SERVICE_REQUEST_CODES:
        raise params.invalid(name, f"“{value[:40]}” is not a ServiceRequest status.")
    return Q(status__in=[s for s, code in orders.SERVICE_REQUEST_STATUS.items() if code == value])


SERVICE_REQUEST = FhirType(
    name="ServiceRequest",
    rows=lambda user: (selectors.fhir_waiting_entries(user=user),),
    by_id=_one_by_number,
    render=orders.service_request_resource,
    search={
        "_id": _each(_ids),
        "patient": _each(_patient),
        "status": _each(_order_status),
    },
    access=lambda entry: ("fhir-servicerequest", entry.patient_id, None, entry.site_id),
    read_roles=WAITING_ROLES,
    create=orders.service_request_create,
    create_roles=WAITING_ROLES,
)


TYPES = {
    fhir_type.name: fhir_type
    for fhir_type in (
        PATIENT, PRACTITIONER, LOCATION, APPOINTMENT, SCHEDULE, SLOT, ENCOUNTER, SERVICE_REQUEST,
    )
}
