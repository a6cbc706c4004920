from datetime import date, time

import factory
from django.contrib.auth.models import Group, User
from factory.django import DjangoModelFactory

from scheduling.models import (
    OpeningHours,
    Patient,
    PatientSite,
    ProcedureType,
    Resource,
    ResourceKind,
    Site,
    StageKind,
    StageTemplate,
    Surgeon,
    SurgeonHours,
)


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = "main"
    name = "Riverside Spine Center"
    time_zone = "America/New_York"
    phone = "+12125550142"

    @factory.post_generation
    def hours(site, create, extracted, **kwargs):
        """Open Monday to Friday 07:00-18:00 unless `hours={weekday: (opens, closes)}` is given."""
        weekly = extracted or {day: (time(7), time(18)) for day in range(5)}
        for weekday, (opens, closes) in weekly.items():
            OpeningHours.objects.create(site=site, weekday=weekday, opens=opens, closes=closes)


class ResourceFactory(DjangoModelFactory):
    class Meta:
        model = Resource

    site = factory.SubFactory(SiteFactory)
    kind = ResourceKind.PROCEDURE_ROOM
    name = factory.Sequence(lambda n: f"Resource {n}")


class SurgeonFactory(DjangoModelFactory):
    class Meta:
        model = Surgeon
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Dr Surgeon {n}")
    code = factory.Sequence(lambda n: f"surgeon-{n}")

    @factory.post_generation
    def sites(surgeon, create, extracted, **kwargs):
        for site in extracted or []:
            surgeon.sites.add(site)

    @factory.post_generation
    def hours(surgeon, create, extracted, **kwargs):
        weekly = extracted or {day: (time(7), time(18)) for day in range(7)}
        for weekday, (opens, closes) in weekly.items():
            SurgeonHours.objects.create(
                surgeon=surgeon, weekday=weekday, opens=opens, closes=closes
            )


# The default vertebroplasty day: kind, resource kind, base, per extra level, surgeon, turnover.
VERTEBROPLASTY_STAGES = [
    (StageKind.PRE_OP, ResourceKind.PRE_OP_BAY, 60, 0, False, 0),
    (StageKind.PROCEDURE, ResourceKind.PROCEDURE_ROOM, 60, 30, True, 15),
    (StageKind.CEMENT_SET, ResourceKind.PROCEDURE_ROOM, 60, 0, False, 0),
    (StageKind.RECOVERY, ResourceKind.RECOVERY_BAY, 120, 0, False, 0),
]


class ProcedureTypeFactory(DjangoModelFactory):
    class Meta:
        model = ProcedureType
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = "vertebroplasty"
    name = "Vertebroplasty"
    max_levels = 3

    @factory.post_generation
    def stages(procedure_type, create, extracted, **kwargs):
        if procedure_type.stage_templates.exists():
            return  # an existing type fetched again by code
        for position, (kind, resource_kind, base, per_level, surgeon, turnover) in enumerate(
            extracted or VERTEBROPLASTY_STAGES
        ):
            StageTemplate.objects.create(
                procedure_type=procedure_type,
                position=position,
                kind=kind,
                resource_kind=resource_kind,
                base_minutes=base,
                minutes_per_extra_level=per_level,
                needs_surgeon=surgeon,
                turnover_minutes=turnover,
            )


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    first_name = "Margaret"
    last_name = factory.Sequence(lambda n: f"Patient{n}")
    date_of_birth = date(1948, 5, 17)
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    phone = "+12125550100"
    email = factory.Sequence(lambda n: f"patient{n}@example.org")

    @factory.post_generation
    def known_at(self, create, sites, **kwargs):
        """PatientFactory(known_at=[site, ...]): the patient is one of those sites' patients
        (staff of a site see only its patients) without a case there."""
        if create and sites:
            for site in sites:
                PatientSite.objects.create(patient=self, site=site)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        for role in extracted or []:
            user.groups.add(Group.objects.get(name=role))

    @factory.post_generation
    def sites(user, create, extracted, **kwargs):
        """UserFactory(sites=[site, ...]): the sites this member of staff works at."""
        for site in extracted or []:
            site.staff.add(user)
