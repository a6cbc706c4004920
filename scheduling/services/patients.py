from datetime import date

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from ..errors import SchedulingError
from ..models import Channel, Patient


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
    field_prefix: str = "patient.",
) -> Patient:
    if date_of_birth > timezone.localdate():
        raise SchedulingError(
            "date_of_birth_in_future",
            "The date of birth is in the future.",
            field=f"{field_prefix}date_of_birth",
        )
    # A patient with no phone and no email can still be booked: the case is flagged
    # "not reachable" and the front desk calls them.
    if phone:
        phone = phone_e164(phone, field=f"{field_prefix}phone")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise SchedulingError(
                "invalid_email", f"“{email}” is not a valid email address.",
                field=f"{field_prefix}email",
            ) from None
    existing = Patient.objects.filter(mrn=mrn).order_by().values_list("pk", flat=True).first()
    if existing is not None:
        raise SchedulingError(
            "patient_exists",
            f"A patient with MRN {mrn} is already registered (patient_id {existing}).",
            field=f"{field_prefix}mrn",
        )
    return Patient.objects.create(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        mrn=mrn,
        phone=phone,
        email=email,
        preferred_channel=preferred_channel,
        language=language,
    )
