"""Reads shared by the API and the pages; each loads what its page needs in a fixed number of
queries, whatever the number of cases."""

from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from notifications.models import case_not_reached

from .errors import SchedulingError
from .models import (
    Case,
    CaseEvent,
    CaseMedication,
    CaseStatus,
    Drug,
    Patient,
    PatientSite,
    ProcedureType,
    Site,
    Stage,
    StageTemplate,
    Surgeon,
    WaitingListEntry,
)
from .slots import DayBook, Slot

MAX_ID = 2**63 - 1


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
    site = visible_sites(user).filter(code=code).first()
    if site is None:
        raise SchedulingError("unknown_site", f"No site has the code “{code}”.", field="site")
    return site


def procedure_type_get(code: str) -> ProcedureType:
    procedure_type = (
        ProcedureType.objects.filter(code=code, active=True, stage_templates__isnull=False)
        .distinct()
        .prefetch_related(Prefetch("stage_templates", StageTemplate.objects.order_by("position")))
        .first()
    )
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
    ).annotate(not_reached=case_not_reached()).prefetch_related(
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
