"""ADT patient updates taken in from the hospital's record system: A08 (update patient
information) and A31 (update person information) correct the name, date of birth, phone, email
and preferred language of the patient registered under the message's MRN.

The change goes through scheduling's patient_update, with its checks (a phone in E.164, a date of
birth a patient can have, a language the unit writes messages in), as the `hl7-listener` account:
the audit trail names that account like any member of staff, and the patient's unsent messages
are planned again when the way to reach them changed.

Every message is answered with an original-mode acknowledgement, built by python-hl7 from the
message itself (sender and receiver swapped, MSA-2 its control id):
- AA: applied, or no patient here holds the MRN (the hospital has many patients the unit never
  sees: nothing is written to patients, the message is logged as ignored);
- AE: the message is malformed (no MSH, no PID, no MRN, a date or phone that is not one) or the
  change fails a check; MSA-3 and ERR say why, nothing is written to patients;
- AR: any other message type or event; this listener takes in A08 and A31 only.
Each message leaves one InboundMessage row: its type, control id, outcome and reason; never its
text (it is the patient's data), and the reasons name fields, never their values."""

import logging
from dataclasses import dataclass, field
from datetime import date

import hl7
from auditlog.context import set_actor
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from fhir.conf import mrn_system
from scheduling.errors import SchedulingError
from scheduling.models import Patient
from scheduling.services.patients import patient_update

from .models import InboundMessage, InboundStatus

log = logging.getLogger(__name__)

ACCOUNT_USERNAME = "hl7-listener"
UPDATE_EVENTS = ("A08", "A31")

# HL7 table 0357, message error condition codes.
SEGMENT_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNKNOWN_KEY = "204"
INTERNAL_ERROR = "207"
ERROR_NAMES = {
    SEGMENT_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT: "Unsupported event code",
    UNKNOWN_KEY: "Unknown key identifier",
    INTERNAL_ERROR: "Application internal error",
}

# PID-15 in ISO 639-2 (HL7 table 0296 suggests it), as the ISO 639-1 codes of settings.LANGUAGES.
ISO_639_2 = {
    "eng": "en", "spa": "es", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "ita": "it",
    "por": "pt", "zho": "zh", "chi": "zh", "vie": "vi", "kor": "ko", "rus": "ru", "ara": "ar",
    "tgl": "tl", "pol": "pl", "hin": "hi", "jpn": "ja", "hat": "ht", "nld": "nl", "dut": "nl",
}
# What a field holds to say "remove the value" (HL7's explicit null), as against empty: no change.
HL7_NULL = '""'
# The telecom equipment types (XTN-3) and use codes (XTN-2) that are not a phone.
NOT_PHONE_EQUIPMENT = {"INTERNET", "X.400", "FX"}
NOT_PHONE_USE = {"NET"}


class Refused(Exception):
    """The message cannot be applied: answered `ack_code` with `reason` (field names, never
    values), and ERR-2/3 pointing at the field."""

    def __init__(self, reason: str, *, error: str, location: str = "", ack_code: str = "AE"):
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.location = location
        self.ack_code = ack_code


@dataclass
class PatientChanges:
    """The PID's values for patient_update, and notes on what was left as it was."""

    mrn: str
    changes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def adt_apply(er7_text: str) -> str:
    """Apply one ADT message given as ER7 text and answer its acknowledgement, as ER7."""
    text = er7_text.strip().replace("\r\n", "\r").replace("\n", "\r")
    try:
        message = hl7.parse(text)
    except (hl7.ParseException, IndexError, ValueError):
        return _refused_before_header(
            "Not an HL7 v2 message: it does not start with an MSH segment")
    if str(message[0][0]) != "MSH":
        return _refused_before_header("A batch (FHS/BHS): send one message at a time")
    message_type, control_id = _type_of(message), _value(message, "MSH.F10")
    if len(message.segment("MSH")) <= 12:
        return _refused_before_header(
            "MSH: the header stops before MSH-12 (type, control id, processing id, version)",
            message_type=message_type, control_id=control_id)
    try:
        status = _applied(message, message_type=message_type, control_id=control_id)
    except Refused as refused:
        _recorded(message_type, control_id, InboundStatus.REJECTED, None, refused.reason)
        log.warning("HL7 %s %s refused (%s): %s", message_type or "-", control_id or "-",
                    refused.ack_code, refused.reason)
        return _ack(message, refused.ack_code, refused)
    except Exception as exc:
        # The database away, most likely: AR asks the engine to send the message again later.
        # The exception's class only: its text may quote the message's values.
        log.error("HL7 %s %s not applied: %s", message_type or "-", control_id or "-",
                  type(exc).__name__)
        return _ack(message, "AR", Refused(
            "Not applied: send it again later", error=INTERNAL_ERROR, ack_code="AR"))
    log.info("HL7 %s %s %s", message_type, control_id, status)
    return _ack(message, "AA")


def listener_account():
    """The account ADT changes are made as: no password, no staff role, no site."""
    account, created = get_user_model().objects.get_or_create(username=ACCOUNT_USERNAME)
    if created:
        account.set_unusable_password()
        account.save(update_fields=["password"])
    return account


def _applied(message: hl7.Message, *, message_type: str, control_id: str) -> str:
    """The message applied (or ignored, no such patient) and recorded: its status; Refused
    when it cannot be."""
    kind, event = _value(message, "MSH.F9.R1.C1"), _value(message, "MSH.F9.R1.C2")
    if kind != "ADT":
        raise Refused("MSH-9: only ADT messages are taken in", error=UNSUPPORTED_MESSAGE_TYPE,
                      location="MSH^1^9", ack_code="AR")
    if event not in UPDATE_EVENTS:
        raise Refused("MSH-9: only the events A08 and A31 are taken in", error=UNSUPPORTED_EVENT,
                      location="MSH^1^9", ack_code="AR")
    read = _pid_read(message)
    patient = _patient(read.mrn)
    if patient is None:
        _recorded(message_type, control_id, InboundStatus.IGNORED, None,
                  "No patient is registered under the MRN.")
        return InboundStatus.IGNORED
    account = listener_account()
    try:
        with transaction.atomic(), set_actor(account):
            patient_update(patient=patient, by=account, from_record_system=True, **read.changes)
            _recorded(message_type, control_id, InboundStatus.APPLIED, patient,
                      "; ".join(read.notes))
    except SchedulingError as error:
        field_name = next(iter(error.errors), "")
        where = FIELD_SEGMENTS.get(field_name, "PID")
        raise Refused(f"{where}: {ERROR_WORDS.get(error.code, error.detail)}",
                      error=DATA_TYPE_ERROR, location=where.replace("-", "^1^")) from None
    return InboundStatus.APPLIED


def _patient(mrn: str) -> Patient | None:
    """The patient under `mrn` in any letter case, as the front desk finds them; the one spelt
    exactly so when two differ only in case, which the unit's own registration never makes."""
    holders = list(Patient.objects.filter(mrn__iexact=mrn)[:10])
    exact = [patient for patient in holders if patient.mrn == mrn]
    if len(holders) > 1 and not exact:
        raise Refused("PID-3: the MRN, in another letter case, names more than one patient",
                      error=UNKNOWN_KEY, location="PID^1^3")
    return (exact or holders or [None])[0]


def _pid_read(message: hl7.Message) -> PatientChanges:
    try:
        pid = message.segment("PID")
    except KeyError:
        raise Refused("No PID segment", error=SEGMENT_ERROR, location="PID") from None
    read = PatientChanges(mrn=_mrn(message, pid))
    name = _legal_name(message, pid)
    family, given = _value(message, f"{name}.C1"), _value(message, f"{name}.C2")
    if family and family != HL7_NULL:
        read.changes["last_name"] = family
    if given and given != HL7_NULL:
        read.changes["first_name"] = given
    born = _value(message, "PID.F7.R1.C1")
    if born:
        read.changes["date_of_birth"] = _birth_date(born)
    phone, email = _telecom(message, pid)
    if phone is not None:
        read.changes["phone"] = phone
    if email is not None:
        read.changes["email"] = email
    language = _value(message, "PID.F15.R1.C1").strip().lower()
    if language and language != HL7_NULL:
        language = ISO_639_2.get(language, language)
        if language in dict(settings.LANGUAGES):
            read.changes["language"] = language
        else:
            read.notes.append("PID-15: no messages are written in that language; kept as it was")
    return read


def _mrn(message: hl7.Message, pid) -> str:
    """PID-3's identifier under the hospital's MRN system (CX-4's universal id), else its first of
    type MR (CX-5), else its first."""
    identifiers = []
    for repetition in range(1, _repetitions(pid, 3) + 1):
        key = f"PID.F3.R{repetition}"
        value = _value(message, f"{key}.C1").strip()
        if value and value != HL7_NULL:
            authority = {_value(message, f"{key}.C4.S{part}") for part in (1, 2)}
            identifiers.append((value, authority, _value(message, f"{key}.C5").upper()))
    if not identifiers:
        raise Refused("PID-3: no patient identifier (MRN)", error=REQUIRED_FIELD_MISSING,
                      location="PID^1^3")
    for wanted in (lambda i: mrn_system() in i[1], lambda i: i[2] == "MR", lambda i: True):
        for identifier in identifiers:
            if wanted(identifier):
                return identifier[0]
    raise AssertionError("unreachable")


def _legal_name(message: hl7.Message, pid) -> str:
    """The accessor key of PID-5's legal name (XPN-7 "L"), else of its first."""
    for repetition in range(1, _repetitions(pid, 5) + 1):
        if _value(message, f"PID.F5.R{repetition}.C7").upper() == "L":
            return f"PID.F5.R{repetition}"
    return "PID.F5.R1"


def _birth_date(value: str) -> date:
    """PID-7's date: a DTM of at least a full day (YYYYMMDD); a time after it is dropped."""
    try:
        if len(value) < 8 or not value[:8].isdigit():
            raise ValueError(value)
        return hl7.parse_datetime(value).date()
    except (ValueError, TypeError):
        raise Refused("PID-7: not a date of birth (YYYYMMDD)", error=DATA_TYPE_ERROR,
                      location="PID^1^7") from None


def _telecom(message: hl7.Message, pid) -> tuple[str | None, str | None]:
    """The phone and the email address from PID-13 (home) and PID-14 (business): a mobile phone
    first, as text messages go to it, else the first phone, home before business. None: not
    given, no change; "": removed (HL7's null)."""
    phones, email, removed = [], None, False
    for number in (13, 14):
        if _value(message, f"PID.F{number}") == HL7_NULL:
            removed = True
            continue
        for repetition in range(1, _repetitions(pid, number) + 1):
            key = f"PID.F{number}.R{repetition}"
            use = _value(message, f"{key}.C2").upper()
            equipment = _value(message, f"{key}.C3").upper()
            address = _value(message, f"{key}.C4").strip()
            if address and email is None:
                email = address
            if use in NOT_PHONE_USE or equipment in NOT_PHONE_EQUIPMENT:
                continue
            phone = _phone_text(message, key)
            if phone:
                phones.append((equipment != "CP", phone))
    if phones:
        return min(phones, key=lambda choice: choice[0])[1], email
    return ("" if removed else None), ("" if removed and email is None else email)


def _phone_text(message: hl7.Message, key: str) -> str:
    """XTN's number: the unformatted one (XTN-12), else country, area and local (XTN-5/6/7),
    else the formatted one of older versions (XTN-1)."""
    unformatted = _value(message, f"{key}.C12").strip()
    if unformatted:
        return unformatted
    country, area, local = (_value(message, f"{key}.C{part}").strip() for part in (5, 6, 7))
    if local:
        return f"+{country} {area} {local}" if country else f"{area} {local}".strip()
    return _value(message, f"{key}.C1").strip()


# The service's fields, as the PID fields they came from; the words of the checks whose own
# message quotes the value (patient data, kept out of the log and the reason).
FIELD_SEGMENTS = {
    "first_name": "PID-5", "last_name": "PID-5", "date_of_birth": "PID-7", "phone": "PID-13",
    "email": "PID-13", "language": "PID-15",
}
ERROR_WORDS = {
    "invalid_phone": "not a valid phone number",
    "invalid_email": "not a valid email address",
    "date_of_birth_in_future": "the date of birth is in the future",
    "date_of_birth_too_early": "the date of birth is before 1900 or more than 120 years ago",
}


def _recorded(message_type: str, control_id: str, status: str, patient, reason: str) -> None:
    InboundMessage.objects.create(
        message_type=message_type[:20], control_id=control_id[:40], status=status,
        patient=patient, reason=reason[:300],
    )


def _type_of(message: hl7.Message) -> str:
    """MSH-9 as type and event, "ADT^A08"; without the message structure."""
    return "^".join(filter(None, [_value(message, "MSH.F9.R1.C1"),
                                  _value(message, "MSH.F9.R1.C2")]))


def _refused_before_header(reason: str, *, message_type: str = "", control_id: str = "") -> str:
    """No MSH to answer from: the acknowledgement of a stand-in header naming this unit as the
    receiver, with no control id to echo."""
    _recorded(message_type, control_id, InboundStatus.REJECTED, None, reason)
    log.warning("HL7 %s %s refused (AE): %s", message_type or "-", control_id or "-", reason)
    stand_in = hl7.parse(
        f"MSH|^~\\&|||{settings.HL7_SENDING_APPLICATION}|{settings.HL7_SENDING_FACILITY}"
        "|||^||P|2.5"
    )
    return _ack(stand_in, "AE", Refused(reason, error=SEGMENT_ERROR, location="MSH"))


def _ack(message: hl7.Message, ack_code: str, refused: Refused | None = None) -> str:
    """python-hl7's acknowledgement of `message` (MSH-3/4 and 5/6 swapped, MSA-2 its control id),
    signed as this unit, with MSA-3 and an ERR segment when refused."""
    ack = message.create_ack(
        ack_code,
        application=settings.HL7_SENDING_APPLICATION,
        facility=settings.HL7_SENDING_FACILITY,
    )
    if refused is not None:
        msa = ack.segment("MSA")
        msa.assign_field(ack.escape(refused.reason), 3)
        err = ack.create_segment([ack.create_field(["ERR"])])
        if refused.location:
            for position, part in enumerate(refused.location.split("^"), start=1):
                err.assign_field(part, 2, 1, position)
        err.assign_field(refused.error, 3, 1, 1)
        err.assign_field(ERROR_NAMES[refused.error], 3, 1, 2)
        err.assign_field("HL70357", 3, 1, 3)
        err.assign_field("E", 4)
        err.assign_field(ack.escape(refused.reason), 8)
        ack.append(err)
    return str(ack)


def _value(message: hl7.Message, key: str) -> str:
    """The value at an accessor key ("PID.F5.R1.C2"), unescaped; "" where the message has none."""
    try:
        return str(message[key])
    except (IndexError, KeyError):
        return ""


def _repetitions(segment, number: int) -> int:
    try:
        return len(segment[number])
    except IndexError:
        return 0
