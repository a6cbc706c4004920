"""Email through Django's EMAIL_BACKEND (console by default; SMTP or an Anymail provider in
production), as multipart text and HTML with any attachments."""

import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from .base import Backend, DeliveryError, OutgoingMessage


class DjangoEmailBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        message_id = f"<{uuid.uuid4().hex}@vertebro>"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message_id},
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        for name, content, mime in message.attachments:
            email.attach(name, content, mime)
        try:
            email.send(fail_silently=False)
        except (OSError, ValueError) as exc:
            # A refused address is permanent; a connection problem is worth retrying.
            permanent = "recipient" in str(exc).lower() or isinstance(exc, ValueError)
            raise DeliveryError(str(exc), permanent=permanent) from exc
        return message_id
