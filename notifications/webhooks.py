"""Twilio's calls to us: delivery status of what we sent, and SMS that patients and drivers send.

Every request must carry Twilio's signature over the public URL it called and its form fields;
anything else gets 403 and changes nothing. Twilio retries a webhook that does not answer 2xx,
so both views are idempotent. Message bodies and phone numbers are never logged.
"""

import logging
from functools import wraps

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from scheduling.models import RELEASED_STATUSES, Case, Patient, Site
from scheduling.services import case_confirm

from . import rendering
from .dispatch import reminder_delivery_record, sms_opt_in, sms_opt_out
from .models import InboundKind, InboundMessage, ReminderStatus

log = logging.getLogger(__name__)

# Twilio's message statuses, as ours.
TWILIO_STATUSES = {
    "accepted": ReminderStatus.SENT,
    "scheduled": ReminderStatus.SENT,
    "queued": ReminderStatus.SENT,
    "sending": ReminderStatus.SENT,
    "sent": ReminderStatus.SENT,
    "delivered": ReminderStatus.DELIVERED,
    "read": ReminderStatus.DELIVERED,
    "undelivered": ReminderStatus.FAILED,
    "failed": ReminderStatus.FAILED,
}
KEYWORDS = {
    **dict.fromkeys(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"], InboundKind.STOP),
    **dict.fromkeys(["START", "UNSTOP"], InboundKind.START),
    "HELP": InboundKind.HELP,
    **dict.fromkeys(["C", "YES", "CONFIRM"], InboundKind.CONFIRM),
}


def twilio_signed(view):
    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request):
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
        signature = request.headers.get("X-Twilio-Signature", "")
        token = settings.TWILIO_AUTH_TOKEN
        # Without a token anyone could sign with the empty key: then nothing is accepted.
        valid = bool(token and signature) and RequestValidator(token).validate(
            url, request.POST, signature
        )
        if not valid:
            log.warning("twilio webhook %s: missing or bad signature", request.path)
            return HttpResponseForbidden()
        if not well_formed(request.POST.get("MessageSid", ""), max_length=64):
            return HttpResponseBadRequest()
        return view(request)

    return checked


@twilio_signed
def twilio_status(request):
    sid = request.POST["MessageSid"]
    reported = request.POST.get("MessageStatus", "")
    status = TWILIO_STATUSES.get(reported)
    if status is None:
        log.info("twilio status %s: %r ignored", sid, reported)
        return HttpResponse()
    code = request.POST.get("ErrorCode") or "none given"
    reminder = reminder_delivery_record(
        provider_message_id=sid,
        status=status,
        error=f"Twilio could not deliver it ({reported}, error {code}).",
    )
    if reminder is None:
        return HttpResponse()  # unknown, a duplicate or late: still 200, or Twilio retries
    log.info("twilio status %s: reminder %s is %s", sid, reminder.pk, status)
    return HttpResponse()


@twilio_signed
def twilio_inbound(request):
    sid = request.POST["MessageSid"]
    phone = request.POST.get("From", "")
    to_phone = request.POST.get("To", "")
    # PostgreSQL cannot store a NUL byte in text; a patient's message is kept without it.
    body = request.POST.get("Body", "").replace("\x00", "")
    if not well_formed(phone, max_length=20):
        return HttpResponseBadRequest()
    if to_phone and not well_formed(to_phone, max_length=20):
        return HttpResponseBadRequest()
    kind = KEYWORDS.get(first_word(body), InboundKind.OTHER)
    now = timezone.now()
    with transaction.atomic():
        case = next_case(phone, now) if kind == InboundKind.CONFIRM else latest_case(phone)
        if kind == InboundKind.CONFIRM and case is None:
            kind = InboundKind.OTHER  # nothing to confirm: the front desk calls back
        message, created = InboundMessage.objects.get_or_create(
            provider_message_id=sid,
            defaults={
                "from_phone": phone,
                "to_phone": to_phone,
                "body": body,
                "kind": kind,
                "case": case,
                "patient": case.patient if case is not None else sender_patient(phone),
                "site": Site.objects.filter(sms_number=to_phone).first() if to_phone else None,
            },
        )
        if created:
            if kind == InboundKind.STOP:
                sms_opt_out(phone=phone)
            elif kind == InboundKind.START:
                sms_opt_in(phone=phone)
            elif kind == InboundKind.CONFIRM:
                case_confirm(case=case)
    log.info("twilio inbound %s: %s%s", sid, message.kind, "" if created else " (repeated)")
    reply = MessagingResponse()
    if message.kind == InboundKind.HELP:
        reply.message(help_text(message.case))
    return HttpResponse(str(reply), content_type="text/xml")


def well_formed(value: str, *, max_length: int) -> bool:
    """An id or a number fits its column and holds no NUL byte (which PostgreSQL refuses)."""
    return bool(value) and len(value) <= max_length and "\x00" not in value


def first_word(body: str) -> str:
    words = body.strip().upper().split()
    return words[0].strip(".,!?;:") if words else ""


def help_text(case: Case | None) -> str:
    if case is None or not case.site.phone:
        return rendering.sms_text("help_unknown", "en", {})
    language = rendering.language_code(case.patient.language)
    return rendering.sms_text(
        "help", language, {"clinic": case.site.name, "clinic_phone": case.site.phone}
    )


def _active_cases(phone: str):
    if not phone:
        return Case.objects.none()
    return Case.objects.exclude(status__in=RELEASED_STATUSES).select_related("site")


def next_case(phone: str, now) -> Case | None:
    """The patient's earliest upcoming case: the one a "C" reply confirms."""
    return (
        _active_cases(phone)
        .filter(patient__phone=phone, procedure_start__gte=now)
        .order_by("procedure_start")
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


def latest_case(phone: str) -> Case | None:
    """The latest case of the sender, as patient or as driver: whose clinic they are texting."""
    return (
        _active_cases(phone)
        .filter(Q(patient__phone=phone) | Q(driver_phone=phone))
        .order_by("-procedure_start")
        .first()
    )
