from datetime import date

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.access import access_record
from notifications.services import reminders_patient_changed

from .. import selectors
from ..errors import SchedulingError
from ..models import NOT_ARRIVED_STATUSES, Channel, Patient, PatientSite, Site


def phone_e164(raw: str, *, field: str) -> str:
    """The number in E.164 form; numbers without a country code are read in PHONE_REGION."""
    try:
        number = phonenumbers.parse(raw, getattr(settings, "PHONE_REGION", "US"))
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise SchedulingError(
            "invalid_phone", f"“{raw}” is not a valid phone number.", field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_check(email: str, *, field: str) -> None:
    try:
        validate_email(email)
    except ValidationError:
        raise SchedulingError(
            "invalid_email", f"“{email}” is not a valid email address.", field=field
        ) from None


# How PostgreSQL (the constraint's name) and SQLite (table.column) name a second patient with
# the same MRN.
MRN_UNIQUE = ("scheduling_patient_mrn", "scheduling_patient.mrn")
EARLIEST_BIRTH = date(1900, 1, 1)
OLDEST_AGE_YEARS = 120


def date_of_birth_check(*, date_of_birth: date, field: str) -> None:
    """A date of birth a patient can have: not in the future, not before 1900 and not more than
    120 years ago (most often a year typed wrong, 1064 for 1964)."""
    today = timezone.localdate()
    if date_of_birth > today:
        raise SchedulingError(
            "date_of_birth_in_future", "The date of birth is in the future.", field=field
        )
    try:
        years_ago = today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February, and that year had none
        years_ago = today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)
    earliest = max(EARLIEST_BIRTH, years_ago)
    if date_of_birth < earliest:
        raise SchedulingError(
            "date_of_birth_too_early",
            f"The date of birth is before {earliest:%-d %B %Y}: no more than {OLDEST_AGE_YEARS} "
            "years ago and not before 1900. Check the year.",
            field=field,
        )


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    mrn: str,
    phone: str = "",
    email: str = "",
    preferred_channel: str = Channel.SMS,
    language: str = "en",
    allergy_contrast: bool = False,
    allergy_latex: bool = False,
    allergy_other: str = "",
    field_prefix: str = "patient.",
) -> Patient:
    date_of_birth_check(date_of_birth=date_of_birth, field=f"{field_prefix}date_of_birth")
    # A patient with no phone and no email can still be booked: the case is flagged
    # "not reachable" and the front desk calls them.
    if phone:
        phone = phone_e164(phone, field=f"{field_prefix}phone")
    if email:
        email_check(email, field=f"{field_prefix}email")
    try:
        return Patient.objects.create(
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            mrn=mrn,
            phone=phone,
            email=email,
            preferred_channel=preferred_channel,
            language=language,
            allergy_contrast=allergy_contrast,
            allergy_latex=allergy_latex,
            allergy_other=allergy_other.strip(),
        )
    except IntegrityError as exc:
        # The unique MRN answers, not a read first (which a second clerk could race). The
        # failed insert spoils the transaction; this error ends it. No id and no name: the
        # patient may belong to a site this user does not work at.
        if not any(name in str(exc) for name in MRN_UNIQUE):
            raise
        raise SchedulingError(
            "patient_exists",
            f"A patient with MRN {mrn} is already registered.",
            field=f"{field_prefix}mrn",
        ) from None


def same_person(patient: Patient, *, mrn: str, date_of_birth: date, last_name: str) -> bool:
    """The proof that the clerk has this patient in front of them: MRN, date of birth and last
    name all match the record (case, accents' letters and outer spaces aside)."""
    return (
        patient.mrn.casefold() == mrn.strip().casefold()
        and patient.date_of_birth == date_of_birth
        and patient.last_name.strip().casefold() == last_name.strip().casefold()
    )


def patient_known_elsewhere(
    *, mrn: str, date_of_birth: date, last_name: str, user
) -> Patient | None:
    """The patient registered under this MRN whom `user` cannot see yet, when the date of birth
    and last name match too; None otherwise. A partial match answers None like no match at all,
    so it says nothing about who holds the MRN."""
    mrn = mrn.strip()
    if not mrn:
        return None
    candidates = Patient.objects.filter(mrn__iexact=mrn).exclude(
        pk__in=selectors.patients_visible(user).values("pk")
    )
    return next(
        (
            patient
            for patient in candidates.order_by("pk")
            if same_person(patient, mrn=mrn, date_of_birth=date_of_birth, last_name=last_name)
        ),
        None,
    )


def patient_site_link(*, patient: Patient, site: Site, by) -> PatientSite:
    """Link a patient known at another site to `site`, so its staff can book and see them; the
    link is recorded as a record access by `by` for that site."""
    link, _ = PatientSite.objects.get_or_create(
        patient=patient, site=site, defaults={"linked_by": by}
    )
    access_record(user=by, what="patient-site-link", patient_id=patient.pk, site_id=site.pk)
    return link


def patient_register(*, site: Site, by, field_prefix: str = "patient.", **registration) -> Patient:
    """A new patient for a booking or a waiting-list entry at `site`. Someone already registered
    under the MRN at another site is linked to `site` instead when the date of birth and last name
    match too; the caller's own patients under the MRN, or a partial match, are a conflict. An
    MRN nobody holds costs one read; one held by someone the user may not see is then refused
    by the insert (the unique constraint), with no id and no name."""
    mrn = registration["mrn"]
    holders = list(Patient.objects.filter(mrn__iexact=mrn.strip()).order_by("pk"))
    visible = set(
        selectors.patients_visible(by)
        .filter(pk__in=[patient.pk for patient in holders])
        .values_list("pk", flat=True)
    ) if holders else set()
    known = next(
        (
            patient
            for patient in holders
            if patient.pk not in visible
            and same_person(
                patient,
                mrn=mrn,
                date_of_birth=registration["date_of_birth"],
                last_name=registration["last_name"],
            )
        ),
        None,
    )
    if known is not None:
        patient_site_link(patient=known, site=site, by=by)
        return known
    mine = next(
        (patient for patient in holders if patient.pk in visible and patient.mrn == mrn), None
    )
    if mine is not None:
        raise SchedulingError(
            "patient_exists",
            f"A patient with MRN {mine.mrn} is already registered (patient_id {mine.pk}); "
            "book with patient_id.",
            field=f"{field_prefix}mrn",
        )
    return patient_create(field_prefix=field_prefix, **registration)


# What reaches the patient: a change of one of these re-plans their unsent messages.
CONTACT_FIELDS = ("phone", "email", "preferred_channel", "language")
EDITABLE_FIELDS = (*CONTACT_FIELDS, "allergy_contrast", "allergy_latex", "allergy_other")
# Who the patient is, as the hospital's record under their MRN says: corrected by the hospital's
# record system (its ADT messages, hl7v2.adt), not on the unit's pages.
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth")


def patient_update(
    *, patient: Patient, by, from_record_system: bool = False, **changes
) -> list[str]:
    """Correct the patient's contact details, language, preferred channel or allergies (only
    the EDITABLE_FIELDS given), and, `from_record_system`, their name and date of birth too.
    Returns the names of the fields that changed. The audit trail records the change with `by`
    (auditlog's actor, from the request); when the way to reach the patient changed, the
    unsent messages of their cases not yet arrived are planned again."""
    allowed = (*EDITABLE_FIELDS, *IDENTITY_FIELDS) if from_record_system else EDITABLE_FIELDS
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    changes = _contact_checked(patient, changes)
    changed = [name for name, value in changes.items() if getattr(patient, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        for name in changed:
            setattr(locked, name, changes[name])
        locked.save(update_fields=changed)
        if set(changed) & set(CONTACT_FIELDS):
            for case in locked.cases.filter(status__in=NOT_ARRIVED_STATUSES).select_for_update():
                case.patient = locked
                reminders_patient_changed(case)
    for name in changed:
        setattr(patient, name, changes[name])
    access_record(user=by, what="patient-update", patient_id=patient.pk)
    return changed


def allergies_add(*, patient: Patient, allergies: dict, by) -> list[str]:
    """Allergies told at a booking for a registered patient: added to their record, never
    taken off (that is done on the patient's page, where the whole record is in view)."""
    merged = {
        "allergy_contrast": patient.allergy_contrast or allergies.get("allergy_contrast", False),
        "allergy_latex": patient.allergy_latex or allergies.get("allergy_latex", False),
    }
    other = allergies.get("allergy_other", "").strip()
    if other and other.casefold() not in patient.allergy_other.casefold():
        merged["allergy_other"] = "; ".join(filter(None, [patient.allergy_other, other]))[:240]
    return patient_update(patient=patient, by=by, **merged)


def _contact_checked(patient: Patient, changes: dict) -> dict:
    """The changes normalised (a phone in E.164, text stripped) and checked together with what
    is kept: messages by email need an email address; a name is not empty and a date of birth
    is one a patient can have."""
    changes = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in changes.items()
    }
    for name in ("first_name", "last_name"):
        if name in changes and not changes[name]:
            raise SchedulingError("invalid", "A patient's name cannot be empty.", field=name)
        if len(changes.get(name, "")) > Patient._meta.get_field(name).max_length:
            raise SchedulingError("invalid", "The name is too long.", field=name)
    if "date_of_birth" in changes:
        date_of_birth_check(date_of_birth=changes["date_of_birth"], field="date_of_birth")
    if changes.get("phone"):
        changes["phone"] = phone_e164(changes["phone"], field="phone")
    if changes.get("email"):
        email_check(changes["email"], field="email")
    if "preferred_channel" in changes and changes["preferred_channel"] not in Channel.values:
        raise SchedulingError(
            "invalid", "Choose text message or email.", field="preferred_channel"
        )
    if "language" in changes and changes["language"] not in dict(settings.LANGUAGES):
        raise SchedulingError(
            "invalid", f"No messages are written in “{changes['language']}”.", field="language"
        )
    channel = changes.get("preferred_channel", patient.preferred_channel)
    email = changes.get("email", patient.email)
    if channel == Channel.EMAIL and not email:
        raise SchedulingError(
            "invalid", "Enter an email address to send messages by email.", field="email"
        )
    return changes
