"""Twilio's calls to us: delivery status of what we sent, and SMS that patients and drivers send.

Every request must carry Twilio's signature over the public URL it called and its form fields;
anything else gets 403 and changes nothing. Twilio retries a webhook that does not answer 2xx,
so both views are idempotent. Message bodies and phone numbers are never logged.
"""

import logging
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from scheduling.models import Case

from . import rendering
from .dispatch import reminder_delivery_record
from .inbound import inbound_text_record
from .models import InboundKind, ReminderStatus
from .pain_replies import pain_reply_text

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
    message, created = inbound_text_record(
        provider_message_id=sid, from_phone=phone, to_phone=to_phone, body=body
    )
    log.info("twilio inbound %s: %s%s", sid, message.kind, "" if created else " (repeated)")
    reply = MessagingResponse()
    if message.kind == InboundKind.HELP:
        reply.message(help_text(message.case))
    elif getattr(message, "reply_text", ""):  # an answer to an offer
        reply.message(message.reply_text)
    elif (pain_reply := pain_reply_text(message)) is not None:
        reply.message(pain_reply)
    return HttpResponse(str(reply), content_type="text/xml")


def well_formed(value: str, *, max_length: int) -> bool:
    """An id or a number fits its column and holds no NUL byte (which PostgreSQL refuses)."""
    return bool(value) and len(value) <= max_length and "\x00" not in value


def help_text(case: Case | None) -> str:
    if case is None or not case.site.phone:
        return rendering.sms_text("help_unknown", "en", {})
    language = rendering.language_code(case.patient.language)
    return rendering.sms_text(
        "help", language, {"clinic": case.site.name, "clinic_phone": case.site.phone}
    )
