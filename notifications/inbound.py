"""Texts that patients and drivers send us: what kind each is, whose case it belongs to, and what
it does (STOP, START, a confirm). Twilio's webhook calls `inbound_text_record`; anything it cannot
act on waits for the front desk."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduling.models import RELEASED_STATUSES, Case, EventSource, Patient, Site
from scheduling.offers.replies import offer_reply, offer_reply_expected
from scheduling.offers.waves import offers_withdraw
from scheduling.services import case_confirm

from .dispatch import sms_opt_in, sms_opt_out
from .models import InboundKind, InboundMessage
from .pain_replies import pain_reply_record

KEYWORDS = {
    **dict.fromkeys(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"], InboundKind.STOP),
    **dict.fromkeys(["START", "UNSTOP"], InboundKind.START),
    "HELP": InboundKind.HELP,
    **dict.fromkeys(["C", "YES", "CONFIRM"], InboundKind.CONFIRM),
}


def inbound_text_record(
    *,
    provider_message_id: str,
    from_phone: str,
    to_phone: str,
    body: str,
    now: datetime | None = None,
) -> tuple[InboundMessage, bool]:
    """Record a text sent to the site's number `to_phone` (empty when not known) and act on it:
    STOP and START opt the number out and in, a confirm confirms the sender's earliest upcoming
    case. The provider retries, so a message id already recorded comes back as it is, with False,
    and does nothing again."""
    kind = KEYWORDS.get(first_word(body), InboundKind.OTHER)
    now = now or timezone.now()
    with transaction.atomic():
        # A YES or NO from a number with an offer of a freed time answers the offer.
        if kind in (InboundKind.CONFIRM, InboundKind.OTHER) and offer_reply_expected(
            phone=from_phone, body=body, now=now
        ):
            kind = InboundKind.OFFER
        if kind == InboundKind.CONFIRM:
            case = next_case(from_phone, now)
        else:
            case = latest_case(from_phone)
        if kind == InboundKind.CONFIRM and case is None:
            kind = InboundKind.OTHER  # nothing to confirm: the front desk calls back
        message, created = InboundMessage.objects.get_or_create(
            provider_message_id=provider_message_id,
            defaults={
                "from_phone": from_phone,
                "to_phone": to_phone,
                "body": body,
                "kind": kind,
                "case": case,
                "patient": case.patient if case is not None else sender_patient(from_phone),
                "site": Site.objects.filter(sms_number=to_phone).first() if to_phone else None,
            },
        )
        if created:
            if kind == InboundKind.STOP:
                sms_opt_out(phone=from_phone)
                offers_withdraw(phone=from_phone, now=now, outcome="Texted STOP.")
            elif kind == InboundKind.START:
                sms_opt_in(phone=from_phone)
            elif kind == InboundKind.CONFIRM:
                case_confirm(case=case, source=EventSource.PATIENT_SMS)
            elif kind == InboundKind.OFFER:
                # Not stored: the webhook sends it back as its reply.
                message.reply_text = offer_reply(phone=from_phone, body=body, now=now)
            elif kind == InboundKind.OTHER:
                # An answer to a pain ask, if one is open: scored, retried or left for a call.
                pain_reply_record(message=message, now=now)
    return message, created


def first_word(body: str) -> str:
    words = body.strip().upper().split()
    return words[0].strip(".,!?;:") if words else ""


def _active_cases(phone: str):
    if not phone:
        return Case.objects.none()
    return Case.objects.exclude(status__in=RELEASED_STATUSES).select_related("site")


def next_case(phone: str, now: datetime) -> Case | None:
    """The patient's earliest upcoming case: the one a "C" reply confirms."""
    return (
        _active_cases(phone)
        .filter(patient__phone=phone, procedure_start__gte=now)
        .order_by("procedure_start")
        .first()
    )


def latest_case(phone: str) -> Case | None:
    """The latest case of the sender, as patient or as driver: whose clinic they are texting."""
    return (
        _active_cases(phone)
        .filter(Q(patient__phone=phone) | Q(driver_phone=phone))
        .order_by("-procedure_start")
        .first()
    )


def sender_patient(phone: str) -> Patient | None:
    """Whose text it is when it belongs to no active case: the patient with this number, else
    the patient of the latest case this number drove for (cancelled and past cases too)."""
    patient = Patient.objects.filter(phone=phone).order_by("-pk").first()
    if patient is not None:
        return patient
    driven = Case.objects.filter(driver_phone=phone).order_by("-procedure_start").first()
    return driven.patient if driven is not None else None
