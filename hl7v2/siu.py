"""A case as an HL7 v2.5.1 SIU message for the hospital's interface engine, built and checked
with hl7apy (strict validation): a case and its stages in, the ER7 text out (segments ended by
CR). Nothing here reads the database: the caller hands over the case with its patient, site,
procedure type and stages (hl7v2.outbox).

Every message, whatever its trigger, carries the whole appointment as it stands after the
change (S12 booked, S13 moved, S14 changed, S15 cancelled, S26 no-show), under the structure all
of them share in 2.5.1 (MSH-9.3 `SIU_S12`):

- SCH-1 and SCH-2 (placer and filler appointment ids) are the case's id under the unit's
  application name: one appointment for its whole life, whatever the moves. The unit both asks
  for and fills the appointment, so the two are the same.
- SCH-6 (event reason, required) is the trigger coded in HL7 table 0003; for a cancellation its
  text is the reason the clerk or patient gave, which the engine shows.
- SCH-7 (appointment reason) and AIS-3 are the procedure type coded under the same system as
  the FHIR interface's Appointment.serviceType (fhir.conf.procedure_system).
- SCH-11 and TQ1 give the appointment's start and end (first stage's start, last stage's end):
  SCH-11 for engines reading 2.3-style timing, TQ1 for those reading 2.5's.
- SCH-25 is the filler status from HL7 table 0278 (Booked, Started, Complete, Cancelled,
  Noshow, Pending).
- PID: the MRN under the hospital's assigning authority (PID-3.4 as a URI, the FHIR MRN
  system), the name, the birth date and the phone and email. The unit records no
  administrative sex, so PID-8 is left empty. No PV1: the structure does not require one and
  the visit belongs to the hospital's registration.
- One RGS group per stage, in order, named by its kind (RGS-3). The procedure stage's group
  carries the one AIS (the service booked, with its start and length): an engine books one
  service per appointment and reads the rooms and bays around it as the resources it uses;
  an AIS per stage would announce pre-op and recovery as services of their own. Each group has
  an AIL for its room or bay (AIL-3 with the site, the room or bay, and `resource-<id>` as
  the FHIR Location's id in PL-10; AIL-6 start; AIL-9/10 minutes) and, on the stages that need
  the surgeon, an AIP (AIP-3 the surgeon's code under the FHIR surgeon system).

Times are the site's wall-clock time with its UTC offset (20270315083000-0400): unambiguous,
and what a unit's engine shows its own staff.
"""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.exceptions import HL7apyException
from hl7apy.factories import datatype_factory

from fhir import conf
from fhir.resources import resource_location_id
from scheduling.models import Case, CaseStatus, ResourceKind, Stage, StageKind

from .models import SiuTrigger

VERSION = "2.5.1"
STRICT = VALIDATION_LEVEL.STRICT
STRUCTURE = "SIU_S12"  # 2.5.1 table 0354: S12 to S26 all share it

# HL7 table 0003's words for each trigger event.
EVENT_WORDS = {
    SiuTrigger.BOOKED: "Notification of new appointment booking",
    SiuTrigger.MOVED: "Notification of appointment rescheduling",
    SiuTrigger.CHANGED: "Notification of appointment modification",
    SiuTrigger.CANCELLED: "Notification of appointment cancellation",
    SiuTrigger.NO_SHOW: "Notification that patient did not show up for scheduled appointment",
}

# A case's status as the filler status of HL7 table 0278.
FILLER_STATUS = {
    CaseStatus.NEEDS_REVIEW: "Pending",
    CaseStatus.BOOKED: "Booked",
    CaseStatus.CONFIRMED: "Booked",
    CaseStatus.CHECKED_IN: "Started",
    CaseStatus.IN_PRE_OP: "Started",
    CaseStatus.IN_PROCEDURE: "Started",
    CaseStatus.CEMENT_SETTING: "Started",
    CaseStatus.IN_RECOVERY: "Started",
    CaseStatus.DISCHARGED: "Complete",
    CaseStatus.CANCELLED: "Cancelled",
    CaseStatus.NO_SHOW: "Noshow",
}

MINUTES = ("min", "minute", "UCUM")
URI = "URI"  # HL7 table 0301: HD-2 is a URI
# An IS value (a place's or a namespace's short name) holds at most 20 characters in 2.5.1.
IS_LENGTH = 20
ST_LENGTH = 199


class SiuNotValid(ValueError):
    """The message for a case would not be valid HL7. Its text names the case and the kind of
    fault, never the value at fault (a patient's data, which logs do not carry)."""


def siu_message(
    *,
    case: Case,
    stages: Sequence[Stage],
    trigger: str,
    control_id: str,
    at: datetime,
    entered_by=None,
) -> str:
    """The message for `trigger` about `case` (its stages in order), with MSH-10 `control_id`
    and MSH-7 `at`; `entered_by` is the member of staff who made the change (None: the
    patient or the unit itself). Raises SiuNotValid if the message would not validate."""
    [body] = siu_messages(case=case, stages=stages, trigger=trigger, control_ids=[control_id],
                          at=at, entered_by=entered_by)
    return body


def siu_messages(
    *,
    case: Case,
    stages: Sequence[Stage],
    trigger: str,
    control_ids: Sequence[str],
    at: datetime,
    entered_by=None,
) -> list[str]:
    """The same message once for each control id (one per endpoint): built once, since
    building is most of the cost, and validated under each id."""
    try:
        return _bodies(case=case, stages=stages, trigger=trigger, control_ids=control_ids,
                       at=at, entered_by=entered_by)
    except HL7apyException as exc:
        # hl7apy's own message quotes the value at fault: left out, and not chained.
        raise SiuNotValid(
            f"The SIU {trigger} of case {case.pk} is not valid HL7 ({type(exc).__name__})."
        ) from None


def _bodies(
    *, case: Case, stages: Sequence[Stage], trigger: str, control_ids: Sequence[str],
    at: datetime, entered_by,
) -> list[str]:
    zone = case.site.zone

    def ts(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y%m%d%H%M%S%z")

    msg = Message(STRUCTURE, version=VERSION, validation_level=STRICT)
    _msh(msg.msh, trigger=trigger, at=ts(at))
    start, end = stages[0].planned_start, stages[-1].planned_end
    _sch(msg.sch, case=case, trigger=trigger, start=ts(start), end=ts(end),
         minutes=_minutes(start, end), entered_by=entered_by)
    tq1 = msg.add_segment("TQ1")
    tq1.tq1_1 = "1"
    tq1.tq1_7 = ts(start)
    tq1.tq1_8 = ts(end)
    _pid(msg.add_group("SIU_S12_PATIENT").add_segment("PID"), case.patient)
    for position, stage in enumerate(stages, start=1):
        _resources(msg.add_group("SIU_S12_RESOURCES"), case=case, stage=stage,
                   set_id=position, ts=ts)
    bodies = []
    for control_id in control_ids:
        msg.msh.msh_10.value = control_id
        msg.validate()
        bodies.append(msg.to_er7())
    return bodies


def _msh(msh, *, trigger: str, at: str) -> None:
    msh.msh_3.hd_1 = _is(settings.HL7_SENDING_APPLICATION)
    msh.msh_4.hd_1 = _is(settings.HL7_SENDING_FACILITY)
    msh.msh_5.hd_1 = _is(settings.HL7_RECEIVING_APPLICATION)
    msh.msh_6.hd_1 = _is(settings.HL7_RECEIVING_FACILITY)
    msh.msh_7 = at
    msh.msh_9.msg_1 = "SIU"
    msh.msh_9.msg_2 = trigger
    msh.msh_9.msg_3 = STRUCTURE
    msh.msh_11 = "P"
    msh.msh_12 = VERSION


def _sch(sch, *, case: Case, trigger: str, start: str, end: str, minutes: int,
         entered_by) -> None:
    application = _is(settings.HL7_SENDING_APPLICATION)
    for appointment_id in (sch.sch_1, sch.sch_2):
        appointment_id.ei_1 = str(case.pk)
        appointment_id.ei_2 = application
    words = EVENT_WORDS[trigger]
    if trigger == SiuTrigger.CANCELLED and case.cancel_reason.strip():
        words = case.cancel_reason.strip()
    _coded(sch.sch_6, trigger, words, "HL70003")
    procedure_type = case.procedure_type
    _coded(sch.sch_7, procedure_type.code, procedure_type.name, conf.procedure_system())
    sch.sch_9 = str(minutes)
    _coded(sch.sch_10, *MINUTES)
    sch.sch_11.tq_4 = start
    sch.sch_11.tq_5 = end
    site = case.site
    sch.sch_16.xcn_1 = _st(site.code)
    sch.sch_16.xcn_2.fn_1 = _st(site.name)
    if site.phone:
        sch.sch_17.xtn_1 = _st(site.phone)
        sch.sch_17.xtn_2 = "WPN"
        sch.sch_17.xtn_3 = "PH"
    if entered_by is not None:
        sch.sch_20.xcn_1 = str(entered_by.pk)
        if entered_by.last_name:
            sch.sch_20.xcn_2.fn_1 = _st(entered_by.last_name)
        if entered_by.first_name:
            sch.sch_20.xcn_3 = _st(entered_by.first_name)
    else:
        sch.sch_20.xcn_1 = _st(settings.HL7_SENDING_APPLICATION)
    status = FILLER_STATUS[case.status]
    _coded(sch.sch_25, status, status, "HL70278")


def _pid(pid, patient) -> None:
    pid.pid_1 = "1"
    pid.pid_3.cx_1 = _st(patient.mrn)
    pid.pid_3.cx_4.hd_2 = _st(conf.mrn_system())
    pid.pid_3.cx_4.hd_3 = URI
    pid.pid_3.cx_5 = "MR"
    pid.pid_5.xpn_1.fn_1 = _st(patient.last_name)
    pid.pid_5.xpn_2 = _st(patient.first_name)
    pid.pid_5.xpn_7 = "L"  # legal name
    pid.pid_7 = patient.date_of_birth.strftime("%Y%m%d")
    phones = []
    if patient.phone:
        phones.append(("PRN", "CP", patient.phone, ""))
    if patient.email:
        phones.append(("NET", "Internet", "", patient.email))
    for use, equipment, number, email in phones:
        xtn = pid.add_field("PID_13")
        if number:
            xtn.xtn_1 = _st(number)
        xtn.xtn_2 = use
        xtn.xtn_3 = equipment
        if email:
            xtn.xtn_4 = _st(email)


def _resources(group, *, case: Case, stage: Stage, set_id: int, ts) -> None:
    group.rgs.rgs_1 = str(set_id)
    _coded(group.rgs.rgs_3, stage.kind, StageKind(stage.kind).label, "")
    start, minutes = ts(stage.planned_start), _minutes(stage.planned_start, stage.planned_end)
    if stage.kind == StageKind.PROCEDURE:
        ais = group.add_group("SIU_S12_SERVICE").ais
        ais.ais_1 = "1"
        procedure_type = case.procedure_type
        _coded(ais.ais_3, procedure_type.code, procedure_type.name, conf.procedure_system())
        ais.ais_4 = start
        ais.ais_7 = str(minutes)
        _coded(ais.ais_8, *MINUTES)
    ail = group.add_group("SIU_S12_LOCATION_RESOURCE").ail
    ail.ail_1 = "1"
    resource, site = stage.resource, case.site
    place = ail.ail_3
    place.pl_1 = _is(site.code)
    if resource.kind == ResourceKind.PROCEDURE_ROOM:
        place.pl_2 = _is(resource.name)
    else:
        place.pl_3 = _is(resource.name)
    place.pl_4.hd_1 = _is(site.code)
    place.pl_9 = _st(resource.name)
    place.pl_10.ei_1 = resource_location_id(resource.pk)
    _coded(ail.ail_4, resource.kind, ResourceKind(resource.kind).label, "")
    ail.ail_6 = start
    ail.ail_9 = str(minutes)
    _coded(ail.ail_10, *MINUTES)
    if stage.surgeon is not None:
        surgeon = stage.surgeon
        aip = group.add_group("SIU_S12_PERSONNEL_RESOURCE").aip
        aip.aip_1 = "1"
        aip.aip_3.xcn_1 = _st(surgeon.code)
        aip.aip_3.xcn_2.fn_1 = _st(surgeon.name)
        aip.aip_3.xcn_9.hd_2 = _st(conf.surgeon_system())
        aip.aip_3.xcn_9.hd_3 = URI
        _coded(aip.aip_4, "SURGEON", "Surgeon", "")
        aip.aip_6 = start
        aip.aip_9 = str(minutes)
        _coded(aip.aip_10, *MINUTES)


def _coded(element, code: str, text: str, system: str) -> None:
    element.ce_1 = _st(code)
    element.ce_2 = _st(text)
    if system:
        element.ce_3 = _id(system)


def _minutes(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() / 60)


def _st(value: str):
    """Free text as an ST value: hl7apy escapes the separators it holds when it writes ER7."""
    return datatype_factory("ST", str(value)[:ST_LENGTH], version=VERSION,
                            validation_level=STRICT)


def _id(value: str):
    return datatype_factory("ID", str(value), version=VERSION, validation_level=STRICT)


def _is(value: str):
    return datatype_factory("IS", str(value)[:IS_LENGTH].rstrip(), version=VERSION,
                            validation_level=STRICT)
