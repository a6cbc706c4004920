"""What a user may read through the interface: the scheduling app's one rule (visible_sites,
patients_visible) and nothing else, so another site's row is "not found" here as everywhere."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery

from scheduling.models import Case, Patient, Resource, Site, Stage, Surgeon
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
