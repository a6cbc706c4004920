"""Reads shared by the API and the pages; each loads what its page needs in a fixed number of
queries, whatever the number of cases."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from auditlog.models import LogEntry
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from notifications.models import case_not_reached

from . import configuration
from .closure_models import case_on_closed_day
from .errors import SchedulingError
from .models import (
    Case,
    CaseEvent,
    CaseMedication,
    CaseStatus,
    Closure,
    Drug,
    Patient,
    PatientSite,
    ProcedureType,
    Site,
    Stage,
    Surgeon,
    WaitingListEntry,
)
from .slots import DayBook, Slot

MAX_ID = 2**63 - 1
PATIENT_CHANGES_SHOWN = 20


def visible_sites(user) -> QuerySet[Site]:
    """The sites whose cases this user may see: their own (every site for a superuser)."""
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(staff=user)


def patients_visible(user) -> QuerySet[Patient]:
    """Who may see a patient, the one rule: staff see the patients who have (or had) a case or a
    waiting-list entry at one of their sites, or who were linked to one of them by a clerk who
    proved the patient was in front of them. Every page, API answer, admin screen and error
    message that finds a patient goes through here; the others are "not found"."""
    if user.is_superuser:
        return Patient.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Patient.objects.none()
    sites = Site.objects.filter(staff=user).values("pk")
    return Patient.objects.filter(
        Exists(Case.objects.filter(patient=OuterRef("pk"), site__in=sites))
        | Exists(WaitingListEntry.objects.filter(patient=OuterRef("pk"), site__in=sites))
        | Exists(PatientSite.objects.filter(patient=OuterRef("pk"), site__in=sites))
    )


def patient_get(pk: int, user) -> Patient | None:
    """The patient with this id if the user may see them, else None (answered as not found)."""
    if not 0 < pk <= MAX_ID:
        return None
    return patients_visible(user).filter(pk=pk).first()


def site_get(code: str, user) -> Site:
    """The user's site with this code, with the configuration's stamp read in the same query
    (configuration.py: what the booking then reads of the unit's setup is kept between
    requests until the stamp changes)."""
    site = (
        visible_sites(user)
        .filter(code=code)
        .annotate(**{configuration.STAMP_FIELD: configuration.stamp_read()})
        .first()
    )
    if site is None:
        raise SchedulingError("unknown_site", f"No site has the code “{code}”.", field="site")
    return site


def procedure_type_get(code: str, *, site: Site | None = None) -> ProcedureType:
    """The bookable procedure type with this code, its stages prefetched in order; kept between
    requests (configuration.py), checked against the stamp read with `site` when given."""
    procedure_type = configuration.procedure_type_bookable(code, site=site)
    if procedure_type is None:
        raise SchedulingError(
            "unknown_procedure_type",
            f"No procedure type has the code “{code}”.",
            field="procedure_type",
        )
    return procedure_type


def surgeon_get(code: str, site: Site) -> Surgeon:
    surgeon = Surgeon.objects.filter(code=code, active=True, sites=site).first()
    if surgeon is None:
        raise SchedulingError(
            "unknown_surgeon", f"No surgeon “{code}” works at {site.name}.", field="surgeon"
        )
    return surgeon


def drugs_get(codes: list[str]) -> list[Drug]:
    if not codes:
        return []
    drugs = {drug.code: drug for drug in Drug.objects.filter(code__in=codes, active=True)}
    unknown = [code for code in codes if code not in drugs]
    if unknown:
        raise SchedulingError(
            "unknown_drug",
            "Not in the medication table: " + ", ".join(unknown) + ".",
            field="medications",
        )
    return [drugs[code] for code in dict.fromkeys(codes)]


def cases_with_details() -> QuerySet[Case]:
    return Case.objects.select_related(
        "site", "patient", "procedure_type", "surgeon", "screening_overridden_by"
    ).annotate(
        not_reached=case_not_reached(), on_closed_day=case_on_closed_day()
    ).prefetch_related(
        Prefetch("stages", Stage.objects.select_related("resource").order_by("position")),
        Prefetch("held_medications", CaseMedication.objects.select_related("drug")),
        Prefetch("events", CaseEvent.objects.select_related("by").order_by("at", "id")),
    )


def case_get(pk: int, user) -> Case | None:
    """The case, or None if there is none or it belongs to a site the user does not work at
    (both answer 404: the API does not confirm that another site's case exists)."""
    if not 0 < pk <= MAX_ID:
        return None
    return cases_with_details().filter(pk=pk, site__in=visible_sites(user)).first()


def cases_awaiting_review(*, user) -> list[Case]:
    """The clinicians' review list: bookings of the user's sites that a screening answer blocked,
    the hold that runs out first on top."""
    return list(
        cases_with_details()
        .filter(status=CaseStatus.NEEDS_REVIEW, site__in=visible_sites(user))
        .select_related("booked_by")
        .order_by("review_hold_until", "pk")
    )


def cases_of_day(site: Site, day: date) -> list[Case]:
    return list(cases_with_details().filter(site=site, day=day).order_by("procedure_start"))


def site_closed_why(*, site: Site, day: date) -> str | None:
    """Why the whole site is shut on the day: a closure's reason, or "" on a weekday it never
    opens; None when it opens."""
    closure = Closure.objects.covering(day).filter(
        site=site, resource__isnull=True, surgeon__isnull=True
    ).first()
    if closure is not None:
        return closure.reason
    if not site.opening_hours.filter(weekday=day.weekday()).exists():
        return ""
    return None


def next_open_day(*, site: Site, day: date, days: int = 60) -> date | None:
    """The first day from `day` on (itself included) that the site opens, within `days`; in
    two queries."""
    weekdays = set(site.opening_hours.values_list("weekday", flat=True))
    last = day + timedelta(days=days - 1)
    closed = set()
    for start, end in Closure.objects.filter(
        site=site, resource__isnull=True, surgeon__isnull=True,
        start_date__lte=last, end_date__gte=day,
    ).values_list("start_date", "end_date"):
        closed.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    for n in range(days):
        candidate = day + timedelta(days=n)
        if candidate.weekday() in weekdays and candidate not in closed:
            return candidate
    return None


def closures_of_site(*, site: Site, from_day: date | None = None) -> QuerySet[Closure]:
    """The site's own closures (the whole site, its rooms and bays, its surgeons' leave as
    entered here), first day first; from `from_day` on when given (those not over by then)."""
    closures = Closure.objects.filter(site=site).select_related(
        "site", "resource", "surgeon", "created_by"
    )
    if from_day is not None:
        closures = closures.filter(end_date__gte=from_day)
    return closures


def closure_get(*, pk: int, user, site_code: str | None = None) -> Closure | None:
    """A closure of one of the user's sites (of the site `site_code` when given), or None: one
    of another site is not found, like one that does not exist."""
    if not 0 < pk <= MAX_ID:
        return None
    closures = Closure.objects.filter(pk=pk, site__in=visible_sites(user))
    if site_code is not None:
        closures = closures.filter(site__code=site_code)
    return closures.select_related("site", "resource", "surgeon").first()


def closures_of_day(*, site: Site, day: date) -> list[Closure]:
    """The closures of the site, its rooms and bays, and the leave of its surgeons that cover
    the day, for the pages that show the day."""
    return list(
        Closure.objects.covering(day)
        .filter(Q(site=site) | Q(surgeon__sites=site))
        .select_related("resource", "surgeon").distinct()
    )


def slots_free(
    *,
    site: Site,
    procedure_type: ProcedureType,
    levels: int,
    day: date,
    surgeon: Surgeon | None = None,
    arrival_not_before=None,
) -> list[Slot]:
    book = DayBook.load(
        site=site, procedure_type=procedure_type, levels=levels, day=day, surgeon=surgeon
    )
    return book.free_slots(arrival_not_before=arrival_not_before)


@dataclass(frozen=True)
class PatientChange:
    at: datetime
    by: str
    what: list[tuple[str, str, str]]  # field's label, before, after


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    cases: list[Case]
    # Bone-cement allergy is a screening answer: the visible cases that reported it.
    cement_allergy_cases: list[Case]
    changes: list[PatientChange]


def patient_record_get(pk: int, user) -> PatientRecord | None:
    """The patient's record as the user may see it: the patient (through patients_visible) with
    their cases at the user's sites, newest first, and the changes made to the record since it
    was created (the audit log's, with who made them). None: not found for this user."""
    patient = patient_get(pk, user)
    if patient is None:
        return None
    cases = list(
        Case.objects.filter(patient=patient, site__in=visible_sites(user))
        .select_related("site", "procedure_type")
        .order_by("-day", "-procedure_start")
    )
    entries = LogEntry.objects.get_for_object(patient).filter(
        action=LogEntry.Action.UPDATE
    ).select_related("actor").order_by("-timestamp")[:PATIENT_CHANGES_SHOWN]
    labels = {field.name: str(field.verbose_name) for field in Patient._meta.fields}
    changes = [
        PatientChange(
            at=entry.timestamp,
            by=(entry.actor.get_full_name() or entry.actor.get_username()) if entry.actor else "",
            what=[
                (labels.get(name, name).capitalize(), _said(before), _said(after))
                for name, (before, after) in (entry.changes_dict or {}).items()
            ],
        )
        for entry in entries
    ]
    return PatientRecord(
        patient=patient,
        cases=cases,
        cement_allergy_cases=[case for case in cases if case.cement_allergy],
        changes=changes,
    )


def _said(value) -> str:
    """A value as the audit log keeps it ("True", "None"), as a person reads it."""
    return {"True": "yes", "False": "no", "None": "", None: ""}.get(value, str(value))


def procedure_type_usual(*, sites) -> ProcedureType | None:
    """The procedure the booking form starts on: the one marked usual, else the one these sites
    book most, else the first bookable one by name (a new unit)."""
    bookable = ProcedureType.objects.filter(active=True, stage_templates__isnull=False).distinct()
    marked = bookable.filter(usual=True).first()
    if marked is not None:
        return marked
    usual = (
        bookable.filter(case__site__in=sites)
        .annotate(booked=Count("case", distinct=True))
        .order_by("-booked", "name")
        .first()
    )
    return usual or bookable.first()
