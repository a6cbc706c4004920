"""Two sites for the site-isolation table (tests/test_site_isolation_table.py): site A ("alpha")
with patients, cases in every state, messages, texts, a waiting list and an audit trail; site B
("bravo") with its own staff in each role and a patient of its own. What site A's patients must
never show to site B is gathered here as needles: distinctive strings, so that finding one in an
answer can only mean a leak."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Q

from audit.access import access_record
from hl7v2 import models as hl7_models
from notifications.dispatch import sms_opt_out
from notifications.models import InboundKind, InboundMessage, Reminder, ReminderStatus
from scheduling import roles, services
from scheduling.models import (
    Case,
    Drug,
    Patient,
    PatientSite,
    ProcedureType,
    Site,
    Stage,
    StageKind,
    WaitingListEntry,
)
from scheduling.plan.waiting import waiting_entry_add
from scheduling.plan_models import PlanRun
from scheduling.services import tracking
from scheduling.services.closures import closure_create
from tests.conftest import CLEAR_SCREENING, NOW, build_unit
from tests.factories import PatientFactory, ProcedureTypeFactory, UserFactory, case_made

MONDAY = NOW.date()  # today: 07:00 in New York
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)

# Patient ids far above what the sequence hands out in a test run, so that "patient 80417" in an
# answer can only be site A's patient.
ZEBULON_ID = 80417
OTTOLINE_ID = 80459
INBOUND_MARKER = "INBOUND-A-"
UNKNOWN_SENDER = "+16465550166"
SHARED_NUMBER = "+15005550006"  # a number no site has as its own
# The apps a unit manager configures in the Django admin; the rest (users, tokens, lockouts) stay
# with superusers.
MANAGED_APPS = ("scheduling", "notifications", "audit", "auditlog", "hl7v2")


@dataclass
class World:
    alpha: Site
    bravo: Site
    patients_a: list[Patient]
    # Today's (checked in, in pre-op), Tuesday's (booked), Wednesday's (cancelled).
    cases_a: list[Case]
    inbound_a: list[InboundMessage]
    waiting_a: list[WaitingListEntry]
    surgeon_a: str
    a: dict  # site A's objects by kind (objects_of): what an address may name
    b: dict  # site B's own, which B's staff may open
    staff_b: dict  # role -> user working at bravo only; the admin is also is_staff
    staff_a_all: object  # every role at alpha, is_staff: the control that the table hits real data
    rows_a: dict = field(default_factory=dict)  # model -> pks created for site A
    rows_b: dict = field(default_factory=dict)
    needles: dict = field(default_factory=dict)  # what is shown -> the forms it may take
    tokens: dict = field(default_factory=dict)  # role -> API token of site B's member of staff

    @property
    def patient_ids_a(self) -> list[int]:
        return [patient.pk for patient in self.patients_a]


def objects_of(site, cases, reminders, texts, waiting, closures=(), plans=()) -> dict:
    """A site's objects by the kind of address parameter that names them."""
    return {
        "code": [site.code], "day": [TUESDAY.isoformat()],
        "cases": [case.pk for case in cases],
        "patients": sorted({case.patient_id for case in cases} | {e.patient_id for e in waiting}),
        "messages": [reminder.pk for reminder in reminders],
        "texts": [text.pk for text in texts],
        "waiting": [entry.pk for entry in waiting],
        "closures": [closure.pk for closure in closures],
        "plans": [plan.pk for plan in plans],
    }


def _user(username, *user_roles, site, staff=False):
    user = UserFactory(username=username, roles=list(user_roles))
    user.sites.set([site])
    if staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
        )
    return user


def _rows() -> dict:
    return {
        model: set(model._default_manager.values_list("pk", flat=True))
        for model in admin.site._registry
    }


def _since(before: dict) -> dict:
    return {model: sorted(pks - before[model]) for model, pks in _rows().items()}


def _hl7_rows(case, patient, site_letter: str) -> None:
    control_id = f"ISO-{site_letter}-1"
    hl7_models.OutboundMessage.objects.create(
        case=case, site=case.site, endpoint="isolation", trigger=hl7_models.SiuTrigger.BOOKED,
        sequence=1, control_id=control_id, status=hl7_models.OutboundStatus.FAILED, due_at=NOW,
        body=f"MSH|^~\\&|VERTEBRO|SPINE_UNIT|ENGINE|HOSPITAL|20260303||SIU^S12|{control_id}|P|"
        f"2.5.1\rPID|1||{patient.mrn}||{patient.last_name}^{patient.first_name}\r",
        ack_code="AE", ack_text=f"No such patient {patient.last_name}",
    )
    hl7_models.InboundMessage.objects.create(
        message_type="ADT^A08", control_id=f"ADT-{site_letter}-1",
        status=hl7_models.InboundStatus.APPLIED, patient=patient,
    )


def world_build() -> World:
    ProcedureTypeFactory()
    vertebroplasty = ProcedureType.objects.get(code="vertebroplasty")
    warfarin = Drug.objects.get(code="warfarin")
    start = _rows()

    alpha = build_unit(code="alpha", name="Alpha Spine Center", sms_number="+12125550111")
    clerk_a = _user("alpha-front-desk", roles.FRONT_DESK, site=alpha)
    nurse_a = _user("alpha-nurse", roles.NURSE, site=alpha)
    staff_a_all = _user("alpha-everything", *roles.ALL_ROLES, site=alpha, staff=True)
    zebulon = PatientFactory(
        id=ZEBULON_ID, first_name="Zebulon", last_name="Quixtanova", mrn="MRN-A-7731",
        date_of_birth=date(1939, 7, 23), phone="+16465550177",
        email="zebulon.q@alpha-patients.example",
    )
    ottoline = PatientFactory(
        id=OTTOLINE_ID, first_name="Ottoline", last_name="Brackwater", mrn="MRN-A-5519",
        date_of_birth=date(1944, 11, 9), phone="+16465550133",
        email="ottoline.b@alpha-patients.example",
    )

    def book(day):
        return case_made(
            site=alpha, day=day, patient=zebulon, by=clerk_a, medications=[warfarin],
            driver_name="Isolde Fairweather-Vane", driver_phone="+16465550188",
        )

    today = book(MONDAY)
    tracking.case_check_in(case=today, by=nurse_a)
    tracking.stage_start(case=today, kind=StageKind.PRE_OP, by=nurse_a)
    booked = book(TUESDAY)
    cancelled = services.case_cancel(case=book(WEDNESDAY), reason="Unwell", by=clerk_a)
    failed = booked.reminders.order_by("pk").first()
    Reminder.objects.filter(pk=failed.pk).update(
        status=ReminderStatus.FAILED, failed_at=NOW, error="Unreachable handset"
    )
    waiting = waiting_entry_add(
        site=alpha, patient=ottoline, procedure_type=vertebroplasty, levels=1,
        earliest_date=TUESDAY, latest_date=TUESDAY + timedelta(days=14), created_by=clerk_a,
        priority="urgent", screening=dict(CLEAR_SCREENING), driver_name="Isolde Fairweather-Vane",
        note="Prefers mornings",
    )
    # Texts as the Twilio webhook files them: about a case, from a patient with no case to
    # hand, from an unknown number to alpha's own number, and to a number the sites share.
    inbound = [
        InboundMessage.objects.create(
            from_phone=zebulon.phone, to_phone=alpha.sms_number, kind=InboundKind.OTHER,
            body=f"{INBOUND_MARKER}1 can I eat before?", case=booked, patient=zebulon,
            site=alpha, provider_message_id="SM-A-1",
        ),
        InboundMessage.objects.create(
            from_phone=ottoline.phone, to_phone=alpha.sms_number, kind=InboundKind.OTHER,
            body=f"{INBOUND_MARKER}2 when is my turn?", patient=ottoline, site=alpha,
            provider_message_id="SM-A-2",
        ),
        InboundMessage.objects.create(
            from_phone=UNKNOWN_SENDER, to_phone=alpha.sms_number, kind=InboundKind.OTHER,
            body=f"{INBOUND_MARKER}3 this is her daughter", site=alpha,
            provider_message_id="SM-A-3",
        ),
        InboundMessage.objects.create(
            from_phone=UNKNOWN_SENDER, to_phone=SHARED_NUMBER, kind=InboundKind.OTHER,
            body=f"{INBOUND_MARKER}4 who is this?", provider_message_id="SM-A-4",
        ),
    ]
    # The driver texted STOP: the opt-out list holds a number of site A's case.
    sms_opt_out(phone="+16465550188")
    closure_a, _ = closure_create(
        site=alpha, start_date=date(2026, 12, 25), end_date=date(2026, 12, 25),
        reason="Christmas Day", created_by=clerk_a,
    )
    access_record(user=clerk_a, what="case-detail", patient_id=zebulon.pk, case_id=booked.pk,
                  site_id=alpha.pk)
    # The hospital's side: an SIU message naming the patient that the peer refused, and an ADT
    # update applied to her.
    _hl7_rows(booked, zebulon, "A")
    rows_a = _since(start)

    middle = _rows()
    bravo = build_unit(code="bravo", name="Bravo Spine Center", sms_number="+12125550122")
    staff_b = {
        role: _user(f"bravo-{role}", role, site=bravo, staff=role == roles.ADMIN)
        for role in roles.ALL_ROLES
    }
    bertram = PatientFactory(first_name="Bertram", last_name="Plainfield", mrn="MRN-B-1001")

    def book_b(day):
        return case_made(
            site=bravo, day=day, patient=bertram, by=staff_b[roles.FRONT_DESK], driver_name=""
        )

    booked_b = book_b(TUESDAY)
    cancelled_b = services.case_cancel(
        case=book_b(WEDNESDAY), reason="Unwell", by=staff_b[roles.FRONT_DESK]
    )
    waiting_b = waiting_entry_add(
        site=bravo, patient=bertram, procedure_type=vertebroplasty, levels=1,
        earliest_date=TUESDAY, latest_date=TUESDAY + timedelta(days=14),
        created_by=staff_b[roles.FRONT_DESK],
    )
    closure_b, _ = closure_create(
        site=bravo, start_date=date(2026, 12, 25), end_date=date(2026, 12, 25),
        reason="Christmas Day", created_by=staff_b[roles.FRONT_DESK],
    )
    text_b = InboundMessage.objects.create(
        from_phone=bertram.phone, to_phone=bravo.sms_number, kind=InboundKind.OTHER,
        body="Running late", case=booked_b, patient=bertram, site=bravo,
        provider_message_id="SM-B-1",
    )
    _hl7_rows(booked_b, bertram, "B")
    world = World(
        alpha=alpha, bravo=bravo, patients_a=[zebulon, ottoline],
        cases_a=[today, booked, cancelled], inbound_a=inbound,
        waiting_a=[waiting], surgeon_a=today.surgeon.code, staff_b=staff_b,
        a=objects_of(alpha, [today, booked, cancelled], [failed], inbound, [waiting],
                     [closure_a], [PlanRun.objects.create(site=alpha, day=TUESDAY)]),
        b=objects_of(bravo, [booked_b, cancelled_b], [booked_b.reminders.order_by("pk").first()],
                     [text_b], [waiting_b], [closure_b],
                     [PlanRun.objects.create(site=bravo, day=TUESDAY)]),
        staff_a_all=staff_a_all, rows_a=rows_a, rows_b=_since(middle),
    )
    world.needles = needles_of(world)
    return world


def _phone_forms(e164: str) -> list[str]:
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    digits = str(number.national_number)
    return [e164, national, international, digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            f"{digits[:3]} {digits[3:6]} {digits[6:]}"]


def _date_forms(day: date) -> list[str]:
    return [day.isoformat(), f"{day:%m/%d/%Y}", f"{day:%d/%m/%Y}",
            *(f"{month} {day.day}, {day.year}" for month in (f"{day:%B}", f"{day:%b}")),
            *(f"{day.day} {month} {day.year}" for month in (f"{day:%B}", f"{day:%b}"))]


def needles_of(world: World) -> dict[str, list[str]]:
    """Each detail of site A's patients that site B must never see, with the forms it is shown
    in (a date of birth as 1939-07-23 or July 23, 1939; a phone in E.164 or national form)."""
    needles = {}
    for patient in world.patients_a:
        who = patient.first_name
        needles[f"{who}'s first name"] = [patient.first_name]
        needles[f"{who}'s last name"] = [patient.last_name]
        needles[f"{who}'s MRN"] = [patient.mrn]
        needles[f"{who}'s phone"] = _phone_forms(patient.phone)
        needles[f"{who}'s email"] = [patient.email]
        needles[f"{who}'s date of birth"] = _date_forms(patient.date_of_birth)
    case = world.cases_a[0]
    needles["the driver's name"] = [case.driver_name]
    needles["the driver's phone"] = _phone_forms(case.driver_phone)
    needles["a text that is not theirs to read"] = [INBOUND_MARKER]
    needles["the unknown number that texted site A"] = _phone_forms(UNKNOWN_SENDER)
    return needles


def leaks_in(text: str, sent: str, world: World) -> list[str]:
    """What of site A's patients `text` shows. A detail the request itself carried (an MRN typed
    into a search, echoed in "no patient of your sites has the MRN ...") is not a leak; its
    patient's other details still are."""
    text, sent = text.lower(), sent.lower()
    found = []
    for label, forms in world.needles.items():
        if any(form.lower() in sent for form in forms):
            continue
        shown = next((form for form in forms if form.lower() in text), None)
        if shown is not None:
            found.append(f"{label} ({shown})")
    for pk in world.patient_ids_a:
        if str(pk) in sent:
            continue  # the caller compares the answer with the one for an unknown id
        named = re.search(rf"\bpatients?\W{{0,6}}(?:_?id\W{{0,4}})?{pk}\b", text)
        if named:
            found.append(f"site A's patient's internal id ({named.group(0)})")
    return found


def site_a_state(world: World) -> dict:
    """Everything a member of site B must not change: site A's cases, stages, messages, texts,
    waiting list and patients, and any case, entry or link made for site A's patients."""
    alpha, pids = world.alpha, world.patient_ids_a
    return {
        "cases": list(
            Case.objects.filter(Q(site=alpha) | Q(patient__in=pids)).order_by("pk").values_list(
                "pk", "site_id", "patient_id", "status", "day", "procedure_start",
                "plan_version", "driver_name", "driver_phone", "confirmed_at", "cancelled_at",
                "family_code", "link_nonce", "unit_called_at", "screening_override_reason",
            )
        ),
        "stages": list(
            Stage.objects.filter(case__site=alpha).order_by("pk").values_list(
                "pk", "resource_id", "planned_start", "actual_start", "actual_end", "active"
            )
        ),
        "messages": list(
            Reminder.objects.filter(Q(case__site=alpha) | Q(case__patient__in=pids))
            .order_by("pk").values_list("pk", "status", "due_at", "plan_version", "handled_at")
        ),
        "texts": list(
            InboundMessage.objects.filter(pk__in=[m.pk for m in world.inbound_a])
            .order_by("pk").values_list("pk", "handled_at", "case_id")
        ),
        "waiting list": list(
            WaitingListEntry.objects.filter(Q(site=alpha) | Q(patient__in=pids))
            .order_by("pk").values_list(
                "pk", "site_id", "patient_id", "status", "priority", "levels", "earliest_date",
                "latest_date", "note", "case_id",
            )
        ),
        "patients": list(
            Patient.objects.filter(pk__in=pids).order_by("pk").values_list(
                "pk", "first_name", "last_name", "date_of_birth", "mrn", "phone", "email",
                "preferred_channel",
            )
        ),
        "patient links": list(
            PatientSite.objects.filter(patient__in=pids).order_by("pk")
            .values_list("patient_id", "site_id")
        ),
        "site": list(Site.objects.filter(pk=alpha.pk).values_list("family_board_token")),
    }
