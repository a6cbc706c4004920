"""SMS through Twilio's Messaging API. Twilio reports each message's fate to the status webhook
(notifications/webhooks.py) named in `status_callback`."""

from django.conf import settings
from django.urls import reverse
from requests import ReadTimeout, RequestException
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import Backend, DeliveryError, OutgoingMessage

# The twilio client waits forever by default, and a send holds the case's lock.
TIMEOUT_SECONDS = 15
# Twilio error codes about the recipient, said so the front desk knows what to fix.
RECIPIENT_ERRORS = {
    21211: "not a valid phone number",
    21408: "SMS to this country is not enabled",
    21610: "the recipient texted STOP to our number",
    21612: "this number cannot be reached from our number",
    21614: "not a mobile number",
}
# Client errors that another try may fix: a request timeout, throttling.
TRANSIENT_STATUSES = {408, 429}


class TwilioBackend(Backend):
    def __init__(self, *, http_client: HttpClient | None = None) -> None:
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=http_client or TwilioHttpClient(timeout=TIMEOUT_SECONDS),
        )

    def send(self, message: OutgoingMessage) -> str:
        try:
            sent = self.client.messages.create(
                to=message.to,
                from_=settings.TWILIO_FROM_NUMBER,
                body=message.text,
                status_callback=status_callback_url(),
            )
        except ReadTimeout:
            # Twilio got the request but did not answer in time: the message may have gone
            # out, so it is not retried blindly (dispatch records the row as `unknown`).
            raise
        except RequestException as exc:
            raise DeliveryError(f"Twilio could not be reached ({type(exc).__name__}).",
                                permanent=False) from exc
        except TwilioException as exc:
            raise delivery_error(exc) from exc
        return sent.sid


def status_callback_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("twilio-status")


def delivery_error(exc: TwilioException) -> DeliveryError:
    """TwilioRestException and TwilioServiceException (RFC 9457 answers) both carry the HTTP
    status and Twilio's error code; other TwilioExceptions come before any answer."""
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    if not isinstance(status, int):
        return DeliveryError(f"Twilio could not be reached ({type(exc).__name__}).",
                             permanent=False)
    permanent = 400 <= status < 500 and status not in TRANSIENT_STATUSES
    reason = RECIPIENT_ERRORS.get(code) or ("refused the message" if permanent else "failed")
    return DeliveryError(f"Twilio: {reason} (HTTP {status}, error {code}).", permanent=permanent)
