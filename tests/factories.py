"""Test data: model factories for the unit's setup, and cases made through the booking and
tracking services (`case_made`, `case_confirmed`, `case_tracked`, `case_cancelled`), so a test
that needs a case to work on does not depend on the API that books one.

The clock of every test is frozen at NOW: Monday 2 March 2026, 12:00 UTC (07:00 in New York)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.utils import timezone
from factory.django import DjangoModelFactory

from scheduling import bedside, roles, timing
from scheduling.bedside_models import VitalsPhase
from scheduling.models import (
    Case,
    CaseStatus,
    Drug,
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
from scheduling.screening import ScreeningAnswers
from scheduling.services import case_book, case_cancel, case_confirm
from scheduling.services.bedside import (
    case_checklist_get,
    checklist_update,
    discharge_assess,
    vitals_record,
)
from scheduling.services.tracking import (
    STAGE_STATUS,
    case_check_in,
    case_discharge,
    stage_finish,
    stage_start,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TUESDAY = date(2026, 3, 3)

# Screening answers that block nothing: the booking goes ahead without an override.
CLEAR_SCREENING = {
    "active_infection": False,
    "fracture_painful": True,
    "bleeding_disorder": False,
    "tumor_in_canal": False,
    "cement_allergy": False,
    "traumatic": False,
    "conservative_treatment_weeks": 8,
    "imaging_on_file": True,
}


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
        rules = extracted or timing.VERTEBROPLASTY_RULES
        StageTemplate.objects.bulk_create(StageTemplate.from_rules(procedure_type, rules))


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


def build_unit(*, rooms=2, pre_op_bays=2, recovery_bays=3, surgeons=1, **site_kwargs):
    """A site with its rooms and bays, its surgeons, and the vertebroplasty procedure type."""
    site = SiteFactory(**site_kwargs)
    for kind, prefix, count in [
        (ResourceKind.PROCEDURE_ROOM, "Room", rooms),
        (ResourceKind.PRE_OP_BAY, "Pre-op", pre_op_bays),
        (ResourceKind.RECOVERY_BAY, "Recovery", recovery_bays),
    ]:
        for number in range(1, count + 1):
            ResourceFactory(site=site, kind=kind, name=f"{prefix} {number}")
    for _ in range(surgeons):
        SurgeonFactory(sites=[site])
    ProcedureTypeFactory()
    return site

# The patient the booking form's examples name; each case_made gives them a new MRN.
BOOKING_FORM_PATIENT = {
    "first_name": "Margaret",
    "last_name": "Whitfield",
    "date_of_birth": date(1948, 5, 17),
    "phone": "+12125550100",
    "email": "m.whitfield@example.org",
}


def case_made(
    *,
    site: Site,
    start: datetime | str | None = None,
    day: date | None = None,
    patient: Patient | dict | None = None,
    surgeon: Surgeon | None = None,
    levels: int = 1,
    by: AbstractBaseUser | None = None,
    procedure_type: str = "vertebroplasty",
    screening: dict | None = None,
    medications: Sequence[str | Drug] = (),
    driver_name: str = "Tom Whitfield",
    driver_phone: str | None = None,
    **overrides,
) -> Case:
    """A case booked through `case_book`, as a clerk books it: at `start` (an aware datetime or
    ISO text with its offset), else at the earliest free start on `day` (Tuesday unless given).

    Unless told otherwise: a new patient, Margaret Whitfield, under a new MRN (`patient={...}`
    changes single fields, or give a Patient), a new front-desk clerk of the site, one level of
    vertebroplasty, clear screening (`screening={...}` changes single answers), no held drugs
    (`medications` by code or Drug) and an adult driver, Tom Whitfield on +12125550101
    (`driver_name=""` books with no driver, as a clerk may before one is known). `overrides` go
    to `case_book` as they are (`override_reason=...`). The case comes back read afresh from the
    database, its reminders planned as booking plans them."""
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if day is None:
        day = timing.local_day(start, site.zone) if start is not None else TUESDAY
    if not isinstance(patient, Patient):
        patient = PatientFactory(**(BOOKING_FORM_PATIENT | (patient or {})))
    if driver_phone is None:
        driver_phone = "+12125550101" if driver_name else ""
    drugs = [
        drug if isinstance(drug, Drug) else Drug.objects.get(code=drug) for drug in medications
    ]
    case = case_book(
        site=site,
        procedure_type=ProcedureType.objects.get(code=procedure_type),
        levels=levels,
        day=day,
        start=start,
        patient=patient,
        screening=ScreeningAnswers(**(CLEAR_SCREENING | (screening or {}))),
        surgeon=surgeon,
        medications=drugs,
        driver_name=driver_name,
        driver_phone=driver_phone,
        booked_by=by or UserFactory(roles=[roles.FRONT_DESK], sites=[site]),
        **overrides,
    )
    return Case.objects.get(pk=case.pk)


def case_confirmed(**made) -> Case:
    """A case made by `case_made(**made)` that its patient has confirmed."""
    case = case_made(**made)
    case_confirm(case=case)
    return Case.objects.get(pk=case.pk)


def case_cancelled(*, reason: str = "Unwell.", **made) -> Case:
    """A case made by `case_made(**made)` and cancelled by the clerk who booked it."""
    case = case_made(**made)
    case_cancel(case=case, reason=reason, by=case.booked_by)
    return Case.objects.get(pk=case.pk)


# The steps of the day in order, each named by the status the case has once it is taken.
TRACKED_STATUSES = (
    CaseStatus.CHECKED_IN,
    *STAGE_STATUS.values(),
    CaseStatus.DISCHARGED,
)


# Vitals of a well patient, and a full modified Aldrete score.
GOOD_VITALS = {"systolic": 128, "diastolic": 78, "heart_rate": 72, "spo2": 97, "resp_rate": 14}
FULL_SCORE = dict.fromkeys(bedside.ALDRETE_ITEMS, 2)
# A test's steps all happen at one clock, so no stage lasts its minimum.
ONE_CLOCK = "All steps taken at one instant by the test's clock."


def case_ready_for_procedure(case: Case, *, nurse: AbstractBaseUser) -> None:
    """The case's pre-op checklist made complete the way a nurse does it: each item ticked,
    pre-op vitals recorded and, when asked, an INR under the limit."""
    vitals_record(case=case, phase=VitalsPhase.PRE_OP, values=GOOD_VITALS, by=nurse)
    items = case_checklist_get(case=case).items
    ticks = {item.code: True for item in items if item.code not in bedside.AUTOMATIC_ITEMS}
    inr = {"inr": Decimal("1.1")} if any(item.code == bedside.INR for item in items) else {}
    checklist_update(case=case, by=nurse, ticks=ticks, **inr)


def case_ready_for_discharge(case: Case, *, nurse: AbstractBaseUser) -> None:
    """All discharge criteria met but the recovery's minimum, which takes the clock's time:
    recovery vitals, a full Aldrete score, the driver present."""
    vitals_record(case=case, phase=VitalsPhase.RECOVERY, values=GOOD_VITALS, by=nurse)
    discharge_assess(case=case, scores=FULL_SCORE, by=nurse)
    checklist_update(case=case, by=nurse, driver_present=True)


def case_tracked(
    *, through: str, nurse: AbstractBaseUser | None = None, **made
) -> Case:
    """A case made by `case_made(**made)` and moved by a nurse through the tracking services
    until its status is `through`: checked in, then each stage started (and, to go on, finished)
    in order, then discharged. A case is checked in only on its day, so unless `start` or `day`
    is given it is booked for today at the site; every step is taken at the test's clock, so the
    nurse completes the checklist before the procedure, finishes the cement set early with a
    reason, and a clinician discharges with a reason (recovery cannot last its minimum)."""
    if through not in TRACKED_STATUSES:
        raise ValueError(f"{through} is not one of {', '.join(TRACKED_STATUSES)}")
    site = made["site"]
    if made.get("start") is None and made.get("day") is None:
        made["day"] = timing.local_day(timezone.now(), site.zone)
    case = case_made(**made)
    nurse = nurse or UserFactory(roles=[roles.NURSE], sites=[site])
    case_check_in(case=case, by=nurse)
    if through != CaseStatus.CHECKED_IN:
        for stage in case.stages.order_by("position"):
            if stage.kind == StageKind.PROCEDURE:
                case_ready_for_procedure(case, nurse=nurse)
            stage_start(case=case, kind=stage.kind, by=nurse)
            if STAGE_STATUS[stage.kind] == through:
                break
            if stage.kind == StageKind.RECOVERY:
                break
            stage_finish(case=case, kind=stage.kind, by=nurse, early_reason=ONE_CLOCK)
        if through == CaseStatus.DISCHARGED:
            case_ready_for_discharge(case, nurse=nurse)
            clinician = UserFactory(roles=[roles.CLINICIAN], sites=[site])
            case_discharge(case=case, by=clinician, override_reason=ONE_CLOCK)
    return Case.objects.get(pk=case.pk)


def cases_in_bulk(*, site: Site, procedure_type, count: int, name: str, **patient) -> list[Case]:
    """`count` (under 10,000) one-level cases on TUESDAY at 10:00 New York, for new patients
    (surname `name` with a number, each with an MRN and a real mobile number of their own;
    `patient` on top), written in two
    inserts with no stages or messages: rows for an outbox's sender to work through, made
    quicker than bookings are."""
    patients = Patient.objects.bulk_create(
        Patient(first_name="Ada", last_name=f"{name}{n}", date_of_birth=date(1948, 5, 17),
                mrn=f"{name[:3].upper()}{n:07d}", phone=f"+1212555{n:04d}", language="en",
                **patient)
        for n in range(count)
    )
    start = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    return Case.objects.bulk_create(
        Case(site=site, patient=each, procedure_type=procedure_type, levels=1,
             day=start.date(), arrival_at=start - timedelta(minutes=90), procedure_start=start,
             fasting_solids_until=start - timedelta(hours=8),
             fasting_clear_liquids_until=start - timedelta(hours=2), **CLEAR_SCREENING)
        for each in patients
    )
