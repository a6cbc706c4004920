"""What a user may read through the interface: the scheduling app's one rule (visible_sites,
patients_visible) and nothing else, so another site's row is "not found" here as everywhere."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from scheduling.models import (
    IN_PROGRESS_STATUSES,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    Patient,
    Resource,
    Site,
    Stage,
    Surgeon,
    WaitingListEntry,
)
from scheduling.selectors import patients_visible, visible_sites


def fhir_patients(*, user) -> QuerySet[Patient]:
    return patients_visible(user).order_by("pk")


def fhir_cases(*, user) -> QuerySet[Case]:
    """The cases of the user's sites with what an Appointment shows, and its start (the first
    stage's) for searching by date, in a fixed number of queries."""
    first_stage = Stage.objects.filter(case=OuterRef("pk")).order_by("position")
    return (
        Case.objects.filter(site__in=visible_sites(user))
        .select_related("procedure_type")
        .prefetch_related(
            Prefetch("stages", Stage.objects.select_related("resource").order_by("position"))
        )
        .annotate(starts_at=Subquery(first_stage.values("planned_start")[:1]))
        .order_by("starts_at", "pk")
    )


def fhir_surgeons(*, user) -> QuerySet[Surgeon]:
    works_here = Surgeon.sites.through.objects.filter(
        surgeon=OuterRef("pk"), site__in=visible_sites(user)
    )
    return Surgeon.objects.filter(Exists(works_here)).order_by("pk")


def fhir_sites(*, user) -> QuerySet[Site]:
    return visible_sites(user).order_by("pk")


def fhir_resources(*, user) -> QuerySet[Resource]:
    return Resource.objects.filter(site__in=visible_sites(user)).order_by("site", "pk")


# A case has an encounter once the patient is in the unit: checked in, on to discharge.
ENCOUNTER_STATUSES = (*IN_PROGRESS_STATUSES, CaseStatus.DISCHARGED)


def fhir_encounters(*, user) -> QuerySet[Case]:
    """The user's sites' cases from check-in on, with their arrival and discharge as recorded
    (the steps not undone: `day_steps`) and when the patient arrived (`arrived_at`, the check-in,
    for searching by date), in a fixed number of queries."""
    steps = CaseEvent.objects.filter(
        action__in=(CaseAction.CHECK_IN, CaseAction.DISCHARGE), undone_at__isnull=True
    ).order_by("at", "pk")
    check_in = steps.filter(case=OuterRef("pk"), action=CaseAction.CHECK_IN)
    return (
        Case.objects.filter(site__in=visible_sites(user), status__in=ENCOUNTER_STATUSES)
        .select_related("procedure_type")
        .prefetch_related(
            Prefetch("stages", Stage.objects.select_related("resource").order_by("position")),
            Prefetch("events", steps, to_attr="day_steps"),
        )
        .annotate(arrived_at=Coalesce(Subquery(check_in.values("at")[:1]), "arrival_at"))
        .order_by("arrived_at", "pk")
    )


def fhir_waiting_entries(*, user) -> QuerySet[WaitingListEntry]:
    """The waiting lists of the user's sites, as the REST API shows them."""
    return (
        WaitingListEntry.objects.filter(site__in=visible_sites(user))
        .select_related("procedure_type")
        .order_by("pk")
    )
