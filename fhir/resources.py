"""The unit's records as FHIR R4 resources: plain functions, a row in, a JSON-ready dict out.

Ids: a patient, a surgeon and a case are named by their own id; a Location is either a site
(`site-<id>`) or one of its rooms and bays (`resource-<id>`), which are separate tables."""

from dataclasses import dataclass
from datetime import UTC, datetime

from scheduling.models import (
    Case,
    CaseStatus,
    Patient,
    Resource,
    ResourceKind,
    Site,
    SlotHold,
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


@dataclass(frozen=True)
class StageTimes:
    """What an Appointment shows of a stage: its room or bay and its planned times (a case's
    stage, a hold's, or one of a time only offered)."""

    resource_id: int
    resource_name: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, stage: Stage) -> "StageTimes":
        return cls(stage.resource_id, stage.resource.name, stage.planned_start, stage.planned_end)


def _stage_participant(stage: StageTimes, status: str) -> dict:
    return {
        "actor": {
            "reference": f"Location/{resource_location_id(stage.resource_id)}",
            "display": stage.resource_name,
        },
        "required": "required",
        "status": status,
        "period": {"start": instant(stage.start), "end": instant(stage.end)},
    }


def _appointment(
    *, id: str, status: str, procedure_type, levels: int, arrival_at: datetime,
    patient_id: int | None, surgeon_id: int | None, stages: list[StageTimes],
    participant_status: str = "accepted",
) -> dict:
    """An Appointment: from the start of pre-op to the end of recovery; its patient, its surgeon
    and each stage's room or bay with the stage's times."""
    participants = []
    if patient_id is not None:
        participants.append({
            "actor": {"reference": f"Patient/{patient_id}"},
            "required": "required",
            "status": participant_status,
        })
    if surgeon_id is not None:
        participants.append({
            "type": [{"coding": [{
                "system": PARTICIPATION_TYPE_SYSTEM, "code": "PPRF", "display": "primary performer",
            }]}],
            "actor": {"reference": f"Practitioner/{surgeon_id}"},
            "required": "required",
            "status": participant_status,
        })
    participants += [_stage_participant(stage, participant_status) for stage in stages]
    resource = {
        "resourceType": "Appointment",
        "id": id,
        "extension": [
            {"url": conf.arrival_extension_url(), "valueInstant": instant(arrival_at)},
            {"url": conf.levels_extension_url(), "valueInteger": levels},
        ],
        "status": status,
        "serviceType": [{"coding": [{
            "system": conf.procedure_system(),
            "code": procedure_type.code,
            "display": procedure_type.name,
        }]}],
        "participant": participants,
    }
    if stages:
        resource["start"] = instant(stages[0].start)
        resource["end"] = instant(stages[-1].end)
    return resource


def appointment_resource(case: Case) -> dict:
    """One case, as planned. Its stages are its own in their order (prefetched:
    `case.stages.all()`)."""
    stages = sorted(case.stages.all(), key=lambda stage: stage.position)
    resource = _appointment(
        id=str(case.pk), status=APPOINTMENT_STATUS[case.status],
        procedure_type=case.procedure_type, levels=case.levels, arrival_at=case.arrival_at,
        patient_id=case.patient_id, surgeon_id=case.surgeon_id,
        stages=[StageTimes.of(stage) for stage in stages],
    )
    resource["meta"] = {"versionId": case.version, "lastUpdated": instant(case.updated_at)}
    resource["created"] = instant(case.created_at)
    return resource


def proposed_appointment_resource(
    *, id: str, procedure_type, levels: int, surgeon_id: int | None, patient_id: int | None,
    slot,
) -> dict:
    """A free time Appointment/$find offers: `proposed`, nothing held yet."""
    stages = [
        StageTimes(resource.pk, resource.name, stage.start, stage.end)
        for stage, resource in zip(slot.times.stages, slot.resources, strict=True)
    ]
    return _appointment(
        id=id, status="proposed", procedure_type=procedure_type, levels=levels,
        arrival_at=slot.times.arrival_at, patient_id=patient_id, surgeon_id=surgeon_id,
        stages=stages, participant_status="needs-action",
    )


def held_appointment_resource(hold: SlotHold) -> dict:
    """A time held by Appointment/$hold until `hold-expires`: `pending` until it is booked."""
    stages = sorted(hold.stages.select_related("resource"), key=lambda stage: stage.position)
    resource = _appointment(
        id=f"hold-{hold.pk}", status="pending", procedure_type=hold.procedure_type,
        levels=hold.levels, arrival_at=hold.arrival_at, patient_id=None,
        surgeon_id=hold.surgeon_id, stages=[StageTimes.of(stage) for stage in stages],
        participant_status="tentative",
    )
    resource["extension"].append(
        {"url": conf.hold_expiry_extension_url(), "valueInstant": instant(hold.expires_at)}
    )
    resource["created"] = instant(hold.created_at)
    return resource

