"""A case's visit to the unit as an Encounter: from check-in to discharge, with the rooms and bays
the patient was in as the nurses recorded them (scheduling.services.tracking). A case cancelled
or missed never became one. Its id is the case's, as is its Appointment's."""

from scheduling.models import Case, CaseAction, CaseStatus, Stage

from . import conf
from .resources import PARTICIPATION_TYPE_SYSTEM, instant, resource_location_id

ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The patient has arrived (checked in); is in the unit from the first stage on; has gone home.
ENCOUNTER_STATUS = {
    CaseStatus.CHECKED_IN: "arrived",
    CaseStatus.IN_PRE_OP: "in-progress",
    CaseStatus.IN_PROCEDURE: "in-progress",
    CaseStatus.CEMENT_SETTING: "in-progress",
    CaseStatus.IN_RECOVERY: "in-progress",
    CaseStatus.DISCHARGED: "finished",
}
ENCOUNTER_CODES = (
    "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
    "entered-in-error", "unknown",
)


def _step_at(case: Case, action: str):
    """When the case's check-in or discharge was recorded (not undone); `case.day_steps` is
    prefetched by fhir.selectors.fhir_encounters."""
    return next((event.at for event in case.day_steps if event.action == action), None)


def _location(stage: Stage) -> dict:
    period = {"start": instant(stage.actual_start)}
    if stage.actual_end is not None:
        period["end"] = instant(stage.actual_end)
    return {
        "location": {
            "reference": f"Location/{resource_location_id(stage.resource_id)}",
            "display": stage.resource.name,
        },
        "status": "completed" if stage.actual_end is not None else "active",
        "period": period,
    }


def encounter_resource(case: Case) -> dict:
    stages = [stage for stage in case.stages.all() if stage.actual_start is not None]
    started = [stage.actual_start for stage in stages]
    period = {}
    if start := _step_at(case, CaseAction.CHECK_IN) or min(started, default=None):
        period["start"] = instant(start)
    if case.status == CaseStatus.DISCHARGED:
        ended = [stage.actual_end for stage in stages if stage.actual_end is not None]
        if end := _step_at(case, CaseAction.DISCHARGE) or max(ended, default=None):
            period["end"] = instant(end)
    resource = {
        "resourceType": "Encounter",
        "id": str(case.pk),
        "status": ENCOUNTER_STATUS[case.status],
        "class": {"system": ACT_CODE_SYSTEM, "code": "AMB", "display": "ambulatory"},
        "serviceType": {"coding": [{
            "system": conf.procedure_system(),
            "code": case.procedure_type.code,
            "display": case.procedure_type.name,
        }]},
        "subject": {"reference": f"Patient/{case.patient_id}"},
        "appointment": [{"reference": f"Appointment/{case.pk}"}],
    }
    if case.surgeon_id is not None:
        resource["participant"] = [{
            "type": [{"coding": [{
                "system": PARTICIPATION_TYPE_SYSTEM, "code": "PPRF", "display": "primary performer",
            }]}],
            "individual": {"reference": f"Practitioner/{case.surgeon_id}"},
        }]
    if period:
        resource["period"] = period
    if stages:
        resource["location"] = [_location(stage) for stage in stages]
    return resource
