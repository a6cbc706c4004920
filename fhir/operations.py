"""The IHE ITI Scheduling operations on Appointment: $find (ITI-115) the free times a case could
have, $hold (ITI-116) one of them for a few minutes, $book (ITI-117) a case into it, or move or
cancel a booked one. Each goes through the same services as the pages and the REST API
(scheduling.services), so a booking made here is screened, conflict-checked and messaged exactly
as one made at the front desk.

Ids: a time $find offers is named by what it is (`proposal-<site>-<procedure type>-<levels>-
<surgeon or 0>-<r if the surgeon was asked for, else a>-<minutes since 1970, UTC>`), so nothing is
stored until it is held; a hold is `hold-<id>`; a booked case is its own id, as for a read."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from api.errors import ApiError
from scheduling import services, timing
from scheduling.models import Case, Patient, ProcedureType, Site, SlotHold, Surgeon
from scheduling.screening import ScreeningAnswers
from scheduling.selectors import patient_get, visible_sites
from scheduling.services import holds
from scheduling.services.booking import check_day, check_levels
from scheduling.slots import DayBook, Slot

from . import conf, params, resources

FIND_DAYS = 14
PROPOSAL = re.compile(r"proposal-(\d{1,12})-(\d{1,12})-(\d{1,2})-(\d{1,12})-([ra])-(\d{1,12})")
HOLD = re.compile(r"hold-(\d{1,12})")
# The screening answers a booking needs, as sub-extensions of the screening extension.
SCREENING_ANSWERS = {
    "active-infection": ("active_infection", "valueBoolean"),
    "fracture-painful": ("fracture_painful", "valueBoolean"),
    "bleeding-disorder": ("bleeding_disorder", "valueBoolean"),
    "tumor-in-canal": ("tumor_in_canal", "valueBoolean"),
    "cement-allergy": ("cement_allergy", "valueBoolean"),
    "traumatic": ("traumatic", "valueBoolean"),
    "conservative-treatment-weeks": ("conservative_treatment_weeks", "valueInteger"),
    "imaging-on-file": ("imaging_on_file", "valueBoolean"),
}
VALUE_KEYS = ("valueString", "valueDate", "valueDateTime", "valueInstant", "valueCode",
              "valueUri", "valueId")


def listed(value) -> list:
    """A repeating element as sent: a list, or nothing if it is not one."""
    return value if isinstance(value, list) else []


def bad_resource(path: str, detail: str) -> ApiError:
    """A body that cannot be read, named by the FHIRPath of what is wrong in it."""
    return ApiError("fhir_invalid_resource", f"{path}: {detail}", field=path)


# The times a case could have

@dataclass(frozen=True)
class Proposal:
    site: Site
    procedure_type: ProcedureType
    levels: int
    surgeon: Surgeon | None
    surgeon_requested: bool
    procedure_start: datetime

    @property
    def id(self) -> str:
        minutes = int(self.procedure_start.timestamp() // 60)
        return (f"proposal-{self.site.pk}-{self.procedure_type.pk}-{self.levels}-"
                f"{self.surgeon.pk if self.surgeon else 0}-"
                f"{'r' if self.surgeon_requested else 'a'}-{minutes}")


def proposal_read(text: str, user, path: str) -> Proposal:
    """The time a proposal id names, of one of the user's sites; refused if it names nothing."""
    found = PROPOSAL.fullmatch(text)
    if found is None:
        raise bad_resource(path, "is not the id of a time Appointment/$find offered.")
    site_id, type_id, levels, surgeon_id, asked, minutes = found.groups()
    site = visible_sites(user).filter(pk=int(site_id)).first()
    procedure_type = ProcedureType.objects.filter(pk=int(type_id)).first()
    surgeon = Surgeon.objects.filter(pk=int(surgeon_id), sites=site).first() if site else None
    if site is None or procedure_type is None or (int(surgeon_id) and surgeon is None):
        raise ApiError("not_found", "No time with this id is offered to you.")
    try:
        start = datetime.fromtimestamp(int(minutes) * 60, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise bad_resource(path, "is not the id of a time Appointment/$find offered.") from None
    return Proposal(site, procedure_type, int(levels), surgeon, asked == "r", start)


def proposals_find(
    *,
    sites: list[Site],
    procedure_type: ProcedureType,
    levels: int,
    first_day: date,
    last_day: date,
    surgeon: Surgeon | None,
    not_before: datetime,
    count: int,
) -> list[tuple[Proposal, Slot]]:
    """The free times on these days at these sites, earliest first, at most `count`."""
    found = []
    for site in sites:
        day = first_day
        while day <= last_day:
            try:
                check_day(site, day)
            except ApiError:
                day += timedelta(days=1)
                continue
            book = DayBook.load(
                site=site, procedure_type=procedure_type, levels=levels, day=day, surgeon=surgeon
            )
            for slot in book.free_slots(arrival_not_before=not_before):
                proposal = Proposal(site, procedure_type, levels, slot.surgeon,
                                    surgeon is not None, slot.times.procedure_start)
                found.append((proposal, slot))
            day += timedelta(days=1)
    found.sort(key=lambda pair: (pair[0].procedure_start, pair[0].site.pk))
    return found[:count]


def find_inputs(query: dict[str, str], user) -> dict:
    """$find's parameters (from the query or a Parameters body, as text) read and checked."""
    known = {"start", "end", "service-type", "levels", "practitioner", "location", "patient",
             "_count"}
    for name in query:
        if name not in known:
            raise ApiError("fhir_unknown_parameter",
                           f"{name[:40]}: $find takes {', '.join(sorted(known))}.")
    if "start" not in query or "service-type" not in query:
        raise params.invalid("start" if "start" not in query else "service-type",
                             "is required by $find.")
    start = params.date_range("start", query["start"]).low
    end = params.date_range("end", query["end"]).low if "end" in query else start
    if end < start:
        raise params.invalid("end", "is before start.")
    if (end.date() - start.date()).days >= FIND_DAYS:
        raise params.invalid("end", f"$find looks at most {FIND_DAYS} days ahead at once.")
    system, code = params.token(query["service-type"])
    procedure_type = None
    if system in (None, conf.procedure_system()) and code:
        procedure_type = ProcedureType.objects.filter(code=code, active=True).first()
    if procedure_type is None:
        raise params.invalid("service-type", f"no procedure type has the code “{code[:40]}” "
                             f"under {conf.procedure_system()}.")
    levels = params.whole_number("levels", query.get("levels", "1"), maximum=99)
    try:
        check_levels(procedure_type, levels)
    except ApiError as error:
        raise params.invalid("levels", error.detail) from None
    sites = list(visible_sites(user).order_by("pk"))
    if "location" in query:
        location = params.reference_id("location", query["location"], "Location")
        wanted = params.number_id(location.removeprefix(resources.SITE_PREFIX))
        sites = [site for site in sites
                 if location.startswith(resources.SITE_PREFIX) and site.pk == wanted]
        if not sites:
            raise params.invalid("location", "is not one of your sites (Location/site-<id>).")
    surgeon = None
    if "practitioner" in query:
        pk = params.number_id(params.reference_id("practitioner", query["practitioner"],
                                                  "Practitioner"))
        surgeon = Surgeon.objects.filter(pk=pk, active=True, sites__in=sites).distinct().first()
        if surgeon is None:
            raise params.invalid("practitioner", "is not a surgeon of your sites.")
        works_at = set(surgeon.sites.values_list("pk", flat=True))
        sites = [site for site in sites if site.pk in works_at]
    patient = None
    if "patient" in query:
        pk = params.number_id(params.reference_id("patient", query["patient"], "Patient"))
        patient = patient_get(pk, user) if pk else None
        if patient is None:
            raise params.invalid("patient", "is not a patient of your sites.")
    count = params.whole_number("_count", query.get("_count", str(params.DEFAULT_COUNT)),
                                maximum=params.MAX_COUNT)
    return {
        "sites": sites, "procedure_type": procedure_type, "levels": levels,
        "first_day": start.date(), "last_day": end.date(), "surgeon": surgeon,
        "not_before": max(start, timezone.now()), "count": count, "patient": patient,
    }


# Parameters bodies

def parameters_read(body) -> dict[str, list[dict]]:
    """A Parameters resource's parameters by name."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise bad_resource("Parameters", "send a Parameters resource.")
    listed = body.get("parameter", [])
    if not isinstance(listed, list):
        raise bad_resource("Parameters.parameter", "must be a list.")
    named: dict[str, list[dict]] = {}
    for index, parameter in enumerate(listed):
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise bad_resource(f"Parameters.parameter[{index}]", "needs a name.")
        named.setdefault(parameter["name"], []).append(parameter)
    return named


def parameters_as_query(named: dict[str, list[dict]]) -> dict[str, str]:
    """$find's Parameters as the text its query would carry."""
    query = {}
    for name, listed in named.items():
        parameter = listed[0]
        if "valueInteger" in parameter:
            query[name] = str(parameter["valueInteger"])
        elif isinstance(parameter.get("valueReference"), dict):
            query[name] = str(parameter["valueReference"].get("reference", ""))
        elif isinstance(parameter.get("valueCoding"), dict):
            coding = parameter["valueCoding"]
            query[name] = f"{coding.get('system', '')}|{coding.get('code', '')}"
        else:
            value = next((parameter[key] for key in VALUE_KEYS if key in parameter), None)
            if not isinstance(value, str):
                raise bad_resource(f"Parameters.parameter[{name}]", "has no value to read.")
            query[name] = value
    return query


def appointment_of(named: dict[str, list[dict]]) -> dict | None:
    listed = named.get("appointment-resource")
    if not listed:
        return None
    resource = listed[0].get("resource")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise bad_resource("Parameters.parameter[appointment-resource].resource",
                           "must be an Appointment.")
    return resource


def time_named(named: dict[str, list[dict]], appointment: dict | None) -> str | None:
    """The id of the time to hold or book: `appointment-reference`, else the Appointment's."""
    listed = named.get("appointment-reference")
    if listed:
        reference = listed[0].get("valueReference")
        text = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(text, str) or not text.startswith("Appointment/"):
            raise bad_resource("Parameters.parameter[appointment-reference].valueReference",
                               "must be a reference to an Appointment.")
        return text.rpartition("/")[2]
    if appointment is not None and isinstance(appointment.get("id"), str):
        return appointment["id"]
    return None


# Holding

def hold_minutes() -> int:
    return int(getattr(settings, "VERTEBRO_FHIR_HOLD_MINUTES", holds.HOLD_MINUTES))


def taken_if_busy(error: ApiError) -> ApiError:
    """A time offered with a surgeon who is no longer free was taken since it was offered."""
    if error.code != "surgeon_unavailable":
        return error
    return ApiError("slot_taken", "The time was taken since it was offered; find another.")


def hold_make(proposal: Proposal, *, by) -> SlotHold:
    try:
        return holds.slot_hold(
            site=proposal.site, procedure_type=proposal.procedure_type, levels=proposal.levels,
            day=timing.local_day(proposal.procedure_start, proposal.site.zone),
            start=proposal.procedure_start, by=by, surgeon=proposal.surgeon,
            surgeon_requested=proposal.surgeon_requested, minutes=hold_minutes(),
        )
    except ApiError as error:
        raise taken_if_busy(error) from None


def hold_get(text: str, user, path: str) -> SlotHold:
    found = HOLD.fullmatch(text)
    if found is None:
        raise bad_resource(path, "is not the id of a hold ($hold's answer).")
    hold = (SlotHold.objects.select_related("site", "procedure_type", "surgeon")
            .filter(pk=int(found[1]), site__in=visible_sites(user)).first())
    if hold is None:
        raise ApiError("not_found", "No hold with this id is yours to book.")
    return hold


# Booking

def _patient_of(appointment: dict, user) -> Patient:
    for participant in listed(appointment.get("participant")):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = actor.get("reference") if isinstance(actor, dict) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            pk = params.number_id(reference.removeprefix("Patient/"))
            patient = patient_get(pk, user) if pk else None
            if patient is None:
                raise ApiError("not_found", f"{reference[:60]} is not a patient of your sites.")
            return patient
    raise bad_resource("Appointment.participant", "needs the patient (actor Patient/<id>).")


def screening_read(appointment: dict) -> tuple[ScreeningAnswers, str | None, bool]:
    """The screening answers, an override's reason and whether a review is asked for, from the
    Appointment's screening extension."""
    url = conf.screening_extension_url()
    path = f"Appointment.extension('{url}')"
    outer = [e for e in listed(appointment.get("extension"))
             if isinstance(e, dict) and e.get("url") == url]
    if not outer:
        raise bad_resource(path, "the screening answers are required to book.")
    inner = {e.get("url"): e for e in listed(outer[0].get("extension")) if isinstance(e, dict)}
    answers = {}
    for name, (field, key) in SCREENING_ANSWERS.items():
        value = inner.get(name, {}).get(key)
        wanted = int if key == "valueInteger" else bool
        if type(value) is not wanted:
            raise bad_resource(f"{path}.extension('{name}').{key}", "is missing.")
        answers[field] = value
    reason = inner.get("override-reason", {}).get("valueString")
    review = inner.get("request-review", {}).get("valueBoolean") is True
    return ScreeningAnswers(**answers), reason if isinstance(reason, str) else None, review


def case_book_into(*, hold: SlotHold | None, proposal: Proposal | None, appointment: dict,
                   user) -> Case:
    """A new case at the held or proposed time, screened as at the front desk."""
    patient = _patient_of(appointment, user)
    screening, reason, review = screening_read(appointment)
    where = hold or proposal
    try:
        return services.case_book(
            site=where.site, procedure_type=where.procedure_type, levels=where.levels,
            day=timing.local_day(where.procedure_start, where.site.zone),
            start=where.procedure_start, patient=patient, screening=screening,
            surgeon=where.surgeon if where.surgeon_requested else None,
            override_reason=reason, request_review=review, booked_by=user, hold=hold,
        )
    except ApiError as error:
        raise taken_if_busy(error) from None


def case_move_into(*, case: Case, hold: SlotHold | None, proposal: Proposal | None,
                   user, expected_version: str | None) -> Case:
    where = hold or proposal
    if where.site.pk != case.site_id or where.procedure_type.pk != case.procedure_type_id or (
        where.levels != case.levels
    ):
        raise bad_resource("Parameters.parameter[appointment-reference]",
                           "names a time found for another site, procedure or number of levels.")
    return services.case_reschedule(
        case=case, by=user, start=where.procedure_start,
        day=timing.local_day(where.procedure_start, where.site.zone),
        expected_version=expected_version, hold=hold,
    )


def cancel_reason(appointment: dict) -> str:
    reason = appointment.get("cancelationReason")
    text = ""
    if isinstance(reason, dict):
        codings = reason.get("coding") if isinstance(reason.get("coding"), list) else []
        text = reason.get("text") or next(
            (c.get("display") for c in codings if isinstance(c, dict) and c.get("display")), "")
    if not isinstance(text, str) or not text.strip():
        raise bad_resource("Appointment.cancelationReason", "say why the case is cancelled.")
    return text.strip()

