"""The unit's records as FHIR R4 resources: plain functions, a row in, a JSON-ready dict out.

Ids: a patient, a surgeon and a case are named by their own id; a Location is either a site
(`site-<id>`) or one of its rooms and bays (`resource-<id>`), which are separate tables."""

from datetime import UTC, datetime

from scheduling.models import (
    Case,
    CaseStatus,
    Patient,
    Resource,
    ResourceKind,
    Site,
    Stage,
    Surgeon,
)

from . import conf

SITE_PREFIX = "site-"
RESOURCE_PREFIX = "resource-"

# A case's status as an Appointment's. A case awaiting a clinician's review holds its rooms but
# the unit has not accepted it yet: `pending` (the request is made, its acceptance is not);
# `proposed` is left for times only offered, never held. The front desk's check-in records the
# patient's arrival (`arrived`); once a stage has begun the encounter is under way, which R4's
# Appointment can only say as `checked-in` until the patient goes home (`fulfilled`).
APPOINTMENT_STATUS = {
    CaseStatus.NEEDS_REVIEW: "pending",
    CaseStatus.BOOKED: "booked",
    CaseStatus.CONFIRMED: "booked",
    CaseStatus.CHECKED_IN: "arrived",
    CaseStatus.IN_PRE_OP: "checked-in",
    CaseStatus.IN_PROCEDURE: "checked-in",
    CaseStatus.CEMENT_SETTING: "checked-in",
    CaseStatus.IN_RECOVERY: "checked-in",
    CaseStatus.DISCHARGED: "fulfilled",
    CaseStatus.CANCELLED: "cancelled",
    CaseStatus.NO_SHOW: "noshow",
}

# Location.physicalType (http://terminology.hl7.org/CodeSystem/location-physical-type).
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
PHYSICAL_TYPES = {
    "site": ("si", "Site"),
    ResourceKind.PROCEDURE_ROOM: ("ro", "Room"),
    ResourceKind.PRE_OP_BAY: ("bd", "Bed"),
    ResourceKind.RECOVERY_BAY: ("bd", "Bed"),
    ResourceKind.HOLDING_BAY: ("bd", "Bed"),
}
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def site_location_id(site_id: int) -> str:
    return f"{SITE_PREFIX}{site_id}"


def resource_location_id(resource_id: int) -> str:
    return f"{RESOURCE_PREFIX}{resource_id}"


def patient_resource(patient: Patient) -> dict:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{
            "use": "usual",
            "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                "display": "Medical record number",
            }]},
            "system": conf.mrn_system(),
            "value": patient.mrn,
        }],
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "birthDate": patient.date_of_birth.isoformat(),
        "communication": [{
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]},
            "preferred": True,
        }],
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def practitioner_resource(surgeon: Surgeon) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": str(surgeon.pk),
        "identifier": [{"system": conf.surgeon_system(), "value": surgeon.code}],
        "active": surgeon.active,
        "name": [{"text": surgeon.name}],
    }


def _physical_type(kind: str) -> dict:
    code, display = PHYSICAL_TYPES[kind]
    return {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": code, "display": display}]}


def site_location_resource(site: Site) -> dict:
    resource = {
        "resourceType": "Location",
        "id": site_location_id(site.pk),
        "identifier": [{"system": f"{conf.canonical_base()}/sid/site", "value": site.code}],
        "status": "active",
        "name": site.name,
        "mode": "instance",
        "physicalType": _physical_type("site"),
    }
    if site.phone:
        resource["telecom"] = [{"system": "phone", "value": site.phone}]
    if site.address:
        resource["address"] = {"text": site.address}
    return resource


def resource_location_resource(resource: Resource) -> dict:
    return {
        "resourceType": "Location",
        "id": resource_location_id(resource.pk),
        "status": "active" if resource.active else "inactive",
        "name": resource.name,
        "description": resource.get_kind_display(),
        "mode": "instance",
        "physicalType": _physical_type(resource.kind),
        "partOf": {"reference": f"Location/{site_location_id(resource.site_id)}"},
    }


def _stage_participant(stage: Stage) -> dict:
    return {
        "actor": {
            "reference": f"Location/{resource_location_id(stage.resource_id)}",
            "display": stage.resource.name,
        },
        "required": "required",
        "status": "accepted",
        "period": {"start": instant(stage.planned_start), "end": instant(stage.planned_end)},
    }


def appointment_resource(case: Case) -> dict:
    """One case: from the start of pre-op to the end of recovery, as planned; its patient, its
    surgeon and each stage's room or bay with the stage's times. The stages are the case's own
    in their order (prefetched: `case.stages.all()`)."""
    stages = sorted(case.stages.all(), key=lambda stage: stage.position)
    participants = [{
        "actor": {"reference": f"Patient/{case.patient_id}"},
        "required": "required",
        "status": "accepted",
    }]
    if case.surgeon_id is not None:
        participants.append({
            "type": [{"coding": [{
                "system": PARTICIPATION_TYPE_SYSTEM, "code": "PPRF", "display": "primary performer",
            }]}],
            "actor": {"reference": f"Practitioner/{case.surgeon_id}"},
            "required": "required",
            "status": "accepted",
        })
    participants += [_stage_participant(stage) for stage in stages]
    resource = {
        "resourceType": "Appointment",
        "id": str(case.pk),
        "meta": {"versionId": case.version, "lastUpdated": instant(case.updated_at)},
        "extension": [
            {"url": conf.arrival_extension_url(), "valueInstant": instant(case.arrival_at)}
        ],
        "status": APPOINTMENT_STATUS[case.status],
        "serviceType": [{"coding": [{
            "system": conf.procedure_system(),
            "code": case.procedure_type.code,
            "display": case.procedure_type.name,
        }]}],
        "created": instant(case.created_at),
        "participant": participants,
    }
    if stages:
        resource["start"] = instant(stages[0].planned_start)
        resource["end"] = instant(stages[-1].planned_end)
    return resource
